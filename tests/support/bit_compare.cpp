#include "bit_compare.h"

#include <cmath>
#include <cstring>

#include <fmt/format.h>

namespace gguftk::test {

std::string first_mismatch(std::span<const uint8_t> got, std::span<const uint8_t> want, int elem_bytes) {
    if (got.size() != want.size())
        return fmt::format("{} elements, expected {}", got.size() / elem_bytes, want.size() / elem_bytes);
    const size_t n = got.size() / elem_bytes;
    size_t first = n, count = 0;
    for (size_t i = 0; i < n; ++i) {
        if (std::memcmp(got.data() + i * elem_bytes, want.data() + i * elem_bytes, elem_bytes) != 0) {
            if (first == n) first = i;
            ++count;
        }
    }
    if (count == 0) return {};
    auto bits = [&](std::span<const uint8_t> s) {
        uint32_t u = 0;
        std::memcpy(&u, s.data() + first * elem_bytes, elem_bytes);  // little-endian hosts only
        return u;
    };
    const uint32_t g = bits(got), w = bits(want);
    if (elem_bytes == 4) {
        float gf, wf;
        std::memcpy(&gf, &g, 4);
        std::memcpy(&wf, &w, 4);
        return fmt::format("{} of {} elements differ; first at index {}: got 0x{:08x} ({}), expected 0x{:08x} ({})",
                           count, n, first, g, gf, w, wf);
    }
    return fmt::format("{} of {} elements differ; first at index {}: got 0x{:04x}, expected 0x{:04x}", count, n,
                       first, g, w);
}

}  // namespace gguftk::test

namespace gguftk::test {

uint16_t bf16_by_definition(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    if (std::isnan(f)) return uint16_t((x >> 16) | 0x40);
    const uint32_t lo = x & 0xffff0000u;
    if (x == lo) return uint16_t(lo >> 16);
    auto magnitude = [](uint32_t bits) {
        if ((bits & 0x7fffffffu) == 0x7f800000u) return std::ldexp(1.0, 128);  // as if unbounded
        float v;
        std::memcpy(&v, &bits, 4);
        return std::fabs(double(v));
    };
    const uint32_t up = lo + 0x10000u;  // next bfloat16 away from zero
    const double a = std::fabs(double(f));
    const double below = a - magnitude(lo), above = magnitude(up) - a;  // exact in double
    const uint32_t r = below < above ? lo : above < below ? up : (((lo >> 16) & 1) ? up : lo);
    return uint16_t(r >> 16);
}

}  // namespace gguftk::test
