// Values by element: where an element lies (row, column, block), and a row's values.
//
// A row is read a piece at a time, each piece the blocks covering it and no more (the reader
// checked that ne[0] is a whole number of blocks, so a row's blocks are its own), and decoded by
// decode_values, the block view's decoder: a row of any length takes bounded memory, and a value
// shown here is the one `--block` shows for the same element.
#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "text/escape.h"
#include "hexdump/hexdump.h"
#include "inspect/inspect.h"
#include "detail.h"
#include "text/text_out.h"

namespace gguftk {
namespace {

using hexdump_detail::float_text;
using hexdump_detail::higher_indices;
using hexdump_detail::higher_text;
using hexdump_detail::pad;
using hexdump_detail::Style;

constexpr size_t kTextWidth = 80;   // the text view's lines stay within this many columns
constexpr uint64_t kMaxPerLine = 8;  // values on one line at most

// "4 rows (0..3)", "1 row (0..0)", "no rows".
std::string count_words(uint64_t n, std::string_view unit) {
    if (n == 0) return fmt::format("no {}s", unit);
    return fmt::format("{} {}{} (0..{})", n, unit, n == 1 ? "" : "s", n - 1);
}

// Every refusal names the tensor and its shape, so the user sees at once what would have fitted.
[[noreturn]] void out_of_range(const GgufFile& f, const TensorInfo& t, const std::string& what, uint64_t n,
                               std::string_view unit) {
    throw ArgumentError(fmt::format("{} out of range: tensor {} of shape {} has {}", what, quoted_name(t.name),
                            shape_string(t), count_words(n, unit)),
                std::nullopt, f.path());
}

// One end of a slice against a row of n columns, as Python resolves it: a negative end counts
// from the row's end, and an end past either end of the row is clamped to it.
uint64_t slice_end(std::optional<int64_t> v, uint64_t n, uint64_t absent) {
    if (!v) return absent;
    if (*v >= 0) return std::min(uint64_t(*v), n);
    const uint64_t back = uint64_t(-(*v + 1)) + 1;  // |v|, without negating INT64_MIN
    return back <= n ? n - back : 0;
}

// One end of a slice: empty (left out) or a decimal integer with an optional sign. Python takes
// integers of any size; one past int64 is clamped to the row all the same, so it saturates.
bool parse_end(std::string_view part, std::optional<int64_t>& v) {
    if (part.empty()) return true;
    const bool minus = part[0] == '-';
    if (minus || part[0] == '+') part.remove_prefix(1);
    if (part.empty() || !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return false;
    uint64_t x = 0;
    const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), x);
    if (ec != std::errc()) x = UINT64_MAX;  // only out of range is left: digits and nothing else
    constexpr uint64_t kMax = uint64_t(INT64_MAX);
    v = minus ? (x > kMax ? INT64_MIN : -int64_t(x)) : int64_t(std::min(x, kMax));
    return true;
}

// Values [first, first + count) of the tensor's flat element order, read and decoded as blocks.
RowValues read_values(const GgufFile& f, const TensorInfo& t, uint64_t first, uint64_t count) {
    const uint64_t be = t.type->block_elems, bb = t.type->block_bytes;
    const uint64_t b0 = first / be, b1 = (first + count + be - 1) / be;
    std::vector<uint8_t> data((b1 - b0) * bb);  // bounded by the caller's count
    f.read(t.offset + b0 * bb, data);
    RowValues r;
    const uint64_t skip = first - b0 * be;
    std::vector<float> values;
    if (hexdump_detail::decode_values(*t.type, data, b1 - b0, values)) {
        r.values.assign(values.begin() + skip, values.begin() + skip + count);
        return r;
    }
    r.is_integer = true;  // integer types: one element a block
    for (uint64_t k = 0; k < count; ++k) r.ints.push_back(hexdump_detail::load_int(data.data() + k * bb, uint32_t(bb)));
    return r;
}

std::string value_text(const RowValues& v, size_t k) {
    return v.is_integer ? std::to_string(v.ints[k]) : float_text(v.values[k]);
}

// A piece as lines of up to eight values, each line led by the column of its first value. The
// cells are as wide as the piece's widest value, and a line holds as many as fit in `width`.
std::string grid_text(const RowValues& v, size_t index_w, const Style& st, size_t width) {
    std::vector<std::string> cells(v.size());
    size_t cw = 1;
    for (size_t k = 0; k < cells.size(); ++k) cw = std::max(cw, (cells[k] = value_text(v, k)).size());
    const size_t room = width - std::min(width - 1, index_w + 3);
    const size_t per = std::clamp<size_t>(room / (cw + 1), 1, kMaxPerLine);
    std::string out;
    for (size_t k = 0; k < cells.size(); k += per) {
        out += st.dim(pad(std::to_string(v.first + k), index_w + 2, true)) + ' ';
        for (size_t j = k; j < std::min(cells.size(), k + per); ++j) {
            const bool odd = !v.is_integer && !std::isfinite(v.values[j]);  // NaN, inf: what one hunts for
            out += ' ' + (odd ? st.wrap("31", pad(cells[j], cw, true)) : pad(cells[j], cw, true));
        }
        out += '\n';
    }
    return out;
}

// "columns 1792-1807 of 1024, block 15" / "column 5 of 1024, blocks 3-4".
std::string span_words(const TensorInfo& t, const RowSpan& s) {
    const uint64_t be = t.type->block_elems, first = s.row * t.ne[0];
    const uint64_t b0 = (first + s.start) / be, b1 = (first + s.stop - 1) / be;
    const std::string cols = s.stop - s.start == 1 ? fmt::format("column {}", s.start)
                                                   : fmt::format("columns {}-{}", s.start, s.stop - 1);
    const std::string blocks = b0 == b1 ? fmt::format("block {}", b0) : fmt::format("blocks {}-{}", b0, b1);
    return fmt::format("{} of {}, {}", cols, t.ne[0], blocks);
}

// The grid in 80 columns, or in `columns` (a terminal's) when fewer.
void render_grid(const GgufFile& f, const TensorInfo& t, const RowSpan& s, const Style& st, TextOut& out,
                 size_t columns = 0) {
    const size_t index_w = std::to_string(s.stop - 1).size();
    const size_t width = columns ? std::min(columns, kTextWidth) : kTextWidth;
    row_values(f, t, s, [&](const RowValues& v) { out += grid_text(v, index_w, st, width); });
}

}  // namespace

