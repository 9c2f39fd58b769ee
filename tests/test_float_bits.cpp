// float_bits.h against definitions that share no code with it: the value of a half computed
// with ldexp, round-to-nearest-even computed by comparing distances in double, and, where the
// compiler has it, the compiler's own _Float16 conversion.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <ios>
#include <random>
#include <vector>

#include "bit_compare.h"
#include "formats/float_bits.h"

using namespace gguftk::formats;

namespace {

uint32_t bits_of(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}
float float_of(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// The IEEE binary16 value of finite bits h, from the definition.
double half_value(uint16_t h) {
    const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    const double mag = e == 0 ? std::ldexp(double(m), -24) : std::ldexp(double(1024 + m), e - 25);
    return (h & 0x8000) ? -mag : mag;
}

// Every non-negative finite half value, indexed by its bits 0x0000..0x7bff (increasing).
const std::vector<double>& positive_halves() {
    static const std::vector<double> v = [] {
        std::vector<double> r(0x7c00);
        for (uint32_t h = 0; h < 0x7c00; ++h) r[h] = half_value(uint16_t(h));
        return r;
    }();
    return v;
}

// Round-to-nearest-even float -> half, by definition: the nearest half wins, a tie goes to the
// even one, and values from 65520 (halfway to the next power of two) on overflow to infinity.
// NaN is not handled here.
uint16_t ref_to_half(float f) {
    const uint16_t sign = (bits_of(f) >> 16) & 0x8000;
    const double a = std::fabs(double(f));
    if (a >= 65520.0) return sign | 0x7c00;
    const auto& v = positive_halves();
    // The largest half <= a (binary search over increasing values).
    uint32_t lo = 0, hi = 0x7bff;
    while (lo < hi) {
        const uint32_t mid = (lo + hi + 1) / 2;
        if (v[mid] <= a) lo = mid; else hi = mid - 1;
    }
    if (v[lo] == a || lo == 0x7bff) return uint16_t(sign | lo);
    const double below = a - v[lo], above = v[lo + 1] - a;  // exact: both fit in a double
    const uint32_t r = below < above ? lo : above < below ? lo + 1 : (lo & 1 ? lo + 1 : lo);
    return uint16_t(sign | r);
}

bool half_is_nan(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0; }

}  // namespace

TEST_CASE("fp16_to_f32: every half has the value the IEEE definition gives it") {
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const float f = fp16_to_f32(uint16_t(h));
        const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
        if (e == 0x1f) {
            if (m == 0) {
                REQUIRE(std::isinf(f));
            } else {
                REQUIRE(std::isnan(f));
                // Payload kept, made quiet (as ggml's multiply by 2^-112 and F16C make it).
                REQUIRE((bits_of(f) >> 13 & 0x3ff) == uint32_t(m | 0x200));
            }
            REQUIRE(std::signbit(f) == bool(h & 0x8000));
            continue;
        }
        INFO("half 0x" << std::hex << h);
        REQUIRE(double(f) == half_value(uint16_t(h)));
        REQUIRE(std::signbit(f) == bool(h & 0x8000));  // -0 stays -0
    }
}

TEST_CASE("f32_to_fp16 inverts fp16_to_f32 for all 65536 halves") {
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const uint16_t back = f32_to_fp16(fp16_to_f32(uint16_t(h)));
        INFO("half 0x" << std::hex << h << " came back as 0x" << back);
        if (half_is_nan(uint16_t(h))) {
            REQUIRE(half_is_nan(back));
            REQUIRE((back & 0x8000) == (h & 0x8000));
            REQUIRE((back & 0x200) != 0);  // quiet
        } else {
            REQUIRE(back == h);
        }
    }
}

TEST_CASE("f32_to_fp16 rounds to nearest even: halves, midpoints and their neighbours") {
    // For each pair of adjacent halves: the lower one, the exact midpoint (a tie), and one
    // float ulp either side of both. This walks every rounding boundary, the subnormal ones,
    // the normal/subnormal border and the overflow to infinity.
    int checked = 0;
    for (uint32_t h = 0; h < 0x7c00; ++h) {
        const double lo = half_value(uint16_t(h));
        const double hi = h + 1 < 0x7c00 ? half_value(uint16_t(h + 1)) : 65536.0;  // 65536: rounding limit
        const float mid = float((lo + hi) / 2);  // exact: the midpoint has at most 13 significant bits
        REQUIRE(double(mid) == (lo + hi) / 2);
        for (float base : {float(lo), mid}) {
            for (float f : {base, std::nextafter(base, 0.0f), std::nextafter(base, 1e30f)}) {
                for (float s : {f, -f}) {
                    INFO("float 0x" << std::hex << bits_of(s));
                    REQUIRE(f32_to_fp16(s) == ref_to_half(s));
                    ++checked;
                }
            }
        }
    }
    CHECK(checked > 300000);
}

