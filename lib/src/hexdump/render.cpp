// Text and Markdown views of a block and of a format description.
//
// A block view has three parts: the field table (byte range, field, kind, hex, what the
// bytes say), the hex dump with every line labelled by the fields it crosses, and the
// values part by part, each part with the shared values it uses (its scale, min, grid index)
// and the per-element codes beside the decoded floats.
#include <fmt/core.h>

#include <algorithm>

#include "text/columns.h"
#include "text/escape.h"
#include "hexdump/hexdump.h"
#include "detail.h"

namespace gguftk {
namespace {

using hexdump_detail::float_text;
using hexdump_detail::pad;
using hexdump_detail::series_text;
using hexdump_detail::Style;
using hexdump_detail::text_width;

constexpr size_t kTableValues = 12;  // values of a series shown in a table cell
constexpr size_t kHexCell = 8;       // bytes of a field shown in a table cell on a terminal
constexpr size_t kHexLine = 16;      // elsewhere every byte, this many a line
constexpr size_t kValuesPerLine = 8;

// `text` in lines of `width` columns (0: one line, as it is), each line after the first
// indented by `indent`.
std::string fitted(const std::string& text, size_t width, size_t indent) {
    if (!width) return text;
    std::string out;
    for (const std::string& l : wrap_words(text, width)) {
        if (!out.empty()) out.append("\n").append(indent, ' ');
        out += l;
    }
    return out;
}

// " TEXT" after `used` columns of a line `columns` wide, going on on lines indented by two.
std::string fitted_after(const std::string& text, size_t used, size_t columns) {
    std::string out;
    const std::vector<std::string> lines = wrap_words(text, columns > used + 1 ? columns - used - 1 : 1, columns - 2);
    for (size_t i = 0; i < lines.size(); ++i) out += (i ? "\n  " : lines[0].empty() ? "" : " ") + lines[i];
    return out;
}

std::string range_text(uint32_t offset, uint32_t size) {
    return size == 1 ? std::to_string(offset) : fmt::format("{}-{}", offset, offset + size - 1);
}

// A field's bytes as hex lines: every byte, 16 a line, or (`shorten`: on a terminal, where the
// hex dump under the table has them all) the first kHexCell and "…".
std::vector<std::string> hex_lines(const BlockDump& b, const FieldDump& f, bool shorten) {
    const uint8_t* p = b.bytes.data() + f.offset;
    if (shorten) return {hex_bytes(p, std::min<size_t>(f.size, kHexCell)) + (f.size > kHexCell ? " …" : "")};
    std::vector<std::string> out;
    for (size_t at = 0; at < f.size; at += kHexLine)
        out.push_back(hex_bytes(p + at, std::min<size_t>(f.size - at, kHexLine)));
    return out;
}

// What a field's bytes say, in one cell: every value, or (`shorten`: on a terminal) the first
// kTableValues of a long series and how many there are.
std::string decoded_cell(const BlockDump& b, const FieldDump& f, bool shorten) {
    if (b.is_integer) return std::to_string(b.int_value);  // the series' double rounds past 2^53
    if (f.series.empty()) return "";
    std::string out;
    for (const Series& s : f.series) {
        if (!out.empty()) out += "; ";
        if (!s.elements.empty() && s.values.size() > 1) {
            out += fmt::format("{} {}, one per element (shown with the values)", s.values.size(), s.name);
            continue;
        }
        // A lone series is named by the field ("d 0.5"); several need their names ("scales ...; mins ...").
        const size_t shown = shorten ? kTableValues : s.values.size();
        out += (f.series.size() == 1 ? "" : s.name + ' ') + series_text(s, 0, shown);
        if (s.values.size() > shown) out += fmt::format(" … ({} in all)", s.values.size());
    }
    if (!f.used) out += " (not used by decoding)";
    return out;
}

// The shared values a part uses: for each grouped series, the value(s) covering its elements.
std::string part_params(const BlockDump& b, uint32_t first, uint32_t n) {
    const uint32_t elems = b.format.type->block_elems;
    std::string out;
    for (const FieldDump& f : b.fields) {
        if (!f.used) continue;
        for (const Series& s : f.series) {
            if (!s.grouped || s.values.empty() || elems % s.values.size() != 0) continue;
            const uint32_t per = elems / uint32_t(s.values.size());
            const size_t lo = first / per, hi = (first + n - 1) / per;
            std::string name = s.name;
            if (f.series.size() == 1 && s.name != f.name) name = f.name;  // "d 0.5", not "fp16 0.5"
            out += fmt::format("{}{} {}", out.empty() ? "" : ", ", name, series_text(s, lo, hi - lo + 1));
        }
    }
    return out;
}

// Per-element codes of a part: for each per-element series, its values for elements [first, first+n).
std::vector<std::pair<std::string, std::vector<std::string>>> part_codes(const BlockDump& b, uint32_t first,
                                                                            uint32_t n) {
    std::vector<std::pair<std::string, std::vector<std::string>>> rows;
    for (const FieldDump& f : b.fields) {
        for (const Series& s : f.series) {
            if (s.elements.empty() || b.is_integer) continue;
            std::vector<std::string> cells(n, "·");
            bool any = false;
            for (size_t k = 0; k < s.values.size(); ++k) {
                const uint32_t e = s.elements[k];
                if (e < first || e >= first + n) continue;
                cells[e - first] = series_text(s, k, 1);
                any = true;
            }
            if (any) rows.push_back({f.series.size() == 1 ? f.name : f.name + "." + s.name, std::move(cells)});
        }
    }
    return rows;
}

// The hex dump: 16 bytes a line, absolute offsets, each line labelled with the fields it crosses.
std::string hex_dump(const BlockDump& b, const Style& st, bool label_lines, size_t columns = 0) {
    std::string out;
    const size_t n = b.bytes.size();
    auto field_at = [&](size_t i) {
        size_t k = 0;
        while (k + 1 < b.fields.size() && i >= b.fields[k + 1].offset) ++k;
        return k;
    };
    for (size_t line = 0; line < n; line += 16) {
        std::string text = st.dim(fmt::format("{:08x}", b.offset + line)) + " ";
        std::vector<std::string> names;
        for (size_t i = line; i < line + 16; ++i) {
            if (i % 8 == 0) text += ' ';
            if (i >= n) {
                text += "   ";
                continue;
            }
            const size_t fi = field_at(i);
            text += ' ' + st.field(fi, fmt::format("{:02x}", b.bytes[i]));
            const std::string& name = b.fields[fi].name;
            if (names.empty() || names.back() != name) names.push_back(name);
        }
        if (label_lines) {
            std::string labels;
            for (size_t k = 0; k < names.size(); ++k) labels += (k ? " " : "") + names[k];
            // On a terminal the labels get what is left of the line after the 16 bytes.
            constexpr size_t kBytesWidth = 8 + 1 + 16 * 3 + 2 + 2;
            text += "  " + (columns ? elide_middle(labels, std::max<size_t>(columns, kBytesWidth + 8) - kBytesWidth) : labels);
        }
        out += text + '\n';
    }
    return out;
}

std::string block_title(const BlockDump& b, EscapeFor how) {
    return fmt::format("{} block {} of {}", escape(b.tensor, how), b.index, b.n_blocks);
}

// "elements 768-1023: row 3, columns 0-255", the row's i1, i2 (, i3) after it for more dimensions.
std::string place_line(const BlockDump& b) {
    const BlockPlace& p = b.place;
    const uint64_t n = b.format.type->block_elems;
    if (n == 1)
        return fmt::format("element {}: row {}{}, column {}", p.first, p.row, hexdump_detail::higher_text(p.higher),
                           p.column);
    return fmt::format("elements {}-{}: row {}{}, columns {}-{}", p.first, p.first + n - 1, p.row,
                       hexdump_detail::higher_text(p.higher), p.column, p.column + n - 1);
}

std::string summary_line(const BlockDump& b) {
    const TypeInfo& t = *b.format.type;
    return fmt::format("{}, offset {} (0x{:x}), {} bytes, {} element{}", t.name, b.offset, b.offset, b.bytes.size(),
                       t.block_elems, t.block_elems == 1 ? "" : "s");
}

using Codes = std::vector<std::pair<std::string, std::vector<std::string>>>;

// Elements [at, at + m) of the part that starts at `first`, a column each: the index, each
// per-element code, the value; under a marked element, carets (and in colour its cells inverted),
// so that --element's element stands out among its neighbours.
std::string grid_lines(const BlockDump& b, const Style& st, const Codes& codes, size_t label_w, uint32_t first,
                       uint32_t at, uint32_t m) {
    std::vector<std::string> ys;
    size_t cw = 0;
    for (uint32_t j = 0; j < m; ++j) {
        ys.push_back(float_text(b.values[at + j]));
        cw = std::max({cw, ys.back().size(), std::to_string(at + j).size()});
    }
    for (const auto& [name, cells] : codes)
        for (uint32_t j = 0; j < m; ++j) cw = std::max(cw, cells[at - first + j].size());
    const bool marked = b.marked && b.marked->in_block >= at && b.marked->in_block < at + m;
    const uint32_t mark = marked ? b.marked->in_block - at : m;
    auto line = [&](const std::string& label, auto cell, const Style& cell_st) {
        std::string l = "    " + pad(label, label_w);
        for (uint32_t j = 0; j < m; ++j) {
            const std::string c = pad(cell(j), cw, true);
            l += ' ' + (j == mark ? cell_st.inverse(c) : c);
        }
        return l + '\n';
    };
    std::string out = st.dim(line("#", [&](uint32_t j) { return std::to_string(at + j); }, Style{false}));
    // Not a structured binding: the lambda captures it, which clang before 16 refuses.
    for (const auto& code : codes) out += line(code.first, [&](uint32_t j) { return code.second[at - first + j]; }, st);
    out += line("y", [&](uint32_t j) { return ys[j]; }, st);
    if (marked) out += std::string(4 + label_w + mark * (cw + 1) + 1, ' ') + std::string(cw, '^') + '\n';
    return out;
}

// Values a grid line of the part starting at `first` holds: eight, or on a terminal as many of
// 8, 4, 2, 1 as fit its `columns` (a value's cell is as wide as the widest of the part's).
uint32_t values_per_line(const BlockDump& b, const Codes& codes, size_t label_w, uint32_t first, uint32_t part,
                         size_t columns) {
    uint32_t n = kValuesPerLine;
    if (!columns) return n;
    size_t cw = std::to_string(first + part - 1).size();
    for (uint32_t j = first; j < first + part; ++j) cw = std::max(cw, float_text(b.values[j]).size());
    for (const auto& code : codes)
        for (const std::string& c : code.second) cw = std::max(cw, c.size());
    while (n > 1 && 4 + label_w + n * (cw + 1) > columns) n /= 2;
    return n;
}

// The values part by part: a heading with the part's shared values, then columns of eight
// elements (fewer on a narrow terminal): the index, each per-element code, the value.
std::string values_grid(const BlockDump& b, const Style& st, size_t columns) {
    std::string out;
    const uint32_t part = b.format.part_elems, elems = uint32_t(b.values.size());
    for (uint32_t first = 0; first < elems; first += part) {
        std::string head = elems > part ? fmt::format("part {}, elements {}-{}", first / part, first, first + part - 1)
                                        : std::string("element 0");
        const std::string params = part_params(b, first, part);
        out += "  " + fitted(head + (params.empty() ? "" : ": " + params), columns ? columns - 2 : 0, 2) + '\n';
        const Codes codes = part_codes(b, first, part);
        size_t label_w = 4;
        for (const auto& [name, _] : codes) label_w = std::max(label_w, name.size() + 1);
        const uint32_t per_line = values_per_line(b, codes, label_w, first, part, columns);
        for (uint32_t k = 0; k < part; k += per_line)
            out += grid_lines(b, st, codes, label_w, first, first + k, std::min<uint32_t>(per_line, part - k));
    }
    return out;
}

// What --element names above the block: "element 4872 is row 3, column 1800: element 8 of block 19".
std::string element_line(const ElementPlace& p) {
    return fmt::format("element {} is row {}{}, column {}: element {} of block {}", p.element, p.row,
                       hexdump_detail::higher_text(p.higher), p.column, p.in_block, p.block);
}

// One line of the field table: the cells padded to `w`, what the bytes say last, wrapped on a
// terminal under itself or, with no room beside, below the line.
std::string table_line(const std::vector<std::string>& cells, const std::vector<size_t>& w, const Style& st,
                       size_t field_colour, bool heading, size_t columns) {
    const size_t decoded_at = 2 + w[0] + w[1] + w[2] + w[3] + 8;
    std::string line = "  ";
    for (size_t c = 0; c < 4; ++c) {
        const std::string cell = pad(cells[c], w[c]);
        line += (c == 1 && !heading ? st.field(field_colour, cell) : cell) + "  ";
    }
    std::string decoded = cells[4];
    if (columns > decoded_at + 16) {
        decoded = fitted(decoded, columns - decoded_at, decoded_at);
    } else if (columns && !decoded.empty() && !heading) {
        while (line.back() == ' ') line.pop_back();
        decoded = "\n      " + fitted(decoded, columns - 6, 6);
    }
    line += decoded;
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return (heading ? st.bold(line) : line) + '\n';
}

// The field table: a line per field (its byte range, name, kind, hex and what the bytes say), the
// rest of its hex under the first line's, and its meaning, as --describe gives it, under its name.
std::string field_table(const BlockDump& b, const Style& st, size_t columns) {
    const bool shorten = columns != 0;
    std::vector<std::vector<std::string>> hex;
    std::vector<size_t> w{5, 5, 4, 3};
    for (const FieldDump& f : b.fields) {
        hex.push_back(hex_lines(b, f, shorten));
        w[0] = std::max(w[0], text_width(range_text(f.offset, f.size)));
        w[1] = std::max(w[1], text_width(f.name));
        w[2] = std::max(w[2], text_width(f.kind));
        for (const std::string& h : hex.back()) w[3] = std::max(w[3], text_width(h));
    }
    std::string out = table_line({"bytes", "field", "kind", "hex", "decoded"}, w, st, 0, true, columns);
    const size_t hex_at = 2 + w[0] + w[1] + w[2] + 6, meaning_at = 2 + w[0] + 2;
    bool cut = false;
    for (size_t i = 0; i < b.fields.size(); ++i) {
        const FieldDump& f = b.fields[i];
        const std::vector<std::string> cells{range_text(f.offset, f.size), f.name, f.kind, hex[i][0],
                                             decoded_cell(b, f, shorten)};
        out += table_line(cells, w, st, i, false, columns);
        for (size_t k = 1; k < hex[i].size(); ++k) out += std::string(hex_at, ' ') + hex[i][k] + '\n';
        const size_t at = columns && columns <= meaning_at + 16 ? 4 : meaning_at;  // a narrow terminal: less indent
        out += std::string(at, ' ') + st.dim(fitted(f.meaning, columns > at ? columns - at : 0, at)) + '\n';
        cut = cut || f.size > kHexCell;
    }
    if (shorten && cut)
        out += st.dim("  " + fitted("(hex: a field's first 8 bytes; every byte is in the dump below)", columns - 2, 2)) + '\n';
    return out;
}

}  // namespace

std::string hexdump_detail::titled(const std::string& title, const std::string& text, const Style& st, size_t columns) {
    if (!columns) return st.bold(title) + ": " + text;
    const std::string shown = elide_middle(title, columns / 2);
    return st.bold(shown) + ":" + fitted_after(text, display_width(shown) + 1, columns);
}

std::string render_block_text(const BlockDump& b, bool color, size_t columns) {
    const Style st{color};
    std::string out = b.marked ? st.bold(fitted(element_line(*b.marked), columns, 2)) + '\n' : "";
    out += hexdump_detail::titled(block_title(b, EscapeFor::Text), summary_line(b), st, columns) + '\n';
    out += fitted(place_line(b), columns, 2) + '\n';

    out += field_table(b, st, columns);
    out += '\n' + hex_dump(b, st, true, columns);

    if (b.is_integer) {
        out += fmt::format("\nvalue: {} (integer tensors are never converted)\n", b.int_value);
        return out;
    }
    out += '\n' + st.bold(fmt::format("values: {}", b.format.formula));
    out += b.values.size() > b.format.part_elems ? fmt::format(" (in parts of {})\n", b.format.part_elems) : "\n";
    return out + values_grid(b, st, columns);
}

std::string render_block_markdown(const BlockDump& b) {
    const TypeInfo& t = *b.format.type;
    std::string out = fmt::format("### {} block {} ({})\n\n", escape(b.tensor, EscapeFor::Markdown), b.index, t.name);
    if (b.marked) {
        const std::string line = element_line(*b.marked);  // a sentence here: capitalised
        out += fmt::format("E{}.\n\n", std::string_view(line).substr(1));
    }
    const std::string place = place_line(b);  // a sentence here: capitalised
    out += fmt::format("Block {} of {}: {}. E{}.\n\n", b.index, b.n_blocks, summary_line(b), place.substr(1));
    out += "| bytes | field | kind | meaning | hex | decoded |\n| ---: | --- | --- | --- | --- | --- |\n";
    for (const FieldDump& f : b.fields)
        out += fmt::format("| {} | `{}` | {} | {} | `{}` | {} |\n", range_text(f.offset, f.size), f.name, f.kind,
                           escape(f.meaning, EscapeFor::Markdown), hex_bytes(b.bytes.data() + f.offset, f.size),
                           escape(decoded_cell(b, f, false), EscapeFor::Markdown));
    out += "\n```text\n" + hex_dump(b, Style{false}, true) + "```\n\n";

    if (b.is_integer) return out + fmt::format("Value: {} (integer tensors are never converted).\n", b.int_value);
    const uint32_t part = b.format.part_elems;
    out += fmt::format("Values, `{}`{}:\n\n", b.format.formula,
                       b.values.size() > part ? fmt::format(", in parts of {} elements", part) : "");
    return out + "```text\n" + values_grid(b, Style{false}, 0) + "```\n";
}

std::string layout_diagram(const FormatDump& d, size_t width) {
    const uint32_t total = d.type->block_bytes;
    const size_t n = d.fields.size();
    std::vector<std::string> labels;
    std::vector<size_t> w;
    const size_t room = width > n + 1 ? width - n - 1 : n;
    for (const FieldDump& f : d.fields) {
        labels.push_back(f.size > 2 ? fmt::format("{}[{}]", f.name, f.size) : f.name);
        const size_t share = (size_t(f.size) * room + total / 2) / total;
        // Wide enough for the name and for the offset printed above the box's left edge.
        w.push_back(std::max({labels.back().size() + 2, std::to_string(f.offset).size() + 1, share}));
    }
    std::string offsets, rule = "+", boxes = "|";
    for (size_t i = 0; i < n; ++i) {
        offsets += pad(std::to_string(d.fields[i].offset), w[i] + 1);
        rule += std::string(w[i], '-') + '+';
        boxes += ' ' + pad(labels[i], w[i] - 1) + '|';
    }
    offsets += std::to_string(total);
    return offsets + '\n' + rule + '\n' + boxes + '\n' + rule + '\n';
}

std::string render_format_text(const FormatDump& d, bool color) {
    const Style st{color};
    const TypeInfo& t = *d.type;
    std::string out = st.bold(std::string(t.name)) +
                      fmt::format(": {} element{} in {} bytes, {} bits per weight", t.block_elems,
                                  t.block_elems == 1 ? "" : "s", t.block_bytes, float_text(t.bits_per_weight()));
    if (d.part_elems < t.block_elems) out += fmt::format(", decoded in parts of {}", d.part_elems);
    out += "\n\n" + layout_diagram(d) + '\n';
    size_t wr = 5, wn = 5, wk = 4;
    for (const FieldDump& f : d.fields) {
        wr = std::max(wr, range_text(f.offset, f.size).size());
        wn = std::max(wn, f.name.size());
        wk = std::max(wk, f.kind.size());
    }
    out += st.bold(fmt::format("  {}  {}  {}  meaning", pad("bytes", wr), pad("field", wn), pad("kind", wk))) + '\n';
    for (size_t i = 0; i < d.fields.size(); ++i) {
        const FieldDump& f = d.fields[i];
        out += fmt::format("  {}  {}  {}  {}\n", pad(range_text(f.offset, f.size), wr), st.field(i, pad(f.name, wn)),
                           pad(f.kind, wk), f.meaning);
    }
    return out + "\n" + st.bold("dequantization: ") + d.formula + '\n';
}

std::string render_format_markdown(const FormatDump& d) {
    const TypeInfo& t = *d.type;
    std::string out = fmt::format("{} element{} in {} bytes: **{} bits per weight**", t.block_elems,
                                  t.block_elems == 1 ? "" : "s", t.block_bytes, float_text(t.bits_per_weight()));
    if (d.part_elems < t.block_elems) out += fmt::format("; decoded in parts of {} elements", d.part_elems);
    out += ".\n\n```text\n" + layout_diagram(d) + "```\n\n";
    out += "| bytes | field | kind | meaning |\n| ---: | --- | --- | --- |\n";
    for (const FieldDump& f : d.fields)
        out += fmt::format("| {} | `{}` | {} | {} |\n", range_text(f.offset, f.size), f.name, f.kind,
                           escape(f.meaning, EscapeFor::Markdown));
    return out + fmt::format("\nDequantization: `{}`\n", d.formula);
}

}  // namespace gguftk
