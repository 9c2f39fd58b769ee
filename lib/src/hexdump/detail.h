#pragma once
// What the hexdump sources share: decoding a field by its kind, and small formatting helpers.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/format.h"
#include "gguftk/hexdump.h"

namespace gguftk::hexdump_detail {

std::string_view kind_name(formats::FieldKind k) noexcept;

// Where each value of a series sits in its field: bits [first[k], first[k] + width) counting
// from bit 0 of the field's first byte. Empty when the values are not bit slices (Scales6's
// scattered bits, the float conversions): such series are never per element.
struct SeriesBits {
    std::vector<uint32_t> first;
    uint32_t width = 0;
};

struct DecodedField {
    std::vector<Series> series;
    std::vector<SeriesBits> bits;  // parallel to series
    bool trits = false;            // base-3 digits: a digit is about one element, its bits about five
};

// Reads field `f` of a block of type `t` (block points at the block's first byte).
DecodedField decode_field(GgmlType t, const formats::Field& f, const uint8_t* block);

// A float for people and for JSON: the shortest decimal that reads back to the same float.
std::string float_text(double v);
// Columns that escaped text takes (no control characters; "…" is one): its code points.
size_t text_width(std::string_view s);
// `s` padded with spaces to `w` columns, after it or, when `right`, before it.
std::string pad(std::string s, size_t w, bool right = false);
// A series' values as text: "1 2 3", reals by float_text. From value `from`, at most `max` of them.
std::string series_text(const Series& s, size_t from = 0, size_t max = SIZE_MAX);

}  // namespace gguftk::hexdump_detail
