// Decoders for the IQ formats. Their lookup tables are tables.h's device copies (global
// memory, a few KiB each, so they stay in L1 once touched).
#include "decode_kernel.cuh"
#include "formats/iquants.h"

namespace gguftk::cuda {
using namespace formats;
template cudaError_t launch_decode<IQ2_XXS>(const DecodeLaunch&);
template cudaError_t launch_decode<IQ2_XS>(const DecodeLaunch&);
template cudaError_t launch_decode<IQ2_S>(const DecodeLaunch&);
template cudaError_t launch_decode<IQ3_XXS>(const DecodeLaunch&);
template cudaError_t launch_decode<IQ3_S>(const DecodeLaunch&);
template cudaError_t launch_decode<IQ1_S>(const DecodeLaunch&);
template cudaError_t launch_decode<IQ1_M>(const DecodeLaunch&);
template cudaError_t launch_decode<IQ4_NL>(const DecodeLaunch&);
template cudaError_t launch_decode<IQ4_XS>(const DecodeLaunch&);
}  // namespace gguftk::cuda
