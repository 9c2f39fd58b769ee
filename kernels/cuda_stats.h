#pragma once
// Statistics of decoded values in device memory (the GPU side of gguf-dequant --stats).
#include <cuda_runtime_api.h>

#include <cstdint>

#include "gguftk/convert.h"

namespace gguftk::cuda {

// TensorStats (convert.h) of `n` values of type `out` at device address `values`, reduced with
// Thrust on `stream`; returns when the result is on the host. Throws Error on a CUDA error.
TensorStats device_stats(OutType out, const void* values, uint64_t n, cudaStream_t stream);

}  // namespace gguftk::cuda
