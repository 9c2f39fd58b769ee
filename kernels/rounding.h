#pragma once
// Rounding decoded float32 values to the output type, as the decode kernel does it. Host and
// device: the kernel calls these on the GPU, and the kernel's emulation
// (tests/test_kernel_emulation.cpp) calls the very same functions on the host.
//
// float_bits.h is the definition. Its branch-free bit arithmetic costs some thirty integer
// instructions a value, more than a memory-bound kernel can afford, while the hardware
// conversions (cvt.rn.f16x2.f32, cvt.rn.bf16x2.f32) take one instruction per pair and give the
// same bits for every input but NaN: round to nearest even, overflow to infinity, subnormals
// kept. For NaN the hardware writes the canonical NaN 0x7fff where float_bits.h keeps sign and
// payload, so values that may hold a NaN go through the definition. tests/gpu/test_rounding.cu
// holds the device functions to float_bits.h, and the hardware's NaN to 0x7fff, for all 2^32
// floats.
#include <cstdint>

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#endif

#include "formats/float_bits.h"

namespace gguftk::cuda {

namespace detail {
// What the hardware conversion gives for one value, for the host side of the *_no_nan pairs:
// float_bits.h's bits, and the canonical NaN for any NaN. Modelling the NaN too (rather than
// returning the definition's bits) means that a NaN the kernel's any_hw_nan test let through
// shows in the emulation as it would on the GPU.
GGUFTK_HD uint32_t hw_f16(float f) { return f != f ? 0x7fffu : formats::f32_to_fp16(f); }
GGUFTK_HD uint32_t hw_bf16(float f) { return f != f ? 0x7fffu : formats::f32_to_bf16(f); }
}  // namespace detail

// Hardware rounding of a pair (lo in the low half): float_bits.h's bits unless one is NaN.
GGUFTK_HD uint32_t f16_pair_no_nan(float lo, float hi) {
#if defined(__CUDA_ARCH__)
    const __half2 h = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&h);
#else
    return detail::hw_f16(lo) | detail::hw_f16(hi) << 16;
#endif
}
GGUFTK_HD uint32_t bf16_pair_no_nan(float lo, float hi) {
#if defined(__CUDA_ARCH__)
    const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&h);
#else
    return detail::hw_bf16(lo) | detail::hw_bf16(hi) << 16;
#endif
}

// Exactly float_bits.h's bits for any pair.
GGUFTK_HD uint32_t f16_pair(float lo, float hi) {
    if (lo != lo || hi != hi) [[unlikely]]
        return uint32_t(formats::f32_to_fp16(lo)) | uint32_t(formats::f32_to_fp16(hi)) << 16;
    return f16_pair_no_nan(lo, hi);
}
GGUFTK_HD uint32_t bf16_pair(float lo, float hi) {
    if (lo != lo || hi != hi) [[unlikely]]
        return uint32_t(formats::f32_to_bf16(lo)) | uint32_t(formats::f32_to_bf16(hi)) << 16;
    return bf16_pair_no_nan(lo, hi);
}

// Whether any of the `N` values is NaN, for one branch per group of a plain-float kernel. One
// unordered compare per two values, folded into a predicate: no array is built, so nothing
// goes to local memory. Infinities need no slow path: the hardware rounds them exactly.
template <int N>
GGUFTK_HD bool any_nan(const float (&y)[N]) {
    static_assert(N % 2 == 0);
    bool nan = false;
#if defined(__CUDACC__)
#pragma unroll
#endif
    for (int i = 0; i < N; i += 2) nan |= (y[i] != y[i]) | (y[i + 1] != y[i + 1]);
    return nan;
}

// Each 16-bit half's signed maximum of three words.
GGUFTK_HD uint32_t max3_s16x2(uint32_t a, uint32_t b, uint32_t c) {
#if defined(__CUDA_ARCH__)
    return __vimax3_s16x2(a, b, c);  // one instruction on sm_90
#else
    auto half = [&](int s) {
        const int16_t x = int16_t(a >> s), y = int16_t(b >> s), z = int16_t(c >> s);
        const int16_t m = x > y ? (x > z ? x : z) : (y > z ? y : z);
        return uint32_t(uint16_t(m)) << s;
    };
    return half(0) | half(16);
#endif
}

// Whether any half of these hardware-rounded pairs (the *_no_nan functions' words) is the
// hardware's NaN, 0x7fff, so that the values take the exact path. Read as signed 16-bit
// integers every other value the conversion gives is below it (finite values and infinity
// up to 0x7c00 or 0x7f80, negative ones below zero), so a NaN shows as the maximum: one
// three-way maximum per two words and one test for a whole part, where an unordered compare
// per value took one instruction a value. (No half of the maximum is 0xffff, a NaN the
// conversion never writes, so adding 1 carries into no other half.)
template <int W>
GGUFTK_HD bool any_hw_nan(const uint32_t (&w)[W]) {
    uint32_t m = w[0];
#if defined(__CUDACC__)
#pragma unroll
#endif
    for (int i = 1; i < W; i += 2) m = max3_s16x2(m, w[i], w[i + 1 < W ? i + 1 : i]);
    return ((m + 0x00010001u) & ~m & 0x80008000u) != 0;
}

}  // namespace gguftk::cuda
