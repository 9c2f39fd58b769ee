// gguf-dequant --check for people: one line per broken rule, a summary, and (--stats) a table.
#include <fmt/core.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "check/check.h"
#include "text/columns.h"
#include "text/escape.h"
#include "formats/types.h"

namespace gguftk {
namespace {

// "element 1234 (row 1, col 338)": the index in GGUF order and where it sits in the row grid.
std::string where(const TensorInfo& t, uint64_t index) {
    const uint64_t ne0 = std::max<uint64_t>(1, t.ne[0]);
    return fmt::format("element {} (row {}, col {})", index, index / ne0, index % ne0);
}

// "1 value", "2 values": `n` and `noun` agreeing in number.
std::string count_of(uint64_t n, std::string_view noun) { return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s"); }

// Bounds and values in the shortest text that reads back to the same double: a float32 near a
// bound shows the digits that put it outside (0.10000000149011612 beside 0.1).
std::string range_text(const ValueRange& r) { return fmt::format("[{}, {}]", r.lo, r.hi); }

// What lies outside a range: the finite values' extremes (to hold against the bounds) and the
// NaN and infinities, which have no extremes but are within no range.
std::string outside_detail(const ValueStats& s) {
    const std::string finite = s.finite ? fmt::format("min {}, max {}", s.min, s.max) : "no finite value";
    if (!s.nan.count && !s.inf.count) return finite;
    std::string odd = s.nan.count ? fmt::format("{} NaN", s.nan.count) : "";
    if (s.inf.count) odd += fmt::format("{}{} Inf", odd.empty() ? "" : ", ", s.inf.count);
    return odd + "; " + (s.finite ? "finite " : "") + finite;
}

std::string describe(const TensorCheck& t, const Failure& f, const CheckOptions& o) {
    const ValueStats& s = t.stats;
    switch (f.rule) {
        case Rule::Finite:
            return fmt::format("{} NaN, {} Inf; first at {}", s.nan.count, s.inf.count, where(*t.tensor, f.where.first));
        case Rule::Range:
            return fmt::format("{} outside {} ({}); first at {}", count_of(f.where.count, "value"), range_text(*t.range),
                               outside_detail(s), where(*t.tensor, f.where.first));
        case Rule::Overflow:
            return fmt::format("{} finite {} to infinity in {}; first at {}", f.where.count,
                               f.where.count == 1 ? "value rounds" : "values round", out_type_name(*o.overflow),
                               where(*t.tensor, f.where.first));
        case Rule::ZeroTensor:
            return f.where.count == 1 ? std::string("its one value is zero")
                                      : fmt::format("all {} values are zero", f.where.count);
    }
    return {};
}

std::string summary_of_failures(const CheckReport& r) {
    std::string s;
    for (Rule rule : kRules)
        if (const size_t n = r.failed_tensors(rule))
            s += fmt::format("{}{} {}", s.empty() ? "" : ", ", n, rule_name(rule));
    return s;
}

// The --stats table's columns; in a pipe each as wide as `width` at least, the name as its
// longest. The overflow count only with that rule on: a 0 there would read as measured.
struct TableColumn {
    const char* heading;
    size_t width;
    bool right;
};

std::vector<TableColumn> table_columns(bool overflow) {
    std::vector<TableColumn> c{{"tensor", 6, false}, {"type", 7, false}, {"min", 11, true},   {"max", 11, true},
                               {"mean", 11, true},   {"std", 11, true},  {"absmax", 11, true}, {"nan", 5, true},
                               {"inf", 5, true}};
    if (overflow) c.push_back({"overflow", 8, true});
    c.insert(c.end(), {{"zeros", 9, true}, {"0-rows", 6, true}});
    return c;
}

// A tensor's row: statistics of the finite values ("-" when there is none) to `digits`
// significant digits, then the counts.
std::vector<std::string> table_row(const TensorCheck& t, bool overflow, int digits) {
    const ValueStats& s = t.stats;
    auto num = [&](double v) { return s.finite ? fmt::format("{:.{}g}", v, digits) : std::string("-"); };
    std::vector<std::string> row{escape(t.tensor->name), std::string(t.tensor->type->name), num(s.min), num(s.max),
                                 num(s.mean),            num(s.stddev),                      num(s.absmax),
                                 std::to_string(s.nan.count), std::to_string(s.inf.count)};
    if (overflow) row.push_back(std::to_string(s.overflow.count));
    row.insert(row.end(), {std::to_string(s.zero), std::to_string(s.zero_rows)});
    return row;
}

// The table in a pipe: fixed widths, so that runs line up; names whole.
std::string fixed_table(const std::vector<std::vector<std::string>>& rows, std::vector<TableColumn> cols) {
    for (const auto& row : rows) cols[0].width = std::max(cols[0].width, row[0].size());
    std::string out;
    for (const auto& row : rows) {
        for (size_t c = 0; c < row.size(); ++c) {
            const char* gap = c == 0 ? "" : c == 1 ? "  " : " ";
            out += cols[c].right ? fmt::format("{}{:>{}}", gap, row[c], cols[c].width)
                                 : fmt::format("{}{:<{}}", gap, row[c], cols[c].width);
        }
        out += '\n';
    }
    return out;
}

}  // namespace

std::string render_check_text(const CheckReport& r, const std::string& input, const std::string& engine,
                              double seconds, size_t columns) {
    std::string out;
    // A failure is one line on a terminal too, never cut or wrapped: a line to grep or copy
    // whole. The terminal may fold it.
    for (const TensorCheck& t : r.tensors)
        for (const Failure& f : t.failures)
            out += fmt::format("FAIL {}: {}: {}\n", escape(t.tensor->name), rule_name(f.rule), describe(t, f, r.options));
    const size_t failed = r.failed_tensors();
    std::string rest = fmt::format(": {} ({} of {}", failed ? "FAILED" : "OK", failed ? failed : r.tensors.size(),
                                   count_of(r.tensors.size(), "tensor"));
    if (failed) rest += fmt::format(" failed: {}", summary_of_failures(r));
    else rest += " passed";
    if (!r.skipped.empty()) rest += fmt::format("; {} not checked", count_of(r.skipped.size(), "integer tensor"));
    rest += fmt::format("), {} in {:.2f} s ({})", count_of(r.values(), "value"), seconds, engine);
    return out + fit_line(escape(input), rest, columns) + '\n';
}

std::string render_check_table(const CheckReport& r, size_t columns) {
    const bool overflow = r.options.overflow.has_value();
    const std::vector<TableColumn> cols = table_columns(overflow);
    // On a terminal 4 significant digits, as gguf-dequant --stats, else 5.
    std::vector<std::vector<std::string>> rows{{}};
    for (const TableColumn& c : cols) rows[0].push_back(c.heading);
    for (const TensorCheck& t : r.tensors) rows.push_back(table_row(t, overflow, columns ? 4 : 5));
    std::vector<bool> right;
    for (const TableColumn& c : cols) right.push_back(c.right);
    return columns ? fit_table(rows, right, columns) : fixed_table(rows, cols);
}

}  // namespace gguftk
