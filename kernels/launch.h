#pragma once
// Between the dispatcher (decode.cpp, plain C++) and the kernels (decode_<family>.cu).
#include <cuda_runtime_api.h>

#include <cstdint>

#include "formats/decode.h"

namespace gguftk::cuda {

struct DecodeLaunch {
    const uint8_t* src;  // device memory, any alignment
    uint64_t n_blocks;
    OutType out;
    uint8_t* dst;        // device memory, 16-byte aligned
    cudaStream_t stream;
};

// The decoders of one family of formats (a FormatList of lib/formats): when `t` is in the
// family, launches its kernel, sets *e to the launch's result and returns true. Each family's
// .cu file defines its own with decode_kernel.cuh's launch_in (its kernels are compiled there);
// decode.cpp asks every family of formats::AllFamilies, so a format added to a family list
// has its kernel, and a family without its .cu file does not link.
template <class Family>
bool launch_family(GgmlType t, const DecodeLaunch& a, cudaError_t* e);

}  // namespace gguftk::cuda
