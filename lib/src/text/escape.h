#pragma once
// Showing untrusted strings from a file: keys, names and values may hold any bytes.
//
// A file must not be able to move the cursor, recolour the terminal, reorder text (bidi
// overrides) or break out of a Markdown table. Valid, harmless UTF-8 is shown as it is;
// everything else is escaped so that the bytes stay recognisable:
//   \\  \n \r \t          backslash and the usual control characters
//   \xNN                 other C0 controls, DEL, and every byte that is not part of valid UTF-8
//   \u{NNNN}             C1 controls (U+0080..U+009F), bidi controls and other invisible format
//                        characters (U+200B..U+200F, U+2028..U+202E, U+2060..U+2069, U+FEFF)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gguftk {

enum class EscapeFor {
    Text,      // a terminal or plain text
    Markdown,  // as Text, then markdown_text: rendered, it reads exactly as the Text form
};

// Escapes `s`. With `max_bytes`, only the first max_bytes of `s` are shown (cut at a character
// boundary) and "…" follows when something was left out.
std::string escape(std::string_view s, EscapeFor how = EscapeFor::Text, size_t max_bytes = SIZE_MAX);

// Text that is already safe to show (escaped as Text) made literal for CommonMark: every
// character with a meaning in running text (\ ` * _ [ ] ! < > & | # ~) backslash-escaped, and
// a leading or trailing space written &#32; (table cells and headings drop those). A CommonMark
// renderer (with GitHub's tables) turns the result back into exactly `text`.
std::string markdown_text(std::string_view text);

// 'name' in single quotes, escaped, at most 96 bytes of it: for error messages.
std::string quoted_name(std::string_view s);

// "3a 2b ff" for bytes [p, p + n); with sep "", "3a2bff".
std::string hex_bytes(const uint8_t* p, size_t n, std::string_view sep = " ");

bool is_valid_utf8(std::string_view s);
// Valid UTF-8 unchanged; otherwise each maximal ill-formed subpart (a lone bad byte, or the
// start of a sequence cut short: "\xe2\x82" is one) becomes one U+FFFD, as Unicode recommends
// and Python's decode("utf-8", "replace") does. JSON text must be UTF-8: this is what the JSON
// views and manifests emit for strings from a file, so bad bytes show as � instead of failing.
std::string to_valid_utf8(std::string_view s);

// JSON has no NaN or infinity. Every JSON gguftk writes (gguf-inspect --json, gguf-hexdump
// --json, gguf-dequant's manifest.json and safetensors __metadata__) spells a float that is not
// finite as one of the strings "NaN", "Infinity", "-Infinity": this gives which, for such a `v`.
constexpr std::string_view json_nonfinite(double v) noexcept {
    return v != v ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
}

}  // namespace gguftk
