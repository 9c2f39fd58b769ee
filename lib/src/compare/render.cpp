// gguf-compare's views: a table of the tensors that differ in any way (or all, see below), the
// metadata changes, and a summary line; the same as Markdown; one JSON document.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "text/columns.h"
#include "compare/compare.h"
#include "text/escape.h"
#include "text/json_stream.h"

namespace gguftk {
namespace {

constexpr size_t kNameWidth = 28;  // in a pipe the table fits 100 columns with this

std::string types(const TensorComparison& t) {
    return fmt::format("{}/{}", t.a ? t.a->type : "-", t.b ? t.b->type : "-");
}

std::string num(double v) { return std::isinf(v) ? (v > 0 ? "inf" : "-inf") : fmt::format("{:.3g}", v); }

bool compared(const TensorComparison& t) {
    return t.verdict == Verdict::Identical || t.verdict == Verdict::Within || t.verdict == Verdict::Beyond;
}

std::string where(const TensorComparison& t, uint64_t index) {
    const uint64_t ne0 = t.a && !t.a->ne.empty() && t.a->ne[0] ? t.a->ne[0] : 1;
    return fmt::format("element {} (row {}, col {})", index, index / ne0, index % ne0);
}

// With `columns` (a terminal's), the line wrapped to them, the paths and the worst tensor's name
// shortened in the middle to half a line first: wrapping would cut a word longer than a line.
std::string summary(const Comparison& c, const std::string& a, const std::string& b, size_t columns = 0) {
    auto name = [&](const std::string& s) { return columns ? elide_middle(escape(s), columns / 2) : escape(s); };
    std::string s = fmt::format("{} vs {}: {} ({} tensors: {} identical", name(a), name(b),
                                c.within() ? "WITHIN" : "DIFFERENT", c.tensors.size(), c.count(Verdict::Identical));
    for (Verdict v : {Verdict::Within, Verdict::Beyond, Verdict::ShapeDiffers, Verdict::OnlyInA, Verdict::OnlyInB})
        if (const size_t n = c.count(v)) s += fmt::format(", {} {}", n, verdict_name(v));
    s += fmt::format("; {} metadata {})", c.metadata.size(), c.metadata.size() == 1 ? "key differs" : "keys differ");
    if (const TensorComparison* w = c.worst())
        s += fmt::format("; worst {}: rel RMSE {}, max |a-b| {} at {}", name(w->name), num(w->diff.rel_rmse()),
                         num(w->diff.max_abs), where(*w, w->diff.max_at));
    return wrap_indented(s, columns) + "\n";
}

struct Cells {
    std::string name, types, verdict, max_abs, rmse, rel, cosine, snr;
};

Cells cells(const TensorComparison& t) {
    Cells c{escape(t.name), types(t), std::string(verdict_name(t.verdict)), "", "", "", "", ""};
    if (!compared(t)) return c;
    const ValueDiff& d = t.diff;
    const double snr = d.snr_db();
    return {c.name, c.types, c.verdict, num(d.max_abs), num(d.rmse()), num(d.rel_rmse()), fmt::format("{:.6f}", d.cosine()),
            std::isinf(snr) ? "inf" : fmt::format("{:.1f}", snr)};
}

// The table on a terminal: as wide as its cells, names shortened to fit `columns`.
std::string terminal_table(const Comparison& c, size_t columns) {
    std::vector<std::vector<std::string>> rows{{"tensor", "types A/B", "result", "max|a-b|", "rmse", "rel rmse", "cosine", "snr dB"}};
    for (const TensorComparison& t : c.tensors) {
        Cells x = cells(t);
        rows.push_back({std::move(x.name), x.types, x.verdict, x.max_abs, x.rmse, x.rel, x.cosine, x.snr});
    }
    return fit_table(rows, {false, false, false, true, true, true, true, true}, columns);
}

}  // namespace

std::string render_comparison_text(const Comparison& c, const std::string& a, const std::string& b, size_t columns) {
    if (columns) {
        std::string out = terminal_table(c, columns);
        for (const MetadataChange& m : c.metadata)
            out += fit_line("metadata " + escape(m.key),
                            fmt::format(": {} -> {}", m.a.empty() ? "(absent)" : m.a, m.b.empty() ? "(absent)" : m.b), columns) +
                   '\n';
        return out + summary(c, a, b, columns);
    }
    constexpr const char* kRow = "{:<{}} {:<15} {:<9} {:>9} {:>9} {:>9} {:>8} {:>6}\n";
    std::string out = fmt::format(kRow, "tensor", kNameWidth, "types A/B", "result", "max|a-b|", "rmse", "rel rmse", "cosine", "snr dB");
    for (const TensorComparison& t : c.tensors) {
        const Cells x = cells(t);
        std::string row = fmt::format(kRow, elide_middle(x.name, kNameWidth), kNameWidth, x.types, x.verdict, x.max_abs,
                                      x.rmse, x.rel, x.cosine, x.snr);
        row.erase(row.find_last_not_of(" \n") + 1);  // a row without numbers ends at its result
        out += row + "\n";
    }
    for (const MetadataChange& m : c.metadata)
        out += fmt::format("metadata {}: {} -> {}\n", escape(m.key), m.a.empty() ? "(absent)" : m.a, m.b.empty() ? "(absent)" : m.b);
    return out + summary(c, a, b);
}

std::string render_comparison_markdown(const Comparison& c, const std::string& a, const std::string& b) {
    std::string out = fmt::format("# {} vs {}\n\n", escape(a, EscapeFor::Markdown), escape(b, EscapeFor::Markdown));
    out += "| tensor | types A/B | result | max \\|a-b\\| | RMSE | rel RMSE | cosine | SNR dB |\n";
    out += "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n";
    for (const TensorComparison& t : c.tensors) {
        const Cells x = cells(t);
        out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", markdown_text(x.name), x.types, x.verdict,
                           x.max_abs, x.rmse, x.rel, x.cosine, x.snr);
    }
    if (!c.metadata.empty()) {
        out += "\n| metadata key | A | B |\n| --- | --- | --- |\n";
        for (const MetadataChange& m : c.metadata)
            out += fmt::format("| {} | {} | {} |\n", escape(m.key, EscapeFor::Markdown), markdown_text(m.a), markdown_text(m.b));
    }
    return out + "\n" + summary(c, a, b);
}

