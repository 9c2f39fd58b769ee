// Decoders for the IQ formats. Their lookup tables are tables.h's device copies (global
// memory, a few KiB each, so they stay in L1 once touched).
#include "decode_kernel.cuh"
#include "formats/iquants.h"

namespace gguftk::cuda {
template <>
bool launch_family<formats::IQuantFormats>(GgmlType t, const DecodeLaunch& a, cudaError_t* e) {
    return launch_in(formats::IQuantFormats{}, t, a, e);
}
}  // namespace gguftk::cuda
