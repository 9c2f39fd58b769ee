#pragma once
// Rounding decoded float32 values to the output type on the GPU.
//
// float_bits.h is the definition. Its branch-free bit arithmetic costs some thirty integer
// instructions a value, a third of what a memory-bound kernel can afford, while the hardware
// conversions (cvt.rn.f16x2.f32, cvt.rn.bf16x2.f32) take one instruction per pair and give the
// same bits for every non-NaN input: round to nearest even, overflow to infinity, subnormals
// kept. They differ only for NaN (the hardware writes a canonical NaN where float_bits.h keeps
// sign and payload), so a NaN takes the definition. tests/gpu/test_rounding.cu holds these to
// float_bits.h for all 2^32 floats.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "formats/float_bits.h"

namespace gguftk::cuda {

__device__ __forceinline__ uint32_t f16_pair(float lo, float hi) {
    const __half2 h = __floats2half2_rn(lo, hi);  // .x = lo in the low half
    uint32_t bits = *reinterpret_cast<const uint32_t*>(&h);
    if (lo != lo || hi != hi) [[unlikely]]
        bits = uint32_t(formats::f32_to_fp16(lo)) | uint32_t(formats::f32_to_fp16(hi)) << 16;
    return bits;
}

__device__ __forceinline__ uint32_t bf16_pair(float lo, float hi) {
    const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    uint32_t bits = *reinterpret_cast<const uint32_t*>(&h);
    if (lo != lo || hi != hi) [[unlikely]]
        bits = uint32_t(formats::f32_to_bf16(lo)) | uint32_t(formats::f32_to_bf16(hi)) << 16;
    return bits;
}

__device__ __forceinline__ uint16_t f16_one(float v) { return uint16_t(f16_pair(v, 0.0f)); }
__device__ __forceinline__ uint16_t bf16_one(float v) { return uint16_t(bf16_pair(v, 0.0f)); }

}  // namespace gguftk::cuda
