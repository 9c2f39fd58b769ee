#include "gguftk/columns.h"

#include <algorithm>

namespace gguftk {
namespace {

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

// The byte where code point `n` of `s` starts (s.size() past the end).
size_t byte_of(std::string_view s, size_t n) {
    size_t i = 0;
    for (; i < s.size(); ++i)
        if (!continuation(s[i]) && n-- == 0) return i;
    return s.size();
}

// The last `n` code points of `s`.
std::string_view last(std::string_view s, size_t n) {
    const size_t w = display_width(s);
    return s.substr(byte_of(s, w - std::min(w, n)));
}

}  // namespace

size_t display_width(std::string_view s) {
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return !continuation(c); }));
}

std::string elide_middle(std::string_view s, size_t width) {
    if (display_width(s) <= width) return std::string(s);
    if (width == 0) return {};
    const size_t head = (width - 1) / 2, tail = width - 1 - head;
    return std::string(s.substr(0, byte_of(s, head))) + "…" + std::string(last(s, tail));
}

std::vector<std::string> wrap_words(std::string_view s, size_t width) { return wrap_words(s, width, width); }

std::vector<std::string> wrap_words(std::string_view s, size_t first, size_t rest) {
    rest = std::max<size_t>(rest, 1);
    size_t width = std::max<size_t>(first, 1);
    std::vector<std::string> lines{""};
    size_t used = 0;  // columns of lines.back()
    while (!s.empty()) {
        const size_t space = s.find(' ');
        std::string_view word = s.substr(0, space);
        s = space == std::string_view::npos ? std::string_view() : s.substr(space + 1);
        if (word.empty()) continue;  // runs of spaces break lines like one
        while (!word.empty()) {
            const size_t w = display_width(word), gap = used ? 1 : 0;
            if (used + gap + w <= width) {
                lines.back() += std::string(gap, ' ') + std::string(word);
                used += gap + w;
                break;
            }
            if (used || (lines.size() == 1 && w <= rest)) {  // the word starts the next line
                lines.emplace_back();
                used = 0;
                width = rest;
                continue;
            }
            const size_t cut = byte_of(word, width);  // longer than a line: cut it
            lines.back() = std::string(word.substr(0, cut));
            lines.emplace_back();
            width = rest;
            word = word.substr(cut);
        }
    }
    if (lines.size() > 1 && lines.back().empty()) lines.pop_back();
    return lines;
}

}  // namespace gguftk
