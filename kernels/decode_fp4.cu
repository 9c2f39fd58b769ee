// Decoders for MXFP4 and NVFP4.
#include "decode_kernel.cuh"
#include "formats/fp4.h"

namespace gguftk::cuda {
template <>
bool launch_family<formats::Fp4Formats>(GgmlType t, const DecodeLaunch& a, cudaError_t* e) {
    return launch_in(formats::Fp4Formats{}, t, a, e);
}
}  // namespace gguftk::cuda
