// Decoders for TQ1_0, TQ2_0, Q1_0, Q2_0.
#include "decode_kernel.cuh"
#include "formats/ternary.h"

namespace gguftk::cuda {
using namespace formats;
template cudaError_t launch_decode<TQ1_0>(const DecodeLaunch&);
template cudaError_t launch_decode<TQ2_0>(const DecodeLaunch&);
template cudaError_t launch_decode<Q1_0>(const DecodeLaunch&);
template cudaError_t launch_decode<Q2_0>(const DecodeLaunch&);
}  // namespace gguftk::cuda
