// From a runtime type id to the kernel of its format: the same visitor the CPU path uses.
#include "cuda_decode.h"

#include "formats/all.h"
#include "launch.h"

namespace gguftk::cuda {

cudaError_t decode_blocks_async(GgmlType t, const void* src, uint64_t n_blocks, OutType out, void* dst,
                                cudaStream_t stream) {
    const DecodeLaunch a{static_cast<const uint8_t*>(src), n_blocks, out, static_cast<uint8_t*>(dst), stream};
    cudaError_t e = cudaErrorInvalidValue;
    formats::visit_format(t, [&]<class F>() { e = launch_decode<F>(a); });
    return e;
}

}  // namespace gguftk::cuda
