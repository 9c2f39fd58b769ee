#include "text/json_text.h"

#include <charconv>
#include <cstdlib>

#include "text/escape.h"
#include "text/cat.h"

namespace gguftk::text {

void append_json_string(std::string& out, std::string_view s) {
    const std::string valid = is_valid_utf8(s) ? std::string() : to_valid_utf8(s);
    if (!valid.empty()) s = valid;
    out += '"';
    for (const char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) out += "\\u" + hex(static_cast<unsigned char>(c), 4);
                else out += c;
        }
    }
    out += '"';
}

std::string json_double(double v) {
    // The shortest digits that read back to v, and where the decimal point goes; then dump()'s
    // layout: plain notation while the point is within 15 digits left or 4 zeros right of them.
    char buf[32];
    const char* end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific).ptr;
    std::string_view sci(buf, size_t(end - buf));
    std::string out;
    if (sci.front() == '-') {
        out += '-';
        sci.remove_prefix(1);
    }
    const size_t e = sci.find('e');
    std::string digits;
    for (const char c : sci.substr(0, e))
        if (c != '.') digits += c;
    const int exp10 = std::atoi(std::string(sci.substr(e + 1)).c_str());
    const int k = int(digits.size());
    const int n = exp10 + 1;  // digits before the decimal point
    if (k <= n && n <= 15) {
        out += digits + std::string(size_t(n - k), '0') + ".0";
    } else if (0 < n && n <= 15) {
        out += digits.substr(0, size_t(n)) + "." + digits.substr(size_t(n));
    } else if (-4 < n && n <= 0) {
        out += "0." + std::string(size_t(-n), '0') + digits;
    } else {
        out += digits.substr(0, 1);
        if (k > 1) out += "." + digits.substr(1);
        const int x = n - 1;
        out += x < 0 ? "e-" : "e+";
        const int ax = x < 0 ? -x : x;
        out += (ax < 10 ? "0" : "") + std::to_string(ax);
    }
    return out;
}

}  // namespace gguftk::text
