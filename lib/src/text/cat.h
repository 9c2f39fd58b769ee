#pragma once
// Messages built by plain concatenation, so that the core (reader, converter) needs no
// formatting library: cat("tensor ", name, ": n_dims ", n, " is not in 1..", 4).
#include <charconv>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace gguftk::text {

namespace detail {
inline void append(std::string& s, std::string_view v) { s.append(v); }
inline void append(std::string& s, char c) { s.push_back(c); }
template <std::integral I>
    requires(!std::same_as<I, char> && !std::same_as<I, bool>)
void append(std::string& s, I v) {
    char buf[24];
    s.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}
}  // namespace detail

template <class... Parts>
std::string cat(const Parts&... parts) {
    std::string s;
    (detail::append(s, parts), ...);
    return s;
}

// `v` in lower-case hex, zero-padded to at least `width` digits: hex(0x1f, 4) == "001f".
inline std::string hex(uint64_t v, int width) {
    char buf[17];
    const auto end = std::to_chars(buf, buf + sizeof buf, v, 16).ptr;
    const auto n = static_cast<int>(end - buf);
    return std::string(n < width ? size_t(width - n) : 0, '0').append(buf, end);
}

}  // namespace gguftk::text
