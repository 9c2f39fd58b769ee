// Decoders for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1 (one file per family: builds in parallel).
#include "decode_kernel.cuh"
#include "formats/legacy.h"

namespace gguftk::cuda {
template <>
bool launch_family<formats::LegacyFormats>(GgmlType t, const DecodeLaunch& a, cudaError_t* e) {
    return launch_in(formats::LegacyFormats{}, t, a, e);
}
}  // namespace gguftk::cuda
