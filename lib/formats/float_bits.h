#pragma once
// IEEE half, bfloat16 and single conversions, bit-exact and identical on host and device.
//
// ggml rounds float -> half to nearest, ties to even (F16C's _cvtss_sh with mode 0, or its
// bit-twiddling fallback); overflow goes to infinity, subnormals are kept, NaN stays NaN.
// These functions reproduce that without relying on any hardware conversion.
#include <cstdint>
#include <cstring>

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

GGUFTK_HD float fp16_to_f32(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t man = h & 0x3ffu;
    if (exp == 0x1f) return f32_from_bits(sign | 0x7f800000u | (man << 13));  // inf, NaN (payload kept)
    if (exp == 0) {
        // Subnormal or zero: man * 2^-24 is exact in single precision.
        const float mag = float(man) * 5.9604644775390625e-08f;
        return f32_from_bits(f32_bits(mag) | sign);
    }
    return f32_from_bits(sign | ((exp + 112u) << 23) | (man << 13));
}

GGUFTK_HD uint16_t f32_to_fp16(float f) {
    const uint32_t x = f32_bits(f);
    const uint16_t sign = uint16_t((x >> 16) & 0x8000u);
    const uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return uint16_t(sign | 0x7e00u | ((ax & 0x7fffffu) >> 13));  // quiet NaN
    if (ax >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // rounds past 65504: infinity
    if (ax < 0x38800000u) {
        // Half subnormal: round ax's value * 2^24 to an integer, ties to even.
        const uint32_t e = ax >> 23;
        if (e < 102) return sign;  // below 2^-25: rounds to zero
        const uint32_t m = (ax & 0x7fffffu) | 0x800000u;
        const uint32_t shift = 126 - e;  // 14..24
        uint32_t q = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1);
        const uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) ++q;
        return uint16_t(sign | q);
    }
    uint32_t h = (ax >> 13) - (112u << 10);
    const uint32_t rem = ax & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) ++h;  // a carry into the exponent is right
    return uint16_t(sign | h);
}

GGUFTK_HD float bf16_to_f32(uint16_t b) { return f32_from_bits(uint32_t(b) << 16); }

GGUFTK_HD uint16_t f32_to_bf16(float f) {
    const uint32_t x = f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40u);  // quiet NaN
    return uint16_t((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

}  // namespace gguftk::formats
