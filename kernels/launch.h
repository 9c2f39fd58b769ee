#pragma once
// Between the dispatcher (decode.cpp, plain C++) and the kernels (decode_<family>.cu).
#include <cuda_runtime_api.h>

#include <cstdint>

#include "gguftk/decode.h"

namespace gguftk::cuda {

struct DecodeLaunch {
    const uint8_t* src;  // device memory, any alignment
    uint64_t n_blocks;
    OutType out;
    uint8_t* dst;        // device memory, 16-byte aligned
    cudaStream_t stream;
};

// The decoder of format F (decode_kernel.cuh), instantiated once per format in its family's
// .cu file; decode.cpp reaches them through visit_format.
template <class F>
cudaError_t launch_decode(const DecodeLaunch& a);

}  // namespace gguftk::cuda
