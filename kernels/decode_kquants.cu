// Decoders for Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K.
#include "decode_kernel.cuh"
#include "formats/kquants.h"

namespace gguftk::cuda {
using namespace formats;
template cudaError_t launch_decode<Q2_K>(const DecodeLaunch&);
template cudaError_t launch_decode<Q3_K>(const DecodeLaunch&);
template cudaError_t launch_decode<Q4_K>(const DecodeLaunch&);
template cudaError_t launch_decode<Q5_K>(const DecodeLaunch&);
template cudaError_t launch_decode<Q6_K>(const DecodeLaunch&);
template cudaError_t launch_decode<Q8_K>(const DecodeLaunch&);
}  // namespace gguftk::cuda
