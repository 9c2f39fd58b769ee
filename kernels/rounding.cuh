#pragma once
// Rounding decoded float32 values to the output type on the GPU.
//
// float_bits.h is the definition. Its branch-free bit arithmetic costs some thirty integer
// instructions a value, more than a memory-bound kernel can afford, while the hardware
// conversions (cvt.rn.f16x2.f32, cvt.rn.bf16x2.f32) take one instruction per pair and give the
// same bits for every input but NaN: round to nearest even, overflow to infinity, subnormals
// kept. For NaN the hardware writes a canonical NaN where float_bits.h keeps sign and payload,
// so values that may hold a NaN go through the definition. tests/gpu/test_rounding.cu holds
// both to float_bits.h for all 2^32 floats.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "formats/float_bits.h"

namespace gguftk::cuda {

// Hardware rounding of a pair (lo in the low half): float_bits.h's bits unless one is NaN.
__device__ __forceinline__ uint32_t f16_pair_no_nan(float lo, float hi) {
    const __half2 h = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&h);
}
__device__ __forceinline__ uint32_t bf16_pair_no_nan(float lo, float hi) {
    const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&h);
}

// Exactly float_bits.h's bits for any pair.
__device__ __forceinline__ uint32_t f16_pair(float lo, float hi) {
    if (lo != lo || hi != hi) [[unlikely]]
        return uint32_t(formats::f32_to_fp16(lo)) | uint32_t(formats::f32_to_fp16(hi)) << 16;
    return f16_pair_no_nan(lo, hi);
}
__device__ __forceinline__ uint32_t bf16_pair(float lo, float hi) {
    if (lo != lo || hi != hi) [[unlikely]]
        return uint32_t(formats::f32_to_bf16(lo)) | uint32_t(formats::f32_to_bf16(hi)) << 16;
    return bf16_pair_no_nan(lo, hi);
}

// Whether all `N` values are finite, for one test per part instead of one per value: their
// pairwise sum is finite when they are (or when it overflows: a false alarm is only slower),
// and NaN or infinity otherwise. Additions use the FMA pipe, which decoding leaves idle.
template <int N>
__device__ __forceinline__ bool all_finite(const float (&y)[N]) {
    float t[N];
#pragma unroll
    for (int i = 0; i < N; ++i) t[i] = y[i];
#pragma unroll
    for (int w = N / 2; w >= 1; w /= 2)
#pragma unroll
        for (int i = 0; i < w; ++i) t[i] = t[i] + t[i + w];
    return fabsf(t[0]) <= 3.402823466e38f;
}

}  // namespace gguftk::cuda
