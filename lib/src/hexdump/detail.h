#pragma once
// What the hexdump sources share: decoding a field by its kind, and small formatting helpers.
#include <fmt/core.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "formats/format.h"
#include "hexdump/hexdump.h"

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
DecodedField decode_field(const formats::Field& f, const uint8_t* block);

// An integer type's element: `n` little-endian bytes, sign-extended.
int64_t load_int(const uint8_t* p, uint32_t n);
// The values of `count` consecutive blocks of type `t`, by decode_blocks to F32: gguf-dequant's
// decoder, the one every view of values goes through. False for the integer types (none).
bool decode_values(const TypeInfo& t, std::span<const uint8_t> blocks, uint64_t count, std::vector<float>& out);
// Throws Error for a big-endian file: its quantized blocks have every field swapped, by rules
// ggml never wrote down, so no view of tensor data reads them.
void refuse_big_endian(const GgufFile& f);

// ANSI styles for the text views, or none (`on` false: a pipe, NO_COLOR, Markdown).
struct Style {
    bool on;
    std::string wrap(std::string_view code, std::string_view s) const {
        return on ? fmt::format("\x1b[{}m{}\x1b[0m", code, s) : std::string(s);
    }
    std::string bold(std::string_view s) const { return wrap("1", s); }
    std::string dim(std::string_view s) const { return wrap("2", s); }
    std::string inverse(std::string_view s) const { return wrap("7", s); }
    // Field i's colour in the hex dump and the table: six that read on dark and light terminals.
    std::string field(size_t i, std::string_view s) const {
        static constexpr const char* kColours[] = {"36", "33", "32", "35", "34", "31"};
        return wrap(kColours[i % 6], s);
    }
};

// "TITLE: TEXT", the title in bold. With `columns` (a terminal's), the title shortened in the
// middle to half the line and the text wrapped after it onto lines indented by two.
std::string titled(const std::string& title, const std::string& text, const Style& st, size_t columns);

// i1, i2 (, i3) of row `row` of a tensor of more than two dimensions; nothing for one or two.
std::vector<uint64_t> higher_indices(const TensorInfo& t, uint64_t row);

// " (i1=2, i2=1)": the higher indices of a flattened row (ElementPlace::higher), or "" for none.
std::string higher_text(const std::vector<uint64_t>& higher);

// A float for people and for JSON: the shortest decimal that reads back to the same float.
std::string float_text(double v);
// Columns that escaped text takes (no control characters; "…" is one): its code points.
size_t text_width(std::string_view s);
// `s` padded with spaces to `w` columns, after it or, when `right`, before it.
std::string pad(std::string s, size_t w, bool right = false);
// A series' values as text: "1 2 3", reals by float_text. From value `from`, at most `max` of them.
std::string series_text(const Series& s, size_t from = 0, size_t max = SIZE_MAX);

}  // namespace gguftk::hexdump_detail
