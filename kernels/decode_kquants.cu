// Decoders for Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K.
#include "decode_kernel.cuh"
#include "formats/kquants.h"

namespace gguftk::cuda {
template <>
bool launch_family<formats::KQuantFormats>(GgmlType t, const DecodeLaunch& a, cudaError_t* e) {
    return launch_in(formats::KQuantFormats{}, t, a, e);
}
}  // namespace gguftk::cuda