namespace {

ojson number(double v) { return std::isfinite(v) ? ojson(v) : ojson(json_nonfinite(v)); }

ojson element(const TensorComparison& t, uint64_t index) {
    if (index == std::numeric_limits<uint64_t>::max()) return nullptr;
    const uint64_t ne0 = t.a && !t.a->ne.empty() && t.a->ne[0] ? t.a->ne[0] : 1;
    return ojson{{"index", index}, {"row", index / ne0}, {"col", index % ne0}};
}

ojson side_json(const SideTensor* s) {
    if (!s) return nullptr;
    return ojson{{"type", s->type}, {"shape", s->ne}, {"shape_row_major", std::vector<uint64_t>(s->ne.rbegin(), s->ne.rend())}};
}

ojson diff_json(const TensorComparison& t) {
    const ValueDiff& d = t.diff;
    return ojson{{"values", d.values},           {"identical_values", d.identical},
                 {"beyond", d.beyond},           {"first_beyond", element(t, d.first_beyond)},
                 {"nonfinite_mismatch", d.nonfinite_mismatch},
                 {"max_abs", number(d.max_abs)}, {"max_abs_at", element(t, d.max_at)},
                 {"mean_abs", number(d.mean_abs())}, {"rmse", number(d.rmse())},
                 {"rel_rmse", number(d.rel_rmse())}, {"cosine", number(d.cosine())},
                 {"snr_db", number(d.snr_db())}};
}

}  // namespace

std::string render_comparison_json(const Comparison& c, const std::string& a, const std::string& b) {
    ojson tensors = ojson::array(), metadata = ojson::array(), counts = ojson::object();
    for (const TensorComparison& t : c.tensors) {
        ojson j{{"name", to_valid_utf8(t.name)}, {"result", verdict_name(t.verdict)}, {"a", side_json(t.a)}, {"b", side_json(t.b)}};
        j["diff"] = compared(t) ? diff_json(t) : ojson(nullptr);
        tensors.push_back(std::move(j));
    }
    for (const MetadataChange& m : c.metadata)
        metadata.push_back({{"key", to_valid_utf8(m.key)},
                            {"a", m.a.empty() ? ojson(nullptr) : ojson(to_valid_utf8(m.a))},
                            {"b", m.b.empty() ? ojson(nullptr) : ojson(to_valid_utf8(m.b))}});
    for (Verdict v : {Verdict::Identical, Verdict::Within, Verdict::Beyond, Verdict::ShapeDiffers, Verdict::OnlyInA, Verdict::OnlyInB})
        counts[std::string(verdict_name(v))] = c.count(v);
    const ojson doc{{"a", to_valid_utf8(a)},
                    {"b", to_valid_utf8(b)},
                    {"within", c.within()},
                    {"tolerance", {{"atol", c.options.atol ? number(*c.options.atol) : ojson(nullptr)},
                                   {"rtol", c.options.rtol ? number(*c.options.rtol) : ojson(nullptr)},
                                   {"as", c.options.as ? ojson(out_type_name(*c.options.as)) : ojson(nullptr)}}},
                    {"summary", std::move(counts)},
                    {"tensors", std::move(tensors)},
                    {"metadata", std::move(metadata)}};
    return doc.dump(2) + "\n";
}

}  // namespace gguftk
