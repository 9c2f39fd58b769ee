#pragma once
// ASCII case, the one way the project ignores it: type and target names ("q4_k" is Q4_K), URL
// schemes ("HTTPS://"), HTTP header names, and names compared for "did you mean". Only A-Z and
// a-z fold, whatever the locale: which names match must not depend on the user's environment.
#include <string>
#include <string_view>

namespace gguftk::text {

constexpr char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

// Equal but for ASCII case.
constexpr bool iequal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequal(s.substr(0, prefix.size()), prefix);
}

inline std::string ascii_lowered(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

}  // namespace gguftk::text
