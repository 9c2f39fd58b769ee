// Decoders for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1 (one file per family: builds in parallel).
#include "decode_kernel.cuh"
#include "formats/legacy.h"

namespace gguftk::cuda {
using namespace formats;
template cudaError_t launch_decode<Q4_0>(const DecodeLaunch&);
template cudaError_t launch_decode<Q4_1>(const DecodeLaunch&);
template cudaError_t launch_decode<Q5_0>(const DecodeLaunch&);
template cudaError_t launch_decode<Q5_1>(const DecodeLaunch&);
template cudaError_t launch_decode<Q8_0>(const DecodeLaunch&);
template cudaError_t launch_decode<Q8_1>(const DecodeLaunch&);
}  // namespace gguftk::cuda