TEST_CASE("f32_to_fp16 edge values") {
    CHECK(f32_to_fp16(65504.0f) == 0x7bff);
    CHECK(f32_to_fp16(std::nextafter(65520.0f, 0.0f)) == 0x7bff);
    CHECK(f32_to_fp16(65520.0f) == 0x7c00);  // tie between 65504 (odd) and 65536: even is infinity
    CHECK(f32_to_fp16(1e30f) == 0x7c00);
    CHECK(f32_to_fp16(-1e30f) == 0xfc00);
    CHECK(f32_to_fp16(INFINITY) == 0x7c00);
    CHECK(f32_to_fp16(-INFINITY) == 0xfc00);
    CHECK(f32_to_fp16(0x1p-25f) == 0x0000);  // tie between 0 and the smallest subnormal: 0 is even
    CHECK(f32_to_fp16(std::nextafter(0x1p-25f, 1.0f)) == 0x0001);
    CHECK(f32_to_fp16(-0x1p-25f) == 0x8000);
    CHECK(f32_to_fp16(0x1p-24f * 1.5f) == 0x0002);  // 1.5 subnormal ulps: tie, to even 2
    CHECK(f32_to_fp16(0x1p-24f * 2.5f) == 0x0002);  // 2.5: tie, to even 2
    CHECK(f32_to_fp16(float_of(1)) == 0x0000);        // float subnormals vanish
    CHECK(f32_to_fp16(float_of(0x80000001u)) == 0x8000);
    CHECK(f32_to_fp16(-0.0f) == 0x8000);
    CHECK(f32_to_fp16(0x1p-14f) == 0x0400);  // smallest normal half
    CHECK(f32_to_fp16(std::nextafter(0x1p-14f, 0.0f)) == 0x0400);  // rounds up across the border
    for (uint32_t nan : {0x7fc00000u, 0x7f800001u, 0xffc00000u, 0x7fffffffu, 0xff800001u, 0x7f802000u}) {
        const uint16_t h = f32_to_fp16(float_of(nan));
        INFO("nan 0x" << std::hex << nan << " -> 0x" << h);
        CHECK(half_is_nan(h));
        CHECK((h & 0x8000) == ((nan >> 16) & 0x8000));
    }
}

TEST_CASE("f32_to_fp16 agrees with the reference definition on random floats") {
    std::mt19937 rng(1234);
    std::uniform_int_distribution<uint32_t> any;
    for (int i = 0; i < 2000000; ++i) {
        uint32_t x = any(rng);
        // Most floats lie far outside the half range; bias half of them into it.
        if (i & 1) x = (x & 0x807fffffu) | ((100u + x % 45u) << 23);
        const float f = float_of(x);
        if (std::isnan(f)) continue;
        INFO("float 0x" << std::hex << x);
        REQUIRE(f32_to_fp16(f) == ref_to_half(f));
    }
}

#if defined(__FLT16_MAX__)
// The compiler's conversion (libgcc's soft-float or the F16C instruction): a second,
// independent implementation of the same IEEE rounding.
TEST_CASE("float_bits agrees with the compiler's _Float16 conversions") {
    for (uint32_t h = 0; h < 0x10000; ++h) {
        _Float16 v;
        const uint16_t hb = uint16_t(h);
        std::memcpy(&v, &hb, 2);
        const float f = float(v);
        if (std::isnan(f)) continue;
        REQUIRE(bits_of(fp16_to_f32(hb)) == bits_of(f));
    }
    std::mt19937 rng(99);
    std::uniform_int_distribution<uint32_t> any;
    for (int i = 0; i < 2000000; ++i) {
        uint32_t x = any(rng);
        if (i & 1) x = (x & 0x807fffffu) | ((100u + x % 45u) << 23);
        const float f = float_of(x);
        if (std::isnan(f)) continue;
        volatile float vf = f;  // keep the conversion at run time
        const _Float16 c = _Float16(vf);
        uint16_t cb;
        std::memcpy(&cb, &c, 2);
        INFO("float 0x" << std::hex << x);
        REQUIRE(f32_to_fp16(f) == cb);
    }
}
#endif

TEST_CASE("bf16: widening is exact, narrowing rounds to nearest even") {
    for (uint32_t b = 0; b < 0x10000; ++b) {
        const float f = bf16_to_f32(uint16_t(b));
        REQUIRE(bits_of(f) == b << 16);
        if (!std::isnan(f)) REQUIRE(f32_to_bf16(f) == b);
    }
    CHECK(f32_to_bf16(float_of(0x3f808000u)) == 0x3f80);  // tie, 0x3f80 is even
    CHECK(f32_to_bf16(float_of(0x3f818000u)) == 0x3f82);  // tie, 0x3f81 is odd: up
    CHECK(f32_to_bf16(float_of(0x3f808001u)) == 0x3f81);
    CHECK(f32_to_bf16(float_of(0x7f7fffffu)) == 0x7f80);  // largest float rounds to infinity
    CHECK(f32_to_bf16(float_of(0x7f7f7fffu)) == 0x7f7f);
    CHECK(f32_to_bf16(float_of(0x00000001u)) == 0x0000);
    CHECK(f32_to_bf16(float_of(0x80008000u)) == 0x8000);
    for (uint32_t nan : {0x7fc00000u, 0x7f800001u, 0xffc00000u, 0x7fffffffu, 0xff800001u}) {
        const uint16_t b = f32_to_bf16(float_of(nan));
        CHECK(std::isnan(bf16_to_f32(b)));
        CHECK((b & 0x8000) == ((nan >> 16) & 0x8000));
    }
    std::mt19937 rng(7);
    std::uniform_int_distribution<uint32_t> any;
    for (int i = 0; i < 2000000; ++i) {
        const uint32_t x = (i & 1) ? any(rng) : (any(rng) & 0xffff0000u) | (0x7fffu + uint32_t(i / 2 % 3));  // ties, neighbours
        const float f = float_of(x);
        if (std::isnan(f)) continue;
        INFO("float 0x" << std::hex << x);
        REQUIRE(f32_to_bf16(f) == gguftk::test::bf16_by_definition(f));
    }
}
