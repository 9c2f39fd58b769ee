#pragma once
// What the format tests (tests/test_formats_*.cpp) share to build blocks by hand and decode
// them: a seeded source of quants and scales, little-endian stores, the decode of one block and
// a bit-for-bit comparison. The packings and formulas stay in each test, re-stated from ggml:
// they are what those tests check.
#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>

#include "formats/float_bits.h"
#include "formats/format.h"

namespace gguftk::test {

inline void put16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v), p[1] = uint8_t(v >> 8); }
inline void put32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}

// One per test file, so that each file's sequence of blocks is its own and stays the same.
class BlockRng {
public:
    explicit BlockRng(uint32_t seed) : g_(seed) {}
    uint32_t operator()() { return g_(); }
    // An integer in [lo, hi].
    int in(int lo, int hi) { return lo + int(g_() % uint32_t(hi - lo + 1)); }
    // A random normal half between 2^-8 and 2^4, either sign: a scale whose products stay exact.
    uint16_t half() {
        const uint32_t magnitude = g_();  // then the sign: the order the tests' sequences were made in
        return uint16_t(0x1c00 + magnitude % 0x3000) | uint16_t(g_() & 0x8000);
    }
    // A half() stored little-endian at p (a block's scale), and its value.
    float put_half(uint8_t* p) {
        const uint16_t h = half();
        put16(p, h);
        return formats::fp16_to_f32(h);
    }

private:
    std::mt19937 g_;
};

// 4-bit quants in pairs: per group of `group` elements, byte l holds element l in its low nibble
// and element l + group / 2 in its high one (Q4_0 and its kin: one group of 32; Q4_K: groups of 64).
inline void pack_nibble_pairs(const int* L, int n, int group, uint8_t* q) {
    for (int j = 0; j < n; j += group, q += group / 2)
        for (int l = 0; l < group / 2; ++l) q[l] = uint8_t((L[j + l] & 0xF) | (L[j + l + group / 2] & 0xF) << 4);
}

// One block of format F (lib/formats), decoded by the code under test.
template <class F>
std::array<float, F::block_elems> decode(const uint8_t* b) {
    std::array<float, F::block_elems> y;
    formats::decode_block<F>(b, y.data());
    return y;
}

inline bool same_bits(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }

template <size_t N>
void require_equal(const std::array<float, N>& got, const std::array<float, N>& want) {
    for (size_t i = 0; i < N; ++i) {
        INFO("element " << i);
        REQUIRE(same_bits(got[i], want[i]));
    }
}

}  // namespace gguftk::test
