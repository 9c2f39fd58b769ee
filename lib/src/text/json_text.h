#pragma once
// JSON text for the few small documents the core writes itself (the safetensors header, the npy
// and raw manifest), so that the core needs no JSON library: strings and numbers exactly as
// nlohmann::json's dump() writes them, but for the rare double that dump() writes longer than
// it need be (tests/test_json_text.cpp holds them to that).
#include <string>
#include <string_view>

namespace gguftk::text {

// `s` as a JSON string, quotes included. Bytes that are not UTF-8 become U+FFFD
// (to_valid_utf8); '"', '\\' and control characters are escaped; the rest is kept as UTF-8.
void append_json_string(std::string& out, std::string_view s);
inline std::string json_string(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

// A finite double as the shortest text that reads back to it, in dump()'s notation: "1.0",
// "0.001", "1e-05", "1.5e+300". (dump()'s own digits are not always the shortest: in about one
// case in a thousand it writes 17 where 16 read back the same.)
std::string json_double(double v);

}  // namespace gguftk::text
