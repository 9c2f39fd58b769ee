#pragma once
// Decoding whole blocks on the GPU, device memory to device memory: the GPU twin of
// gguftk::decode_blocks (same bytes out for the same blocks in, every type and output type).
#include <cuda_runtime_api.h>

#include <cstdint>

#include "formats/decode.h"
#include "formats/types.h"

namespace gguftk::cuda {

// Enqueues the decoding of `n_blocks` blocks of type `t` at `src` into `dst` on `stream`.
// Both pointers are device memory; `dst` aligned to 16 bytes (as cudaMalloc's are), `src` at
// any address (a tensor inside a larger buffer); any number of blocks. Returns
// cudaErrorInvalidValue for a type without a decoder, cudaErrorMisalignedAddress for an
// unaligned `dst`, or the launch's error.
cudaError_t decode_blocks_async(GgmlType t, const void* src, uint64_t n_blocks, OutType out, void* dst,
                                cudaStream_t stream);

}  // namespace gguftk::cuda
