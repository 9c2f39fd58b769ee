// IQ1_S .. IQ4_XS: blocks packed the way ggml's quantize_row_iq*_impl packs them (written here
// from that packing, not from our decoder): a grid index, a sign pattern and a scale chosen
// per group of elements. Each decoded element must be ggml's formula of what was packed for
// it: the sub-block scale times the grid lane times the sign. Sign patterns are checked from
// their definition (7 stored bits plus an even-parity eighth bit), not through ksigns_iq2xs.
#include <doctest/doctest.h>

#include <bit>
#include <cstring>

#include "block_builder.h"
#include "formats/iquants.h"

using namespace gguftk::formats;
using namespace gguftk::test;

namespace {

BlockRng rng(7);

int byte_lane(uint64_t g, int j) { return int((g >> (8 * j)) & 0xff); }
float sign_of(int bits8, int j) { return (bits8 >> j) & 1 ? -1.f : 1.f; }
// The 8 signs a 7-bit sign index stands for: its bits, and bit 7 making the count of minus signs even.
int signs_from_index(int k) { return k | ((std::popcount(unsigned(k)) & 1) << 7); }

constexpr int kTrials = 100;

}  // namespace

TEST_CASE("IQ2_XXS: 4 grid bytes and a u32 of 4 sign indices and a scale per 32 elements") {
    for (int trial = 0; trial < kTrials; ++trial) {
        uint8_t b[66];
        const float d = rng.put_half(b);
        std::array<float, 256> want;
        for (int ib = 0; ib < 8; ++ib) {
            const int s = rng.in(0, 15);
            uint32_t aux = uint32_t(s) << 28;
            const float db = d * (0.5f + float(s)) * 0.25f;
            for (int l = 0; l < 4; ++l) {
                const int idx = rng.in(0, 255), k = rng.in(0, 127);
                b[2 + 8 * ib + l] = uint8_t(idx);
                aux |= uint32_t(k) << (7 * l);
                const uint64_t g = tables::iq2xxs_grid()[idx];
                for (int j = 0; j < 8; ++j)
                    want[32 * ib + 8 * l + j] = db * float(byte_lane(g, j)) * sign_of(signs_from_index(k), j);
            }
            put32(b + 2 + 8 * ib + 4, aux);
        }
        require_equal(decode<IQ2_XXS>(b), want);
    }
}

TEST_CASE("IQ2_XS: u16 per 8 elements (9-bit index, 7-bit sign index), two 4-bit scales per 32") {
    for (int trial = 0; trial < kTrials; ++trial) {
        uint8_t b[74];
        const float d = rng.put_half(b);
        std::array<float, 256> want;
        for (int ib = 0; ib < 8; ++ib) {
            const int s0 = rng.in(0, 15), s1 = rng.in(0, 15);
            b[66 + ib] = uint8_t(s0 | s1 << 4);
            for (int l = 0; l < 4; ++l) {
                const int idx = rng.in(0, 511), k = rng.in(0, 127);
                put16(b + 2 + 2 * (4 * ib + l), uint16_t(idx | k << 9));
                const float db = d * (0.5f + float(l < 2 ? s0 : s1)) * 0.25f;
                const uint64_t g = tables::iq2xs_grid()[idx];
                for (int j = 0; j < 8; ++j)
                    want[32 * ib + 8 * l + j] = db * float(byte_lane(g, j)) * sign_of(signs_from_index(k), j);
            }
        }
        require_equal(decode<IQ2_XS>(b), want);
    }
}

TEST_CASE("IQ2_S: 10-bit index split over qs and qh, 8 explicit sign bits per 8 elements") {
    for (int trial = 0; trial < kTrials; ++trial) {
        uint8_t b[82] = {};
        const float d = rng.put_half(b);
        std::array<float, 256> want;
        for (int ib = 0; ib < 8; ++ib) {
            const int s0 = rng.in(0, 15), s1 = rng.in(0, 15);
            b[74 + ib] = uint8_t(s0 | s1 << 4);
            for (int l = 0; l < 4; ++l) {
                const int idx = rng.in(0, 1023), signs = rng.in(0, 255);
                b[2 + 4 * ib + l] = uint8_t(idx);
                b[66 + ib] |= uint8_t((idx >> 8) << (2 * l));
                b[34 + 4 * ib + l] = uint8_t(signs);
                const float db = d * (0.5f + float(l < 2 ? s0 : s1)) * 0.25f;
                const uint64_t g = tables::iq2s_grid()[idx];
                for (int j = 0; j < 8; ++j) want[32 * ib + 8 * l + j] = db * float(byte_lane(g, j)) * sign_of(signs, j);
            }
        }
        require_equal(decode<IQ2_S>(b), want);
    }
}

