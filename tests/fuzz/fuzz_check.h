#pragma once
// Checks the fuzz targets share. A failed check is a crash the fuzzer records, with its input.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gguftk::fuzz {

inline void require(bool ok) {
    if (!ok) __builtin_trap();
}

// A tensor shape as GGUF has one: 1 to 4 dimensions, the unused ones 1, n_elements their product
// (which does not overflow).
template <class Dims>
void require_shape(uint32_t n_dims, const Dims& ne, uint64_t n_elements) {
    require(n_dims >= 1 && n_dims <= 4);
    uint64_t n = 1;
    for (uint32_t d = 0; d < 4; ++d) {
        if (d >= n_dims) require(ne[d] == 1);
        require(!__builtin_mul_overflow(n, uint64_t{ne[d]}, &n));
    }
    require(n == n_elements);
}

// Safe for a terminal: valid UTF-8 (checked here, independently of escape.h's own validator),
// no C0 control but \t and \n, no DEL, no C1 control, no bidi or invisible format character.
inline void require_terminal_safe(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    for (size_t i = 0; i < n;) {
        const unsigned c = p[i];
        if (c < 0x80) {
            require(c >= 0x20 ? c != 0x7f : (c == '\n' || c == '\t'));
            ++i;
            continue;
        }
        const int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
        require(len != 0 && c >= 0xc2 && c <= 0xf4 && i + len <= n);
        uint32_t cp = c & (0x7f >> len);
        for (int k = 1; k < len; ++k) {
            require((p[i + k] & 0xc0) == 0x80);
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        require(cp >= (len == 2 ? 0x80u : len == 3 ? 0x800u : 0x10000u));  // shortest form
        require(cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff));          // a scalar value
        require(!(cp >= 0x80 && cp <= 0x9f));                                 // C1 (CSI is U+009B)
        require(cp != 0x061c && !(cp >= 0x200b && cp <= 0x200f) && !(cp >= 0x2028 && cp <= 0x202e) &&
                !(cp >= 0x2060 && cp <= 0x2069) && cp != 0xfeff);             // bidi, invisible
        i += len;
    }
}

}  // namespace gguftk::fuzz
