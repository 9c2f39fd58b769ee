#pragma once
// The benchmark's own kernels: the copy that sets the ceiling, and filling buffers with noise.
#include <cuda_runtime_api.h>

#include <cstdint>

namespace gguftk::bench {

// Copies `bytes` (a multiple of 16) from `src` to `dst` with 16-byte streaming loads and stores.
cudaError_t copy(const void* src, void* dst, uint64_t bytes, int grid);
// Fills `bytes` (a multiple of 4) with a hash of the index: not zeros, not constant.
cudaError_t fill_random(void* dst, uint64_t bytes, int grid);

}  // namespace gguftk::bench
