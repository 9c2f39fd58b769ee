// MXFP4 and NVFP4 against the definitions of their number formats, with no table of ours:
// E2M1 (sign, 2 exponent bits with bias 1, 1 mantissa bit), E8M0 (2^(e - 127)) and unsigned
// E4M3 (bias 7, subnormals below exponent 1), each computed here with ldexp.
#include <doctest/doctest.h>

#include <cmath>

#include "block_builder.h"
#include "formats/fp4.h"

using namespace gguftk::formats;
using namespace gguftk::test;

namespace {

BlockRng rng(11);

// The E2M1 value of a 4-bit code; except that code 8, E2M1's negative zero, is +0: ggml's code
// book holds integers, so it decodes every zero as +0.
double e2m1(int code) {
    const int e = (code >> 1) & 3, m = code & 1;
    const double mag = e == 0 ? 0.5 * m : std::ldexp(1.0 + 0.5 * m, e - 1);
    return (code & 8) && mag != 0 ? -mag : mag;
}

// The value of an unsigned E4M3 byte as ggml reads it: bit 7 ignored, 0x7F (NaN) read as 0.
double ue4m3(uint8_t x) {
    if (x == 0x7F) return 0;
    const int e = (x >> 3) & 0xF, m = x & 7;
    return e == 0 ? std::ldexp(m, -9) : std::ldexp(1.0 + m / 8.0, e - 7);
}

}  // namespace

TEST_CASE("E8M0 halved: 2^(e - 128) for every byte, subnormal at 0 and 1") {
    for (int e = 0; e < 256; ++e) {
        INFO("e = " << e);
        CHECK(same_bits(fp4::e8m0_to_f32_half(uint8_t(e)), float(std::ldexp(1.0, e - 128))));
    }
}

TEST_CASE("unsigned E4M3 halved, for every byte") {
    for (int x = 0; x < 256; ++x) {
        INFO("x = " << x);
        CHECK(same_bits(fp4::ue4m3_to_f32_half(uint8_t(x)), float(ue4m3(uint8_t(x)) / 2)));
    }
}

TEST_CASE("MXFP4: e = 127 is scale 1, so every code decodes to its E2M1 value; layout as Q4_0") {
    uint8_t b[17];
    b[0] = 127;
    for (int j = 0; j < 16; ++j) b[1 + j] = uint8_t(j | (15 - j) << 4);
    float y[32];
    decode_block<MXFP4>(b, y);
    for (int j = 0; j < 16; ++j) {
        INFO("j = " << j);
        CHECK(same_bits(y[j], float(e2m1(j))));
        CHECK(same_bits(y[j + 16], float(e2m1(15 - j))));
    }
}

TEST_CASE("MXFP4: y = E2M1 * 2^(e - 127) for random blocks and every exponent") {
    for (int e = 0; e < 256; ++e) {
        uint8_t b[17];
        b[0] = uint8_t(e);
        for (int j = 1; j < 17; ++j) b[j] = uint8_t(rng());
        float y[32];
        decode_block<MXFP4>(b, y);
        INFO("e = " << e);
        // (2 * E2M1) * 2^(e - 128): ggml's factors, both exact; the product is exact too, or
        // overflows to infinity for the largest e, as in ggml.
        const float scale = float(std::ldexp(1.0, e - 128));
        for (int j = 0; j < 16; ++j) {
            CHECK(same_bits(y[j], float(2 * e2m1(b[1 + j] & 15)) * scale));
            CHECK(same_bits(y[j + 16], float(2 * e2m1(b[1 + j] >> 4)) * scale));
        }
    }
}

TEST_CASE("NVFP4: four groups of 16, each with its own E4M3 scale; byte 8s+j holds elements j and j+8") {
    for (int trial = 0; trial < 200; ++trial) {
        uint8_t b[36];
        for (uint8_t& x : b) x = uint8_t(rng());
        if (trial == 0) b[0] = 0x38, b[1] = 0x7F, b[2] = 0x00, b[3] = 0xFF;  // 1.0, NaN code, 0, bit 7 set
        float y[64];
        decode_block<NVFP4>(b, y);
        for (int s = 0; s < 4; ++s)
            for (int j = 0; j < 8; ++j) {
                INFO("group " << s << " byte " << j);
                const uint8_t q = b[4 + 8 * s + j];
                // ggml's operations: (2 * E2M1) * (scale / 2); both factors exact, one rounding.
                CHECK(same_bits(y[16 * s + j], float(2 * e2m1(q & 15)) * float(ue4m3(b[s]) / 2)));
                CHECK(same_bits(y[16 * s + j + 8], float(2 * e2m1(q >> 4)) * float(ue4m3(b[s]) / 2)));
            }
    }
}
