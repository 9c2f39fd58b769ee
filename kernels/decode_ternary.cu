// Decoders for TQ1_0, TQ2_0, Q1_0, Q2_0.
#include "decode_kernel.cuh"
#include "formats/ternary.h"

namespace gguftk::cuda {
template <>
bool launch_family<formats::TernaryFormats>(GgmlType t, const DecodeLaunch& a, cudaError_t* e) {
    return launch_in(formats::TernaryFormats{}, t, a, e);
}
}  // namespace gguftk::cuda
