// gguf-dequant --check for people: one line per broken rule, a summary, and (--stats) a table.
#include <fmt/core.h>

#include <cmath>

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
    // On a terminal 4 significant digits, as gguf-dequant --stats: a row of 5 takes 84 columns.
    auto num = [digits = columns ? 4 : 5](double v) { return std::isnan(v) ? std::string("-") : fmt::format("{:.{}g}", v, digits); };
    if (columns) {
        std::vector<std::vector<std::string>> rows{{"tensor", "type", "min", "max", "mean", "std", "nan", "inf", "zeros", "0-rows"}};
        for (const TensorCheck& t : r.tensors) {
            const ValueStats& s = t.stats;
            rows.push_back({escape(t.tensor->name), std::string(t.tensor->type->name), num(s.min), num(s.max), num(s.mean),
                            num(s.stddev), std::to_string(s.nan.count), std::to_string(s.inf.count), std::to_string(s.zero),
                            std::to_string(s.zero_rows)});
        }
        return fit_table(rows, {false, false, true, true, true, true, true, true, true, true}, columns);
    }
    size_t w = 6;
    for (const TensorCheck& t : r.tensors) w = std::max(w, escape(t.tensor->name).size());
    std::string out = fmt::format("{:<{}}  {:<7} {:>11} {:>11} {:>11} {:>11} {:>5} {:>5} {:>9} {:>6}\n", "tensor", w,
                                  "type", "min", "max", "mean", "std", "nan", "inf", "zeros", "0-rows");
    for (const TensorCheck& t : r.tensors) {
        const ValueStats& s = t.stats;
        out += fmt::format("{:<{}}  {:<7} {:>11} {:>11} {:>11} {:>11} {:>5} {:>5} {:>9} {:>6}\n", escape(t.tensor->name),
                           w, t.tensor->type->name, num(s.min), num(s.max), num(s.mean), num(s.stddev), s.nan.count,
                           s.inf.count, s.zero, s.zero_rows);
    }
    return out;
}

}  // namespace gguftk
