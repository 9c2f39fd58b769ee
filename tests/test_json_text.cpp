// The core's JSON text (text/json_text.h) against nlohmann::json's dump(), which the views use and
// the outputs were written with before the core stopped depending on it: the same bytes.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "text/escape.h"
#include "text/json_text.h"

using gguftk::text::json_double;
using gguftk::text::json_string;

namespace {

std::string dumped(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

}  // namespace

// The text with every digit replaced by 'd': the notation alone.
std::string notation(std::string s) {
    for (char& c : s)
        if (c >= '0' && c <= '9') c = 'd';
    return s;
}

// dump()'s digits come from Grisu2, which is not always the shortest (4.8659728973968563e+17
// where 4.865972897396856e+17 reads back the same) nor, at 17 digits, the closest;
// json_double's are the shortest and then the closest (std::to_chars). So: always exact, never
// longer, the same notation wherever the digit counts agree, and mostly the very same text.
void check_double(double v) {
    const std::string ours = json_double(v), theirs = dumped(v);
    INFO(ours, " vs dump() ", theirs, " for bits ", std::bit_cast<uint64_t>(v));
    REQUIRE(std::bit_cast<uint64_t>(std::strtod(ours.c_str(), nullptr)) == std::bit_cast<uint64_t>(v));
    REQUIRE(ours.size() <= theirs.size());
    if (ours.size() == theirs.size()) REQUIRE(notation(ours) == notation(theirs));
}

TEST_CASE("json_double writes what dump() writes, in the shortest digits") {
    const double cases[] = {0.0, -0.0, 1.0, -1.0, 0.5, 0.1, 0.001, 0.0001, 0.00001, 1e-5, 123.456, 2.718281828459045,
                            1e15, 1e16, 1e17, 123456789012345.0, 1234567890123456.0, 12345678901234567.0, 1e21,
                            1e22, 1e100, 1.5e300, 5e-324, 2.2250738585072014e-308,
                            std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest(),
                            std::numeric_limits<double>::denorm_min(), 9007199254740993.0, 3.0e-5, 4.35e-4};
    for (const double v : cases) {
        check_double(v);
        CHECK(json_double(v) == dumped(v));  // all of these have Grisu2's shortest digits
    }
    // Every binade, and random bits: shortest digits and the notation switch points alike.
    std::mt19937_64 rng(20261202);
    int same = 0, n = 0;
    for (int i = 0; i < 200000; ++i) {
        const double v = std::bit_cast<double>(rng());
        if (!std::isfinite(v)) continue;
        check_double(v);
        same += json_double(v) == dumped(v);
        ++n;
    }
    CHECK(same > n * 99 / 100);
    for (int e = -330; e <= 310; ++e) {
        const double v = std::pow(10.0, e) * 1.25;
        if (std::isfinite(v)) check_double(v);
    }
}

TEST_CASE("json_string writes what dump() writes") {
    // Every single byte, alone and between letters (bytes past 0x7f alone are not UTF-8).
    for (int b = 0; b < 256; ++b) {
        const std::string one(1, char(b)), mid = "a" + one + "z";
        CHECK_MESSAGE(json_string(one) == dumped(one), b);
        CHECK_MESSAGE(json_string(mid) == dumped(mid), b);
    }
    const std::string valid[] = {"", "héllo \"quoted\"\ttab", "▁the", "</s>", "\\path\\to", "\x7f", "日本語", "\xF0\x9F\x98\x80",
                                 "line\r\nfeed\f\b"};
    for (const std::string& s : valid) CHECK_MESSAGE(json_string(s) == dumped(s), s);
    // Random valid UTF-8 of every length of sequence.
    std::mt19937 rng(7);
    for (int i = 0; i < 20000; ++i) {
        std::string s;
        for (int n = 0; n < 12; ++n) {
            uint32_t cp = rng() % 0x110000;
            if (cp >= 0xD800 && cp < 0xE000) cp = 0x41;
            if (cp < 0x80) s += char(cp);
            else if (cp < 0x800) s += char(0xC0 | cp >> 6), s += char(0x80 | (cp & 0x3F));
            else if (cp < 0x10000)
                s += char(0xE0 | cp >> 12), s += char(0x80 | (cp >> 6 & 0x3F)), s += char(0x80 | (cp & 0x3F));
            else
                s += char(0xF0 | cp >> 18), s += char(0x80 | (cp >> 12 & 0x3F)), s += char(0x80 | (cp >> 6 & 0x3F)),
                    s += char(0x80 | (cp & 0x3F));
        }
        REQUIRE(json_string(s) == dumped(s));
    }
    // Random bytes, mostly not UTF-8: each bad sequence becomes U+FFFD just as dump() replaces it.
    for (int i = 0; i < 50000; ++i) {
        std::string s;
        const int n = int(rng() % 10);
        for (int k = 0; k < n; ++k) {
            const uint32_t r = rng();
            s += char(r % 3 == 0 ? 0x80 + (r >> 8) % 0x40 : r % 3 == 1 ? 0xC0 + (r >> 8) % 0x40 : (r >> 8) % 256);
        }
        REQUIRE_MESSAGE(json_string(s) == dumped(s), gguftk::hex_bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
    }
}
