#include "bit_compare.h"

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
