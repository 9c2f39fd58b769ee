#pragma once
// IEEE half, bfloat16 and single conversions, bit-exact and identical on host and device.
//
// ggml rounds float -> half to nearest, ties to even (F16C's _cvtss_sh with mode 0, or its
// bit-twiddling fallback); overflow goes to infinity, subnormals are kept, NaN stays NaN.
// These functions reproduce that without relying on any hardware conversion instruction
// (on the GPU, fp16_to_f32 takes the hardware's where it gives the same bits).
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#include <cuda_fp16.h>
#endif

#include "formats/format.h"

namespace gguftk::formats {

GGUFTK_HD uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
GGUFTK_HD float f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

// -x where `neg` (0 or 1) is set, else x: the decoders' choice of a value's sign by a bit
// (IQ2/IQ3's signs, Q1_0's +d or -d). Negation is a flip of the sign bit, which is what the
// CPU does: there the choice compiled to a branch per value, which random bits mispredict
// half the time (IQ2_XXS decoded at 3.6 ns a value, 1.2 with the flip; Q1_0 4.6 and 0.8).
// The GPU selects without a branch, in fewer instructions than the flip.
GGUFTK_HD float negated_if(float x, uint32_t neg) {
#if defined(__CUDA_ARCH__)
    return neg ? -x : x;
#else
    return f32_from_bits(f32_bits(x) ^ (neg << 31));
#endif
}

// Both directions are written without data-dependent branches: every case is computed and the
// right one picked with bit masks, so compilers vectorize loops over them (a ternary would do,
// except that GCC will not if-convert around a float operation under -ftrapping-math).
// The subnormal cases use one exact float operation.
GGUFTK_HD uint32_t mask_if(bool c) { return 0u - uint32_t(c); }

// p + m, whose NaN is p's when both are NaN. x86 gives the first operand's NaN and a compiler
// may swap the operands of +, so the payload would be the compiler's choice, and differ between
// two loops over the same blocks; the GPU makes one canonical NaN whatever the order.
GGUFTK_HD float add_keeping_first_nan(float p, float m) {
#if defined(__CUDA_ARCH__)
    return p + m;
#else
    const uint32_t keep = mask_if(p != p);
    return f32_from_bits((f32_bits(p) & keep) | (f32_bits(p + m) & ~keep));
#endif
}

GGUFTK_HD float fp16_to_f32(uint16_t h) {
#if defined(__CUDA_ARCH__)
    // On the GPU, the hardware conversion gives these same bits for every half but NaN (whose
    // payload it drops) in one instruction instead of a dozen; decoders convert a scale per
    // part, so this is a tenth of a kernel's integer work. tests/gpu/test_rounding.cu checks
    // all 65536 halves.
    if ((h & 0x7fffu) <= 0x7c00u) return __half2float(__ushort_as_half(h));
#endif
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    const uint32_t e = h & 0x7c00u;
    const uint32_t shifted = uint32_t(h & 0x7fffu) << 13;
    // Normal: rebias the exponent by 127 - 15. Infinity and NaN: all exponent bits set,
    // mantissa (the NaN payload) kept, and a NaN made quiet, as ggml's conversions (a float
    // multiply, or F16C) make it. Subnormal or zero: man * 2^-24, which is exact.
    const uint32_t normal = shifted + (112u << 23);
    const uint32_t special = shifted | 0x7f800000u | (mask_if((h & 0x3ffu) != 0) & 0x400000u);
    const uint32_t tiny = f32_bits(float(h & 0x3ffu) * 5.9604644775390625e-08f);
    const uint32_t is_special = mask_if(e == 0x7c00u), is_tiny = mask_if(e == 0);
    const uint32_t mag = (special & is_special) | (tiny & is_tiny) | (normal & ~(is_special | is_tiny));
    return f32_from_bits(sign | mag);
}

GGUFTK_HD uint16_t f32_to_fp16(float f) {
    const uint32_t x = f32_bits(f);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t ax = x & 0x7fffffffu;
    // Normal halves: drop 13 mantissa bits rounding to nearest even (add just under half an
    // ulp plus the kept lowest bit), rebias the exponent; a carry into the exponent is right.
    const uint32_t normal = (ax + 0xfffu + ((ax >> 13) & 1u) - (112u << 23)) >> 13;
    // Below 2^-14 the half is subnormal, in units of 2^-24: adding 0.5f, whose ulp is 2^-24,
    // makes the FPU round |f| to that unit (to nearest even), leaving the count in the low bits.
    const uint32_t subnormal = f32_bits(f32_from_bits(ax) + 0.5f) - 0x3f000000u;
    const uint32_t nan = 0x7e00u | (ax >> 13 & 0x3ffu);  // quiet, top payload bits kept
    const uint32_t is_nan = mask_if(ax > 0x7f800000u);
    const uint32_t is_inf = mask_if(ax >= 0x477ff000u) & ~is_nan;  // rounds past 65504: infinity
    const uint32_t is_sub = mask_if(ax < 0x38800000u);
    const uint32_t is_normal = ~(is_nan | is_inf | is_sub);
    const uint32_t mag = (nan & is_nan) | (0x7c00u & is_inf) | (subnormal & is_sub) | (normal & is_normal);
    return uint16_t(sign | mag);
}

GGUFTK_HD float bf16_to_f32(uint16_t b) { return f32_from_bits(uint32_t(b) << 16); }

GGUFTK_HD uint16_t f32_to_bf16(float f) {
    const uint32_t x = f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40u);  // quiet NaN
    return uint16_t((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

}  // namespace gguftk::formats