std::vector<uint64_t> hexdump_detail::higher_indices(const TensorInfo& t, uint64_t row) {
    std::vector<uint64_t> out;
    for (uint32_t d = 1; t.n_dims > 2 && d < t.n_dims; ++d) {
        out.push_back(t.ne[d] ? row % t.ne[d] : 0);
        row = t.ne[d] ? row / t.ne[d] : 0;
    }
    return out;
}

std::string hexdump_detail::higher_text(const std::vector<uint64_t>& higher) {
    std::string s;
    for (size_t k = 0; k < higher.size(); ++k) s += fmt::format("{}i{}={}", k ? ", " : " (", k + 1, higher[k]);
    return higher.empty() ? s : s + ')';
}

uint64_t n_rows(const TensorInfo& t) { return t.ne[0] == 0 ? 0 : t.n_elements / t.ne[0]; }

ElementPlace place_element(const GgufFile& f, const TensorInfo& t, uint64_t element) {
    if (element >= t.n_elements) out_of_range(f, t, fmt::format("element {}", element), t.n_elements, "element");
    const uint64_t be = t.type->block_elems;
    ElementPlace p;
    p.element = element;
    p.row = element / t.ne[0];  // ne[0] > 0: the tensor has an element
    p.column = element % t.ne[0];
    p.block = element / be;
    p.in_block = uint32_t(element % be);
    p.higher = higher_indices(t, p.row);
    return p;
}

ElementPlace place_element(const GgufFile& f, const TensorInfo& t, uint64_t row, uint64_t column) {
    if (row >= n_rows(t)) out_of_range(f, t, fmt::format("row {}", row), n_rows(t), "row");
    if (column >= t.ne[0]) out_of_range(f, t, fmt::format("column {}", column), t.ne[0], "column");
    return place_element(f, t, row * t.ne[0] + column);  // < n_elements: no overflow
}

namespace {

// "ROW,COL (...) or its 3 indices I2,I1,COL in NumPy's order": what --at takes for `t`.
std::string at_forms(const TensorInfo& t) {
    if (t.n_dims == 1) return "ROW,COL (row 0, its only one) or COL";
    if (t.n_dims == 2) return "ROW,COL";
    std::string numpy;
    for (uint32_t d = t.n_dims; d-- > 1;) numpy += fmt::format("I{},", d);
    return fmt::format("ROW,COL (the rows flattened: row = i1 + ne1*(i2 + ne2*i3)) or its {} indices {}COL in NumPy's "
                       "order (the shape reversed)",
                       t.n_dims, numpy);
}

// The row of NumPy index `at` (..., i2, i1, col), each index checked against its dimension.
uint64_t row_of(const GgufFile& f, const TensorInfo& t, std::span<const uint64_t> at) {
    uint64_t row = 0;
    for (uint32_t d = t.n_dims; d-- > 1;) {
        const uint64_t i = at[t.n_dims - 1 - d];
        if (i >= t.ne[d])
            throw ArgumentError(fmt::format("i{} {} out of range: tensor {} of shape {} (GGUF order) has ne{} = {}", d,
                                            i, quoted_name(t.name), shape_string(t), d, t.ne[d]),
                                std::nullopt, f.path());
        row = row * t.ne[d] + i;  // i3 first: row = i1 + ne1 * (i2 + ne2 * i3)
    }
    return row;
}

}  // namespace

