// Q2_K .. Q8_K: super-blocks packed the way ggml's quantize_row_*_ref packs them (the packing
// loops are re-stated here from the quantizers, not derived from our decoders), then decoded;
// each element must come back as ggml's formula of the quant and scales packed for it.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "block_builder.h"
#include "formats/kquants.h"

using namespace gguftk::formats;
using namespace gguftk::test;

namespace {

BlockRng rng(4242);

// 2-bit quants L[0..255] into 64 bytes: per 128 elements, byte l holds elements l, l+32, l+64, l+96.
void pack_crumbs(const int* L, uint8_t* qs) {
    for (int j = 0; j < 256; j += 128)
        for (int l = 0; l < 32; ++l)
            qs[j / 4 + l] = uint8_t(L[j + l] | L[j + l + 32] << 2 | L[j + l + 64] << 4 | L[j + l + 96] << 6);
}

// The 12-byte 6-bit scale/min packing of Q4_K and Q5_K.
void pack_scales_mins(const int* ls, const int* lm, uint8_t* s) {
    std::memset(s, 0, 12);
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            s[j] = uint8_t(ls[j]);
            s[j + 4] = uint8_t(lm[j]);
        } else {
            s[j + 4] = uint8_t((ls[j] & 0xF) | (lm[j] & 0xF) << 4);
            s[j - 4] |= uint8_t((ls[j] >> 4) << 6);
            s[j] |= uint8_t((lm[j] >> 4) << 6);
        }
    }
}

// Quants in 4-bit groups: per 64 elements, 32 bytes, element l low nibble, l+32 high nibble.
void pack_nibbles(const int* L, uint8_t* q) { pack_nibble_pairs(L, 256, 64, q); }

}  // namespace

TEST_CASE("Q2_K: y = (d * sc) * q - (dmin * m), 16 sub-blocks of 16") {
    for (int trial = 0; trial < 100; ++trial) {
        int L[256], sc[16], mn[16];
        for (int& l : L) l = rng.in(0, 3);
        for (int j = 0; j < 16; ++j) sc[j] = rng.in(0, 15), mn[j] = rng.in(0, 15);
        uint8_t b[84];
        for (int j = 0; j < 16; ++j) b[j] = uint8_t(sc[j] | mn[j] << 4);
        pack_crumbs(L, b + 16);
        const float d = rng.put_half(b + 80), dmin = rng.put_half(b + 82);
        const auto y = decode<Q2_K>(b);
        for (int e = 0; e < 256; ++e) {
            const float dl = d * float(sc[e / 16]), ml = dmin * float(mn[e / 16]);
            REQUIRE(y[e] == dl * float(L[e]) - ml);
        }
    }
}

TEST_CASE("Q3_K: y = (d * (sc - 32)) * (q - 4), high bits in hmask, 6-bit scales") {
    for (int trial = 0; trial < 100; ++trial) {
        int L[256], sc[16];  // L: 0..7 as stored (q + 4); sc: -32..31
        for (int& l : L) l = rng.in(0, 7);
        for (int& s : sc) s = rng.in(-32, 31);
        if (trial == 0) sc[0] = -32, sc[15] = 31;
        uint8_t b[110] = {};
        // hmask: element j's high bit in byte j % 32, bit j / 32.
        int low[256];
        for (int j = 0; j < 256; ++j) {
            if (L[j] > 3) b[j % 32] |= uint8_t(1 << (j / 32));
            low[j] = L[j] & 3;
        }
        pack_crumbs(low, b + 32);
        uint8_t* s = b + 96;
        for (int j = 0; j < 16; ++j) {
            const int l = sc[j] + 32;
            if (j < 8) s[j] = uint8_t(l & 0xF);
            else s[j - 8] |= uint8_t((l & 0xF) << 4);
            s[j % 4 + 8] |= uint8_t((l >> 4) << (2 * (j / 4)));
        }
        const float d = rng.put_half(b + 108);
        const auto y = decode<Q3_K>(b);
        for (int e = 0; e < 256; ++e) REQUIRE(y[e] == d * float(sc[e / 16]) * float(L[e] - 4));
    }
}

