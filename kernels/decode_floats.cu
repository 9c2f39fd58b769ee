// Decoders for the plain float types (converted only with gguf-dequant --all).
#include "decode_kernel.cuh"
#include "formats/floats.h"

namespace gguftk::cuda {
using namespace formats;
template cudaError_t launch_decode<F32>(const DecodeLaunch&);
template cudaError_t launch_decode<F16>(const DecodeLaunch&);
template cudaError_t launch_decode<BF16>(const DecodeLaunch&);
template cudaError_t launch_decode<F64>(const DecodeLaunch&);
}  // namespace gguftk::cuda
