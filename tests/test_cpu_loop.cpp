// The CPU engine's fast inner loop against the reference decoder, byte for byte.
//
// decode_blocks (lib/formats/decode.cpp) is the plain definition: decode_part, then float_bits.h's
// rounding, compiled for the baseline CPU. convert_blocks may take AVX2/F16C paths, including
// the hand-written ones of convert/avx2_formats.cpp; it must produce the same bytes for any
// input, NaN and Inf scales included, so the blocks here are random bytes. The plain floats'
// paths are also checked on every bit pattern below.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "formats/float_bits.h"
#include "formats/decode.h"
#include "formats/types.h"
#include "convert/cpu_loop.h"

using namespace gguftk;

namespace {

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> v(n);
    for (auto& b : v) b = uint8_t(rng());
    return v;
}

void check_same(GgmlType t, const std::vector<uint8_t>& src, OutType o) {
    const TypeInfo& ti = type_info(t);
    const uint64_t nb = src.size() / ti.block_bytes;
    const size_t n = size_t(nb) * ti.block_elems * out_type_size(o);
    std::vector<uint8_t> ref(n + 64, 0xAB), got(n + 64, 0xAB);  // the tail catches overruns
    decode_blocks(t, src.data(), nb, o, ref.data());
    convert_blocks(t, src.data(), nb, o, got.data());
    size_t first = n + 64;
    for (size_t i = 0; i < ref.size(); ++i)
        if (ref[i] != got[i]) {
            first = i;
            break;
        }
    INFO(ti.name, " -> ", out_type_name(o), ", ", nb, " blocks, first difference at byte ", first);
    CHECK(first == n + 64);
}

}  // namespace

TEST_CASE("convert_blocks equals decode_blocks for every type, any bytes") {
    INFO("simd path: ", convert_uses_simd());
    for (const TypeInfo& ti : all_types()) {
        if (!has_decoder(ti.type)) continue;
        // One block, an odd count, and more than the inner buffer holds.
        for (uint64_t nb : {uint64_t(1), uint64_t(7), uint64_t(4096 / ti.block_elems + 3)}) {
            const auto src = random_bytes(size_t(nb) * ti.block_bytes, uint32_t(ti.block_bytes * 131 + nb));
            for (OutType o : {OutType::F16, OutType::F32, OutType::BF16}) check_same(ti.type, src, o);
        }
    }
}

TEST_CASE("convert_blocks equals decode_blocks where scales are NaN, infinite or subnormal") {
    // Uniform bytes rarely make two special scales meet in one block (a NaN d and a NaN m, say):
    // here half the 16-bit words, wherever they are, are special halves, so every scale field
    // often is one. A few blocks, and a count past the loop's rounds with a part-full last one.
    constexpr uint16_t specials[] = {0x7c00, 0xfc00, 0x7e00, 0xfe01, 0x7d55, 0xfc01, 0x0001, 0x8200, 0x7bff, 0x8000};
    for (const TypeInfo& ti : all_types()) {
        if (!has_decoder(ti.type)) continue;
        for (uint64_t nb : {uint64_t(63), std::max<uint64_t>(64, 65536 / ti.block_elems) + 7}) {
            std::vector<uint8_t> src = random_bytes(size_t(nb) * ti.block_bytes, uint32_t(ti.block_bytes * 7 + nb));
            std::mt19937 rng(uint32_t(ti.block_bytes + nb));
            for (size_t i = 0; i + 1 < src.size(); i += 2)
                if (rng() % 2 == 0) {
                    const uint16_t h = specials[rng() % std::size(specials)];
                    src[i] = uint8_t(h), src[i + 1] = uint8_t(h >> 8);
                }
            for (OutType o : {OutType::F16, OutType::F32, OutType::BF16}) check_same(ti.type, src, o);
        }
    }
}

TEST_CASE("Q4_1 and Q5_1 with NaN in both d and m: d's NaN, in every element, on every path") {
    // x86 keeps the first operand's NaN of an add, and compilers swap the operands of + at will:
    // without add_keeping_first_nan the reference itself gave m's NaN in some elements.
    for (GgmlType t : {GgmlType::Q4_1, GgmlType::Q5_1}) {
        const TypeInfo& ti = type_info(t);
        std::vector<uint8_t> src = random_bytes(size_t(ti.block_bytes) * 9, 77);
        for (size_t b = 0; b < 9; ++b) {
            uint8_t* block = src.data() + b * ti.block_bytes;
            block[0] = 0x01, block[1] = 0x7e;  // d: a quiet NaN, payload 1
            block[2] = 0x02, block[3] = 0xfe;  // m: a negative NaN, payload 2
        }
        for (OutType o : {OutType::F16, OutType::F32, OutType::BF16}) check_same(t, src, o);
        std::vector<float> y(9 * 32);
        decode_blocks(t, src.data(), 9, OutType::F32, reinterpret_cast<uint8_t*>(y.data()));
        for (float v : y) {
            uint32_t bits;
            std::memcpy(&bits, &v, 4);
            INFO(ti.name);
            REQUIRE(bits == 0x7fc02000u);
        }
    }
}

