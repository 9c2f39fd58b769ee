// Q4_0 .. Q8_1: blocks packed the way ggml's quantize_row_*_ref packs them (written here from
// that packing, not from our decoder), then decoded; each element must come back as
// ggml's formula of the quant that was packed for it.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "block_builder.h"
#include "formats/legacy.h"

using namespace gguftk::formats;
using namespace gguftk::test;

namespace {

BlockRng rng(42);

// Quants as ggml's reference quantizers lay them out: y[j] low nibble of qs[j], y[j+16] high
// nibble; for 5-bit formats bit 4 of quant j goes to bit j of the 32-bit qh.
void pack_nibbles(const int* L, uint8_t* qs) { pack_nibble_pairs(L, 32, 32, qs); }
uint32_t pack_high_bits(const int* L) {
    uint32_t qh = 0;
    for (int j = 0; j < 32; ++j) qh |= uint32_t((L[j] >> 4) & 1) << j;
    return qh;
}

}  // namespace

TEST_CASE("Q4_0: y = d * (q - 8)") {
    for (int trial = 0; trial < 200; ++trial) {
        int L[32];
        for (int& l : L) l = rng.in(0, 15);
        if (trial == 0) for (int j = 0; j < 32; ++j) L[j] = j % 16;  // every quant value
        uint8_t b[18];
        const float d = rng.put_half(b);
        pack_nibbles(L, b + 2);
        const auto y = decode<Q4_0>(b);
        for (int j = 0; j < 32; ++j) REQUIRE(y[j] == float(L[j] - 8) * d);
    }
}

TEST_CASE("Q4_1: y = d * q + m") {
    for (int trial = 0; trial < 200; ++trial) {
        int L[32];
        for (int& l : L) l = rng.in(0, 15);
        uint8_t b[20];
        const float d = rng.put_half(b), m = rng.put_half(b + 2);
        pack_nibbles(L, b + 4);
        const auto y = decode<Q4_1>(b);
        for (int j = 0; j < 32; ++j) REQUIRE(y[j] == float(L[j]) * d + m);
    }
}

TEST_CASE("Q5_0: y = d * (q - 16), fifth bits from qh") {
    for (int trial = 0; trial < 200; ++trial) {
        int L[32];
        for (int& l : L) l = rng.in(0, 31);
        if (trial == 0) for (int j = 0; j < 32; ++j) L[j] = j;
        uint8_t b[22];
        const float d = rng.put_half(b);
        put32(b + 2, pack_high_bits(L));
        pack_nibbles(L, b + 6);
        const auto y = decode<Q5_0>(b);
        for (int j = 0; j < 32; ++j) REQUIRE(y[j] == float(L[j] - 16) * d);
    }
}

TEST_CASE("Q5_1: y = d * q + m, fifth bits from qh") {
    for (int trial = 0; trial < 200; ++trial) {
        int L[32];
        for (int& l : L) l = rng.in(0, 31);
        uint8_t b[24];
        const float d = rng.put_half(b), m = rng.put_half(b + 2);
        put32(b + 4, pack_high_bits(L));
        pack_nibbles(L, b + 8);
        const auto y = decode<Q5_1>(b);
        for (int j = 0; j < 32; ++j) REQUIRE(y[j] == float(L[j]) * d + m);
    }
}

TEST_CASE("Q8_0 and Q8_1: y = d * q; Q8_1's sum field does not matter") {
    for (int trial = 0; trial < 200; ++trial) {
        int8_t q[32];
        for (auto& v : q) v = int8_t(rng.in(-128, 127));
        q[0] = -128, q[1] = 127;
        const uint16_t dh = rng.half();
        const float d = fp16_to_f32(dh);

        uint8_t b0[34];
        put16(b0, dh);
        std::memcpy(b0 + 2, q, 32);
        const auto y0 = decode<Q8_0>(b0);

        uint8_t b1[36];
        put16(b1, dh);
        put16(b1 + 2, uint16_t(rng()));  // s: any bits, even NaN
        std::memcpy(b1 + 4, q, 32);
        const auto y1 = decode<Q8_1>(b1);
        for (int j = 0; j < 32; ++j) {
            REQUIRE(y0[j] == float(q[j]) * d);
            REQUIRE(y1[j] == float(q[j]) * d);
        }
    }
}

TEST_CASE("legacy scales keep infinities and NaN as ggml's arithmetic does") {
    uint8_t b[18] = {};
    put16(b, 0x7c00);  // d = +inf
    for (int j = 0; j < 16; ++j) b[2 + j] = 0x08 | 0x90;  // q = 8 (-> 0) and 9 (-> +1)
    const auto y = decode<Q4_0>(b);
    CHECK(std::isnan(y[0]));   // 0 * inf
    CHECK(std::isinf(y[16]));  // 1 * inf
}
