#include "bench_kernels.h"

namespace gguftk::bench {
namespace {

__global__ void copy_kernel(const uint4* __restrict__ src, uint4* __restrict__ dst, uint64_t n) {
    const uint64_t stride = uint64_t(gridDim.x) * blockDim.x;
    for (uint64_t i = blockIdx.x * uint64_t(blockDim.x) + threadIdx.x; i < n; i += stride) __stcs(dst + i, __ldcs(src + i));
}

__global__ void fill_kernel(uint32_t* p, uint64_t n) {
    const uint64_t stride = uint64_t(gridDim.x) * blockDim.x;
    for (uint64_t i = blockIdx.x * uint64_t(blockDim.x) + threadIdx.x; i < n; i += stride) {
        uint64_t x = i * 0x9E3779B97F4A7C15ull;
        x ^= x >> 31;
        p[i] = uint32_t(x * 0xBF58476D1CE4E5B9ull >> 32);
    }
}

}  // namespace

cudaError_t copy(const void* src, void* dst, uint64_t bytes, int grid) {
    copy_kernel<<<grid, 256>>>(static_cast<const uint4*>(src), static_cast<uint4*>(dst), bytes / 16);
    return cudaGetLastError();
}

cudaError_t fill_random(void* dst, uint64_t bytes, int grid) {
    fill_kernel<<<grid, 256>>>(static_cast<uint32_t*>(dst), bytes / 4);
    return cudaGetLastError();
}

}  // namespace gguftk::bench
