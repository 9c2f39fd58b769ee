#pragma once
// Statistics of decoded values in device memory (the GPU side of gguf-dequant --stats).
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "convert/convert.h"

namespace gguftk::cuda {

// One lane's reducer: a CUB transform-reduce per chunk, enqueued on the lane's stream behind
// the chunk's decoding, its result copied to pinned memory and read once the lane has
// synchronized the stream anyway (for the chunk's output). Its temporary storage is allocated
// once and grown only when a larger chunk needs more, so no call allocates or frees device
// memory on the way (cudaFree synchronizes the whole device, stalling every other lane).
class DeviceStats {
public:
    DeviceStats() = default;
    ~DeviceStats();
    DeviceStats(const DeviceStats&) = delete;
    DeviceStats& operator=(const DeviceStats&) = delete;

    // Enqueues the statistics of `n` values of type `out` at device address `values` on
    // `stream`. Throws Error on a CUDA error.
    void enqueue(OutType out, const void* values, uint64_t n, cudaStream_t stream);
    // TensorStats (convert.h) of the last enqueue's values, once its stream has been synchronized.
    TensorStats result() const;

private:
    void* temp_ = nullptr;
    size_t temp_bytes_ = 0;
    void* d_result_ = nullptr;  // one Partial (stats.cu)
    void* h_result_ = nullptr;  // pinned, the same
};

}  // namespace gguftk::cuda