TEST_CASE("convert_blocks rounds every class of float like float_bits.h") {
    // Every sign/exponent/top-mantissa pattern, with low bits on each side of the F16 and BF16
    // rounding points (ties included): overflow, subnormals, NaN payloads, infinities.
    std::vector<uint8_t> src;
    const uint32_t lows[] = {0x0, 0x1, 0xfff, 0x1000, 0x1001, 0x1fff, 0x2000, 0x3000, 0x7fff, 0x8000, 0x8001, 0xffff};
    for (uint32_t hi = 0; hi < 0x10000; ++hi)
        for (uint32_t lo : lows) {
            const uint32_t bits = (hi << 16) | lo;
            for (int k = 0; k < 4; ++k) src.push_back(uint8_t(bits >> (8 * k)));
        }
    check_same(GgmlType::F32, src, OutType::F16);
    check_same(GgmlType::F32, src, OutType::BF16);
    check_same(GgmlType::F32, src, OutType::F32);
    // F16 and BF16 inputs: all 65536 patterns.
    std::vector<uint8_t> h;
    for (uint32_t v = 0; v < 0x10000; ++v) h.push_back(uint8_t(v)), h.push_back(uint8_t(v >> 8));
    for (OutType o : {OutType::F16, OutType::F32, OutType::BF16}) {
        check_same(GgmlType::F16, h, o);
        check_same(GgmlType::BF16, h, o);
    }
}

TEST_CASE("accumulate_stats counts NaN and Inf apart and keeps min, max, mean, absmax of the rest") {
    const float nan = std::nanf(""), inf = INFINITY;
    const std::vector<float> v = {1.5f, -3.0f, nan, inf, -inf, 0.25f, 2.0f};
    TensorStats s;
    accumulate_stats(OutType::F32, reinterpret_cast<const uint8_t*>(v.data()), v.size(), s);
    CHECK(s.finite == 4);
    CHECK(s.nan == 1);
    CHECK(s.inf == 2);
    CHECK(s.min == -3.0);
    CHECK(s.max == 2.0);
    CHECK(s.absmax == 3.0);
    CHECK(s.mean() == doctest::Approx(0.1875));

    // F16 values are read back as the halves they are: 65504 * 2 overflowed to inf on writing.
    std::vector<uint16_t> h = {formats::f32_to_fp16(65504.0f), formats::f32_to_fp16(131008.0f),
                               formats::f32_to_fp16(-0.5f)};
    TensorStats t;
    accumulate_stats(OutType::F16, reinterpret_cast<const uint8_t*>(h.data()), h.size(), t);
    CHECK(t.inf == 1);
    CHECK(t.max == 65504.0);
    CHECK(t.min == -0.5);

    // Merging a run with no finite value leaves min and max alone.
    TensorStats u;
    u.nan = 2;
    s.merge(u);
    CHECK(s.min == -3.0);
    CHECK(s.nan == 3);
    CHECK(TensorStats{}.finite == 0);
    CHECK(std::isnan(TensorStats{}.mean()));
}

TEST_CASE("accumulate_stats equals a value-by-value reference over long runs, NaN and Inf in some") {
    // Runs of 256 without NaN or Inf take the vector loop; the others are counted value by value.
    std::mt19937 rng(5);
    std::normal_distribution<float> normal(0.01f, 0.5f);
    std::vector<float> v(5000 + 3);
    for (float& x : v) x = normal(rng);
    v[700] = std::nanf(""), v[701] = INFINITY, v[4100] = -INFINITY, v[5002] = std::nanf("");
    v[300] = -11.5f;  // the extremes inside vector runs; absmax is -min
    v[2999] = 9.25f;
    for (OutType o : {OutType::F32, OutType::F16, OutType::BF16}) {
        std::vector<uint8_t> bytes(v.size() * out_type_size(o));
        decode_blocks(GgmlType::F32, reinterpret_cast<const uint8_t*>(v.data()), v.size(), o, bytes.data());
        std::vector<float> back(v.size());
        decode_blocks(o == OutType::F32 ? GgmlType::F32 : o == OutType::F16 ? GgmlType::F16 : GgmlType::BF16,
                      bytes.data(), v.size(), OutType::F32, reinterpret_cast<uint8_t*>(back.data()));
        TensorStats want;
        for (float x : back) {
            if (std::isnan(x)) ++want.nan;
            else if (std::isinf(x)) ++want.inf;
            else want.add(x);
        }
        TensorStats got;
        const size_t size = out_type_size(o);
        for (size_t at = 0; at < v.size(); at += 1234)  // chunks as the engine hands them
            accumulate_stats(o, bytes.data() + at * size, std::min<size_t>(1234, v.size() - at), got);
        INFO(out_type_name(o));
        CHECK(got.finite == want.finite);
        CHECK(got.nan == want.nan);
        CHECK(got.inf == want.inf);
        CHECK(got.min == want.min);
        CHECK(got.max == want.max);
        CHECK(got.absmax == want.absmax);
        CHECK(got.absmax == 11.5);
        CHECK(got.mean() == doctest::Approx(want.mean()).epsilon(1e-12));
    }
}