TEST_CASE("IQ3_XXS: a grid byte per 4 elements, then a u32 of sign indices and scale per 32") {
    for (int trial = 0; trial < kTrials; ++trial) {
        uint8_t b[98];
        const float d = rng.put_half(b);
        std::array<float, 256> want;
        for (int ib = 0; ib < 8; ++ib) {
            const int s = rng.in(0, 15);
            uint32_t aux = uint32_t(s) << 28;
            const float db = d * (0.5f + float(s)) * 0.5f;
            for (int l = 0; l < 4; ++l) {
                const int k = rng.in(0, 127);
                aux |= uint32_t(k) << (7 * l);
                for (int h = 0; h < 2; ++h) {
                    const int idx = rng.in(0, 255);
                    b[2 + 8 * ib + 2 * l + h] = uint8_t(idx);
                    const uint32_t g = tables::iq3xxs_grid()[idx];
                    for (int j = 0; j < 4; ++j)
                        want[32 * ib + 8 * l + 4 * h + j] =
                            db * float(byte_lane(g, j)) * sign_of(signs_from_index(k), 4 * h + j);
                }
            }
            put32(b + 66 + 4 * ib, aux);
        }
        require_equal(decode<IQ3_XXS>(b), want);
    }
}

TEST_CASE("IQ3_S: 9-bit index (ninth bits in qh), sign bits, odd scales 1 + 2s") {
    for (int trial = 0; trial < kTrials; ++trial) {
        uint8_t b[110] = {};
        const float d = rng.put_half(b);
        std::array<float, 256> want;
        for (int ib = 0; ib < 8; ++ib) {
            const int s = rng.in(0, 15);
            b[106 + ib / 2] |= uint8_t(s << (4 * (ib % 2)));
            const float db = d * float(1 + 2 * s);
            for (int l = 0; l < 4; ++l) {
                const int signs = rng.in(0, 255);
                b[74 + 4 * ib + l] = uint8_t(signs);
                for (int h = 0; h < 2; ++h) {
                    const int idx = rng.in(0, 511);
                    b[2 + 8 * ib + 2 * l + h] = uint8_t(idx);
                    b[66 + ib] |= uint8_t((idx >> 8) << (2 * l + h));
                    const uint32_t g = tables::iq3s_grid()[idx];
                    for (int j = 0; j < 4; ++j)
                        want[32 * ib + 8 * l + 4 * h + j] = db * float(byte_lane(g, j)) * sign_of(signs, 4 * h + j);
                }
            }
        }
        require_equal(decode<IQ3_S>(b), want);
    }
}

TEST_CASE("IQ1_S: 11-bit index into the +-1/0 grid, shifted by +-1/8, odd scales 2s + 1") {
    for (int trial = 0; trial < kTrials; ++trial) {
        uint8_t b[50];
        const float d = rng.put_half(b);
        std::array<float, 256> want;
        for (int ib = 0; ib < 8; ++ib) {
            const int s = rng.in(0, 7), neg = rng.in(0, 1);
            uint16_t qh = uint16_t(s << 12 | neg << 15);
            const float dl = d * float(2 * s + 1);
            const float delta = neg ? -0.125f : 0.125f;
            for (int l = 0; l < 4; ++l) {
                const int idx = rng.in(0, 2047);
                b[2 + 4 * ib + l] = uint8_t(idx);
                qh |= uint16_t((idx >> 8) << (3 * l));
                const uint64_t g = tables::iq1s_grid()[idx];
                for (int j = 0; j < 8; ++j)
                    want[32 * ib + 8 * l + j] = dl * (float(int8_t(byte_lane(g, j))) + delta);
            }
            put16(b + 34 + 2 * ib, qh);
        }
        require_equal(decode<IQ1_S>(b), want);
    }
}

TEST_CASE("IQ1_M: IQ1_S's grid with a shift sign per 8 elements, 3-bit scales per 16, d in the scale nibbles") {
    for (int trial = 0; trial < kTrials; ++trial) {
        uint8_t b[56] = {};
        const uint16_t dh = rng.half();
        const float d = fp16_to_f32(dh);
        uint16_t sc[4] = {};
        for (int i = 0; i < 4; ++i) sc[i] = uint16_t(((dh >> (4 * i)) & 0xf) << 12);  // nibble i of d
        std::array<float, 256> want;
        for (int ib = 0; ib < 8; ++ib) {
            for (int half = 0; half < 2; ++half) {  // 16 elements share a scale
                const int s = rng.in(0, 7);
                sc[ib / 2] |= uint16_t(s << (6 * (ib % 2) + 3 * half));
                const float dl = d * float(2 * s + 1);
                for (int h = 0; h < 2; ++h) {
                    const int l = 2 * half + h;
                    const int idx = rng.in(0, 2047), neg = rng.in(0, 1);
                    b[4 * ib + l] = uint8_t(idx);
                    b[32 + 2 * ib + half] |= uint8_t(((idx >> 8) | neg << 3) << (4 * h));
                    const uint64_t g = tables::iq1s_grid()[idx];
                    const float delta = neg ? -0.125f : 0.125f;
                    for (int j = 0; j < 8; ++j)
                        want[32 * ib + 8 * l + j] = dl * (float(int8_t(byte_lane(g, j))) + delta);
                }
            }
        }
        for (int i = 0; i < 4; ++i) put16(b + 48 + 2 * i, sc[i]);
        require_equal(decode<IQ1_M>(b), want);
    }
}