TEST_CASE("Q4_K: y = (d * sc) * q - (dmin * m), 8 sub-blocks of 32") {
    for (int trial = 0; trial < 100; ++trial) {
        int L[256], ls[8], lm[8];
        for (int& l : L) l = rng.in(0, 15);
        for (int j = 0; j < 8; ++j) ls[j] = rng.in(0, 63), lm[j] = rng.in(0, 63);
        if (trial == 0) for (int j = 0; j < 8; ++j) ls[j] = 63 - j, lm[j] = 56 + j;  // high bits set everywhere
        uint8_t b[144];
        const float d = rng.put_half(b), dmin = rng.put_half(b + 2);
        pack_scales_mins(ls, lm, b + 4);
        pack_nibbles(L, b + 16);
        const auto y = decode<Q4_K>(b);
        for (int e = 0; e < 256; ++e) {
            const float d1 = d * float(ls[e / 32]), m1 = dmin * float(lm[e / 32]);
            REQUIRE(y[e] == d1 * float(L[e]) - m1);
        }
    }
}

TEST_CASE("Q5_K: as Q4_K with a fifth bit per quant in qh") {
    for (int trial = 0; trial < 100; ++trial) {
        int L[256], ls[8], lm[8];
        for (int& l : L) l = rng.in(0, 31);
        for (int j = 0; j < 8; ++j) ls[j] = rng.in(0, 63), lm[j] = rng.in(0, 63);
        uint8_t b[176] = {};
        const float d = rng.put_half(b), dmin = rng.put_half(b + 2);
        pack_scales_mins(ls, lm, b + 4);
        // ggml's loop: per 64 elements n, qh[j] gets bit m1 for element n+j and m2 for n+j+32.
        uint8_t* qh = b + 16;
        uint8_t* ql = b + 48;
        uint8_t m1 = 1, m2 = 2;
        for (int n = 0; n < 256; n += 64, ql += 32, m1 <<= 2, m2 <<= 2) {
            for (int j = 0; j < 32; ++j) {
                int l1 = L[n + j], l2 = L[n + j + 32];
                if (l1 > 15) l1 -= 16, qh[j] |= m1;
                if (l2 > 15) l2 -= 16, qh[j] |= m2;
                ql[j] = uint8_t(l1 | l2 << 4);
            }
        }
        const auto y = decode<Q5_K>(b);
        for (int e = 0; e < 256; ++e) {
            const float d1 = d * float(ls[e / 32]), m1f = dmin * float(lm[e / 32]);
            REQUIRE(y[e] == d1 * float(L[e]) - m1f);
        }
    }
}

TEST_CASE("Q6_K: y = (d * sc) * (q - 32), int8 scale per 16") {
    for (int trial = 0; trial < 100; ++trial) {
        int L[256], sc[16];  // L: 0..63 as stored (q + 32)
        for (int& l : L) l = rng.in(0, 63);
        for (int& s : sc) s = rng.in(-128, 127);
        if (trial == 0) sc[0] = -128, sc[1] = 127, L[0] = 0, L[255] = 63;
        uint8_t b[210];
        uint8_t* ql = b;
        uint8_t* qh = b + 128;
        for (int j = 0; j < 256; j += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; ++l) {
                const int q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF,
                          q4 = L[j + l + 96] & 0xF;
                ql[l] = uint8_t(q1 | q3 << 4);
                ql[l + 32] = uint8_t(q2 | q4 << 4);
                qh[l] = uint8_t(L[j + l] >> 4 | (L[j + l + 32] >> 4) << 2 | (L[j + l + 64] >> 4) << 4 |
                                (L[j + l + 96] >> 4) << 6);
            }
        }
        for (int j = 0; j < 16; ++j) b[192 + j] = uint8_t(int8_t(sc[j]));
        const float d = rng.put_half(b + 208);
        const auto y = decode<Q6_K>(b);
        for (int e = 0; e < 256; ++e) REQUIRE(y[e] == d * float(sc[e / 16]) * float(L[e] - 32));
    }
}

TEST_CASE("Q8_K: y = d * q with a float32 d; bsums do not matter") {
    for (int trial = 0; trial < 100; ++trial) {
        uint8_t b[292];
        const float d = std::ldexp(float(rng() % 0x1000000u), -30) * (trial & 1 ? -1.0f : 1.0f);
        std::memcpy(b, &d, 4);
        int8_t q[256];
        for (auto& v : q) v = int8_t(rng.in(-128, 127));
        std::memcpy(b + 4, q, 256);
        for (int j = 0; j < 32; ++j) b[260 + j] = uint8_t(rng());
        const auto y = decode<Q8_K>(b);
        for (int e = 0; e < 256; ++e) REQUIRE(y[e] == d * float(q[e]));
    }
}
