// Decoders for the plain float types (converted only with gguf-dequant --all).
#include "decode_kernel.cuh"
#include "formats/floats.h"

namespace gguftk::cuda {
template <>
bool launch_family<formats::FloatFormats>(GgmlType t, const DecodeLaunch& a, cudaError_t* e) {
    return launch_in(formats::FloatFormats{}, t, a, e);
}
}  // namespace gguftk::cuda
