// From a runtime type id to the kernel of its format, family by family of formats::AllFamilies.
#include "cuda_decode.h"

#include "formats/all.h"
#include "launch.h"

namespace gguftk::cuda {
namespace {

template <class... Family>
cudaError_t launch_any(formats::FamilyList<Family...>, GgmlType t, const DecodeLaunch& a) {
    cudaError_t e = cudaErrorInvalidValue;  // a type with no decoder (the integer types)
    (launch_family<Family>(t, a, &e) || ...);
    return e;
}

}  // namespace

cudaError_t decode_blocks_async(GgmlType t, const void* src, uint64_t n_blocks, OutType out, void* dst,
                                cudaStream_t stream) {
    const DecodeLaunch a{static_cast<const uint8_t*>(src), n_blocks, out, static_cast<uint8_t*>(dst), stream};
    return launch_any(formats::AllFamilies{}, t, a);
}

}  // namespace gguftk::cuda
