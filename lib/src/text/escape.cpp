#include "text/escape.h"

#include <cstdint>

#include "text/cat.h"

namespace gguftk {
namespace {

// What stands at s[i]: a valid UTF-8 sequence (its length and code point), or else the maximal
// subpart of one (Unicode 3.9, D93b: the longest prefix of some valid sequence, at least one
// byte), which is what one U+FFFD replaces (as Python's decode(errors="replace"), browsers and
// nlohmann::json do). Overlong forms, surrogates and values past U+10FFFF are never valid: the
// second byte's range excludes them (Table 3-7).
struct Utf8 {
    size_t len;
    bool valid;
    char32_t cp;
};

Utf8 utf8_next(std::string_view s, size_t i) {
    const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
    const uint8_t c = b(0);
    if (c < 0x80) return {1, true, c};
    size_t n;
    uint8_t lo = 0x80, hi = 0xbf;  // the second byte's range
    if (c >= 0xc2 && c <= 0xdf) n = 2;
    else if (c >= 0xe0 && c <= 0xef) n = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4) n = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    else return {1, false, 0};
    char32_t v = c & (0x7f >> n);
    for (size_t k = 1; k < n; ++k) {
        if (i + k >= s.size() || b(k) < (k == 1 ? lo : 0x80) || b(k) > (k == 1 ? hi : 0xbf)) return {k, false, 0};
        v = (v << 6) | (b(k) & 0x3f);
    }
    return {n, true, v};
}

// Length of the valid UTF-8 sequence at s[i] (1..4) and its code point, or 0 when there is none.
size_t utf8_at(std::string_view s, size_t i, char32_t* cp) {
    const Utf8 u = utf8_next(s, i);
    *cp = u.cp;
    return u.valid ? u.len : 0;
}

// Code points that are valid but would act on the terminal or the reading order instead of
// being seen: C1 controls, zero-width and bidi formatting characters (U+061C, the Arabic letter
// mark, is one too), line/paragraph separators.
bool invisible(char32_t cp) {
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;
}

// The characters CommonMark (and GitHub's tables and strikethrough) give a meaning to in running
// text: escapes, code spans, emphasis, links and images, autolinks and HTML, entity references,
// table cells, headings' closing sequences, strikethrough. All are ASCII punctuation, which a
// backslash makes literal.
bool markdown_special(char c) {
    switch (c) {
        case '\\': case '`': case '*': case '_': case '[': case ']': case '!': case '<': case '>': case '&':
        case '|': case '#': case '~':
            return true;
        default: return false;
    }
}

}  // namespace

std::string escape(std::string_view s, EscapeFor how, size_t max_bytes) {
    if (how == EscapeFor::Markdown) return markdown_text(escape(s, EscapeFor::Text, max_bytes));
    std::string out;
    out.reserve(std::min(s.size(), max_bytes) + 8);
    size_t i = 0;
    while (i < s.size()) {
        char32_t cp = 0;
        size_t n = utf8_at(s, i, &cp);
        if (i + std::max<size_t>(n, 1) > max_bytes) break;
        if (n == 0) {
            out += "\\x" + text::hex(static_cast<uint8_t>(s[i]), 2);
            i += 1;
            continue;
        }
        if (n == 1) {
            const char c = s[i];
            if (c == '\\') out += "\\\\";
            else if (c == '\n') out += "\\n";
            else if (c == '\r') out += "\\r";
            else if (c == '\t') out += "\\t";
            else if (cp < 0x20 || cp == 0x7f) out += "\\x" + text::hex(cp, 2);
            else out += c;
        } else if (invisible(cp)) {
            out += "\\u{" + text::hex(cp, 4) + "}";
        } else {
            out.append(s.substr(i, n));
        }
        i += n;
    }
    if (i < s.size()) out += "\xe2\x80\xa6";  // …
    return out;
}

std::string markdown_text(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 8);
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        // A table cell or a heading loses the spaces it starts or ends with; a character
        // reference keeps them.
        if (c == ' ' && (i == 0 || i + 1 == text.size())) out += "&#32;";
        else if (markdown_special(c)) out += '\\', out += c;
        else out += c;
    }
    return out;
}

std::string quoted_name(std::string_view s) { return "'" + escape(s, EscapeFor::Text, 96) + "'"; }

std::string hex_bytes(const uint8_t* p, size_t n, std::string_view sep) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s;
    s.reserve(n * (2 + sep.size()));
    for (size_t i = 0; i < n; ++i) {
        if (i) s += sep;
        s += kDigits[p[i] >> 4];
        s += kDigits[p[i] & 15];
    }
    return s;
}

bool is_valid_utf8(std::string_view s) {
    char32_t cp;
    for (size_t i = 0; i < s.size();) {
        const size_t n = utf8_at(s, i, &cp);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::string to_valid_utf8(std::string_view s) {
    if (is_valid_utf8(s)) return std::string(s);
    std::string out;
    out.reserve(s.size() + 16);
    for (size_t i = 0; i < s.size();) {
        const Utf8 u = utf8_next(s, i);
        if (u.valid) out.append(s.substr(i, u.len));
        else out += "\xef\xbf\xbd";  // U+FFFD
        i += u.len;
    }
    return out;
}

}  // namespace gguftk