ElementPlace place_at(const GgufFile& f, const TensorInfo& t, std::span<const uint64_t> at) {
    if (at.size() == 2) return place_element(f, t, at[0], at[1]);
    if (at.size() != t.n_dims)
        throw ArgumentError(fmt::format("--at takes {} numbers for tensor {} of shape {} (GGUF order): {}; got {}",
                                        t.n_dims == 2 ? "2" : fmt::format("2 or {}", t.n_dims), quoted_name(t.name),
                                        shape_string(t), at_forms(t), at.size()),
                            std::nullopt, f.path());
    return place_element(f, t, row_of(f, t, at), at.back());
}

BlockDump dump_element_block(const GgufFile& f, const TensorInfo& t, const ElementPlace& p) {
    BlockDump b = dump_block(f, t, p.block);
    b.marked = p;
    return b;
}

std::optional<ColumnSlice> parse_column_slice(std::string_view s) {
    const size_t colon = s.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    ColumnSlice c;
    c.text = std::string(s);
    if (!parse_end(s.substr(0, colon), c.start) || !parse_end(s.substr(colon + 1), c.stop)) return std::nullopt;
    return c;
}

void check_row_span(const GgufFile& f, const TensorInfo& t, const RowSpan& s) {
    if (s.row >= n_rows(t)) out_of_range(f, t, fmt::format("row {}", s.row), n_rows(t), "row");
    if (s.start >= s.stop || s.stop > t.ne[0])
        out_of_range(f, t, fmt::format("columns {}:{}", s.start, s.stop), t.ne[0], "column");
}

RowSpan row_span(const GgufFile& f, const TensorInfo& t, uint64_t row, const ColumnSlice& cols) {
    if (row >= n_rows(t)) out_of_range(f, t, fmt::format("row {}", row), n_rows(t), "row");
    const uint64_t n = t.ne[0];
    const uint64_t start = slice_end(cols.start, n, 0), stop = slice_end(cols.stop, n, n);
    if (start >= stop)
        throw ArgumentError(fmt::format("columns {} select no column: tensor {} of shape {} has {}", escape(cols.text),
                                        quoted_name(t.name), shape_string(t), count_words(n, "column")),
                            std::nullopt, f.path());
    return RowSpan{row, start, stop};
}

void row_values(const GgufFile& f, const TensorInfo& t, const RowSpan& s,
                const std::function<void(const RowValues&)>& piece) {
    check_row_span(f, t, s);
    hexdump_detail::refuse_big_endian(f);
    const uint64_t row_first = s.row * t.ne[0];  // < n_elements: no overflow
    for (uint64_t col = s.start; col < s.stop; col += std::min(kRowPiece, s.stop - col)) {
        RowValues v = read_values(f, t, row_first + col, std::min(kRowPiece, s.stop - col));
        v.first = col;
        piece(v);
    }
}

void render_row_text(const GgufFile& f, const TensorInfo& t, const RowSpan& s, bool color,
                     const std::function<void(std::string_view)>& sink, size_t columns) {
    check_row_span(f, t, s);
    hexdump_detail::refuse_big_endian(f);  // before the title: a refusal prints nothing
    const Style st{color};
    TextOut out(sink);
    const std::string title =
        fmt::format("{} row {} of {}{}", escape(t.name), s.row, n_rows(t), higher_text(higher_indices(t, s.row)));
    out += hexdump_detail::titled(title, fmt::format("{}, shape {} (GGUF order, ne0 first)", t.type->name, shape_string(t)),
                                  st, columns) +
           '\n';
    out += span_words(t, s) + '\n';
    render_grid(f, t, s, st, out, columns);
    out.flush();
}

void render_row_markdown(const GgufFile& f, const TensorInfo& t, const RowSpan& s,
                         const std::function<void(std::string_view)>& sink) {
    check_row_span(f, t, s);
    hexdump_detail::refuse_big_endian(f);
    TextOut out(sink);
    out += fmt::format("### {} row {} ({})\n\n", escape(t.name, EscapeFor::Markdown), s.row, t.type->name);
    out += fmt::format("Row {} of {}{} of a {} tensor (GGUF order, ne0 first): {}.\n\n```text\n", s.row, n_rows(t),
                       higher_text(higher_indices(t, s.row)), shape_string(t), span_words(t, s));
    render_grid(f, t, s, Style{false}, out);
    out += "```\n";
    out.flush();
}

}  // namespace gguftk