// ggml's non-linear 4-bit code book, as published in ggml-common.h.
constexpr int kIQ4[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

TEST_CASE("IQ4_NL: Q4_0's nibble layout through the non-linear code book") {
    for (int trial = 0; trial < kTrials; ++trial) {
        uint8_t b[18];
        const float d = rng.put_half(b);
        std::array<float, 32> want;
        for (int j = 0; j < 16; ++j) {
            const int lo = trial == 0 ? j : rng.in(0, 15), hi = trial == 0 ? 15 - j : rng.in(0, 15);
            b[2 + j] = uint8_t(lo | hi << 4);
            want[j] = d * float(kIQ4[lo]);
            want[j + 16] = d * float(kIQ4[hi]);
        }
        require_equal(decode<IQ4_NL>(b), want);
    }
}

TEST_CASE("IQ4_XS: 6-bit sub-block scales (stored +32) split over scales_l and scales_h") {
    for (int trial = 0; trial < kTrials; ++trial) {
        uint8_t b[136] = {};
        const float d = rng.put_half(b);
        uint16_t scales_h = 0;
        std::array<float, 256> want;
        for (int ib = 0; ib < 8; ++ib) {
            const int ls = trial == 0 ? 8 * ib : rng.in(0, 63);
            b[4 + ib / 2] |= uint8_t((ls & 0xf) << (4 * (ib % 2)));
            scales_h |= uint16_t((ls >> 4) << (2 * ib));
            const float dl = d * float(ls - 32);
            for (int j = 0; j < 16; ++j) {
                const int lo = rng.in(0, 15), hi = rng.in(0, 15);
                b[8 + 16 * ib + j] = uint8_t(lo | hi << 4);
                want[32 * ib + j] = dl * float(kIQ4[lo]);
                want[32 * ib + j + 16] = dl * float(kIQ4[hi]);
            }
        }
        put16(b + 2, scales_h);
        require_equal(decode<IQ4_XS>(b), want);
    }
}

TEST_CASE("IQ2_XXS by hand: one scale, a sign pattern with its implied eighth sign") {
    // d = 1; sub-block 1 has scale 3 (db = 3.5 / 4 = 0.875), points 0..3 use grid entries
    // 0 (all lanes 8), 1 (lane 0 is 43), 2 (lanes 0, 1 are 25) and 3 (lane 1 is 43) with sign
    // indices 0, 1 (signs of lanes 0 and 7), 127 (all eight), 0. Every other sub-block is zero
    // bytes: scale 0 (db = 1/8), grid entry 0, no signs, so its elements are 1.
    uint8_t b[66] = {};
    put16(b, 0x3c00);
    const uint8_t idx[4] = {0, 1, 2, 3};
    std::memcpy(b + 2 + 8, idx, 4);
    put32(b + 2 + 8 + 4, 3u << 28 | 127u << 14 | 1u << 7);
    std::array<float, 256> want;
    want.fill(1.0f);
    const float sub1[32] = {7, 7, 7, 7, 7, 7, 7, 7,                                     //
                            -37.625f, 7, 7, 7, 7, 7, 7, -7,                             //
                            -21.875f, -21.875f, -7, -7, -7, -7, -7, -7,                 //
                            7, 37.625f, 7, 7, 7, 7, 7, 7};
    std::copy(std::begin(sub1), std::end(sub1), want.begin() + 32);
    require_equal(decode<IQ2_XXS>(b), want);
}

TEST_CASE("IQ1_M: d's bits live in the top nibbles of the four scale words, the scales below them") {
    uint8_t b[IQ1_M::block_bytes] = {};
    const uint16_t scales[4] = {0x0123, 0x0456, 0x0789, 0x0abc};
    for (int k = 0; k < 4; ++k) std::memcpy(b + IQ1_M::at_scales + 2 * k, &scales[k], 2);
    IQ1_M::set_d_bits(b, 0xbeef);
    CHECK(IQ1_M::d_bits(b) == 0xbeef);
    const uint16_t want[4] = {0xf123, 0xe456, 0xe789, 0xbabc};  // nibble k of d atop word k
    for (int k = 0; k < 4; ++k) {
        uint16_t w;
        std::memcpy(&w, b + IQ1_M::at_scales + 2 * k, 2);
        CHECK(w == want[k]);
    }
}
