// Decoders for MXFP4 and NVFP4.
#include "decode_kernel.cuh"
#include "formats/fp4.h"

namespace gguftk::cuda {
using namespace formats;
template cudaError_t launch_decode<MXFP4>(const DecodeLaunch&);
template cudaError_t launch_decode<NVFP4>(const DecodeLaunch&);
}  // namespace gguftk::cuda
