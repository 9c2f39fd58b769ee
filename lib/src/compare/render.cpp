// gguf-compare's views: a table of the tensors that differ in any way (or all, see below), the
// metadata changes, and a summary line; the same as Markdown; one JSON document.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "text/columns.h"
#include "compare/compare.h"
#include "compare/elements.h"
#include "text/escape.h"
#include "text/json_stream.h"

namespace gguftk {
namespace {

// In a pipe the table fits 100 columns with these widths: the numbers take 8 at most ("1.23e-05").
constexpr size_t kNameWidth = 26, kTypesWidth = 12;

std::string types(const TensorComparison& t) {
    return fmt::format("{}/{}", t.a ? t.a->type : "-", t.b ? t.b->type : "-");
}

std::string num(double v) { return std::isinf(v) ? (v > 0 ? "inf" : "-inf") : fmt::format("{:.3g}", v); }

// A count in at most 7 columns: exact below a million, then 1.23M, 45.6G.
std::string count(uint64_t n) {
    if (n < 1000000) return std::to_string(n);
    return n < 1000000000 ? fmt::format("{:.3g}M", double(n) / 1e6) : fmt::format("{:.3g}G", double(n) / 1e9);
}

std::string plural(size_t n, std::string_view one, std::string_view many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
}

bool compared(const TensorComparison& t) {
    return t.verdict == Verdict::Identical || t.verdict == Verdict::Within || t.verdict == Verdict::Beyond;
}

std::string where(const TensorComparison& t, uint64_t index) {
    const uint64_t ne0 = t.a && !t.a->ne.empty() && t.a->ne[0] ? t.a->ne[0] : 1;
    return fmt::format("element {} (row {}, col {})", index, index / ne0, index % ne0);
}

std::string shape(const SideTensor& t) {
    std::string s;
    for (uint64_t d : t.ne) s += (s.empty() ? "" : " x ") + std::to_string(d);
    return s;
}

// What makes the worst tensor worst: where its numbers show it, the largest difference; where
// they cannot (a NaN or infinity on one side only, -0 against +0), the first value beyond.
std::string worst_text(const TensorComparison& w, const std::string& name) {
    const ValueDiff& d = w.diff;
    if (d.nonfinite_mismatch || (d.max_abs == 0 && d.beyond))
        return fmt::format("; worst {}: {} beyond ({} NaN or infinite where the other is not), first at {}", name,
                           d.beyond, d.nonfinite_mismatch, where(w, d.first_beyond));
    return fmt::format("; worst {}: rel RMSE {}, max |a-b| {} at {}", name, num(d.rel_rmse()), num(d.max_abs),
                       where(w, d.max_at));
}

// With `columns` (a terminal's), the line wrapped to them, the paths and the worst tensor's name
// shortened in the middle to half a line first: wrapping would cut a word longer than a line.
std::string summary(const Comparison& c, const std::string& a, const std::string& b, size_t columns = 0) {
    auto name = [&](const std::string& s) { return columns ? elide_middle(escape(s), columns / 2) : escape(s); };
    std::string s = fmt::format("{} vs {}: {} ({}: {} identical", name(a), name(b), c.within() ? "WITHIN" : "DIFFERENT",
                                plural(c.tensors.size(), "tensor", "tensors"), c.count(Verdict::Identical));
    for (Verdict v : {Verdict::Within, Verdict::Beyond, Verdict::ShapeDiffers, Verdict::OnlyInA, Verdict::OnlyInB})
        if (const size_t n = c.count(v)) s += fmt::format(", {} {}", n, verdict_name(v));
    s += fmt::format("; {} metadata {})", c.metadata.size(), c.metadata.size() == 1 ? "key differs" : "keys differ");
    if (const TensorComparison* w = c.worst()) s += worst_text(*w, name(w->name));
    return wrap_indented(s, columns) + "\n";
}

// A quantized tensor against an F16 or BF16 one differs by that type's rounding alone when the
// two agree: said once, with the option that tells the two apart.
std::string as_hint(const Comparison& c, size_t columns = 0) {
    if (c.options.as) return "";
    auto half = [](const SideTensor* t) {
        const auto e = parse_element(t->type);
        return e == Element::F16 ? "f16" : e == Element::BF16 ? "bf16" : nullptr;
    };
    auto quantized = [](const SideTensor* t) { return !parse_element(t->type); };
    size_t n = 0;
    const char* to = nullptr;
    for (const TensorComparison& t : c.tensors) {
        if (t.verdict != Verdict::Beyond) continue;
        const char* h = quantized(t.a) ? half(t.b) : quantized(t.b) ? half(t.a) : nullptr;
        if (h) ++n, to = h;
    }
    if (!n) return "";
    const bool f16 = std::string_view(to) == "f16";
    return wrap_indented(fmt::format("hint: {} a quantized tensor with {} one; --as {} rounds the quantized values as "
                                     "gguf-dequant --to {} does, so that only real differences remain",
                                     n == 1 ? "1 BEYOND row compares" : std::to_string(n) + " BEYOND rows compare",
                                     f16 ? "an F16" : "a BF16", to, to),
                         columns) +
           "\n";
}

struct Cells {
    std::string name, types, verdict, beyond, max_abs, rmse, rel, cosine, snr;
};

Cells cells(const TensorComparison& t) {
    Cells c{escape(t.name), types(t), std::string(verdict_name(t.verdict)), "", "", "", "", "", ""};
    if (!compared(t)) return c;
    const ValueDiff& d = t.diff;
    return {c.name, c.types, c.verdict, count(d.beyond), num(d.max_abs), num(d.rmse()), num(d.rel_rmse()),
            fmt::format("{:.6f}", d.cosine()), std::isinf(d.snr_db()) ? num(d.snr_db()) : fmt::format("{:.1f}", d.snr_db())};
}

// The lines under the table: each shape that differs, then each metadata key, fit to `columns`.
std::string notes(const Comparison& c, size_t columns) {
    std::string out;
    auto line = [&](const std::string& head, const std::string& rest) {
        out += (columns ? fit_line(head, rest, columns) : head + rest) + '\n';
    };
    for (const TensorComparison& t : c.tensors)
        if (t.verdict == Verdict::ShapeDiffers)
            line("shape " + escape(t.name), fmt::format(": {} in A, {} in B (GGUF order, ne0 first)", shape(*t.a), shape(*t.b)));
    auto side = [](const std::optional<MetadataChange::Shown>& v) { return v ? v->value + " (" + v->type + ")" : "(absent)"; };
    for (const MetadataChange& m : c.metadata) line("metadata " + escape(m.key), fmt::format(": {} -> {}", side(m.a), side(m.b)));
    return out;
}

const std::vector<std::string> kHeading{"tensor", "types A/B", "result", "beyond", "max|a-b|", "rmse", "rel rmse", "cosine", "snr dB"};

// The table on a terminal: as wide as its cells, names shortened to fit `columns`.
std::string terminal_table(const Comparison& c, size_t columns) {
    std::vector<std::vector<std::string>> rows{kHeading};
    for (const TensorComparison& t : c.tensors) {
        Cells x = cells(t);
        rows.push_back({std::move(x.name), x.types, x.verdict, x.beyond, x.max_abs, x.rmse, x.rel, x.cosine, x.snr});
    }
    return fit_table(rows, {false, false, false, true, true, true, true, true, true}, columns);
}

// The table in a pipe: fixed columns, 100 wide.
std::string pipe_table(const Comparison& c) {
    constexpr const char* kRow = "{:<{}} {:<{}} {:<9} {:>7} {:>8} {:>8} {:>8} {:>8} {:>6}\n";
    const auto& h = kHeading;
    std::string out = fmt::format(kRow, h[0], kNameWidth, h[1], kTypesWidth, h[2], h[3], h[4], h[5], h[6], h[7], h[8]);
    std::vector<std::string> names;
    for (const TensorComparison& t : c.tensors) names.push_back(escape(t.name));
    names = elide_names(names, kNameWidth);
    for (size_t i = 0; i < c.tensors.size(); ++i) {
        const Cells x = cells(c.tensors[i]);
        std::string row = fmt::format(kRow, names[i], kNameWidth, x.types, kTypesWidth, x.verdict, x.beyond, x.max_abs,
                                      x.rmse, x.rel, x.cosine, x.snr);
        row.erase(row.find_last_not_of(" \n") + 1);  // a row without numbers ends at its result
        out += row + "\n";
    }
    return out;
}

}  // namespace

std::string render_comparison_text(const Comparison& c, const std::string& a, const std::string& b, size_t columns) {
    const std::string table = columns ? terminal_table(c, columns) : pipe_table(c);
    return table + notes(c, columns) + as_hint(c, columns) + summary(c, a, b, columns);
}

namespace {

constexpr size_t kMarkdownColumns = 13;

std::string markdown_cells(std::vector<std::string> cells) {
    cells.resize(kMarkdownColumns);
    std::string row = "|";
    for (const std::string& c : cells) row += " " + c + " |";
    return row + "\n";
}

std::string markdown_row(const TensorComparison& t) {
    const Cells x = cells(t);
    const std::string name = markdown_text(x.name);
    if (t.verdict == Verdict::ShapeDiffers)
        return markdown_cells({name, x.types, x.verdict, fmt::format("shapes {} in A, {} in B", shape(*t.a), shape(*t.b))});
    if (!compared(t)) return markdown_cells({name, x.types, x.verdict});
    const ValueDiff& d = t.diff;
    auto at = [&](uint64_t i) {
        if (i == std::numeric_limits<uint64_t>::max()) return std::string();
        const uint64_t ne0 = !t.a->ne.empty() && t.a->ne[0] ? t.a->ne[0] : 1;
        return fmt::format("{} ({}, {})", i, i / ne0, i % ne0);
    };
    return markdown_cells({name, x.types, x.verdict, std::to_string(d.beyond), at(d.first_beyond),
                           std::to_string(d.nonfinite_mismatch), x.max_abs, at(d.max_at), num(d.mean_abs()), x.rmse,
                           x.rel, x.cosine, x.snr});
}

}  // namespace

std::string render_comparison_markdown(const Comparison& c, const std::string& a, const std::string& b) {
    std::string out = fmt::format("# {} vs {}\n\n", escape(a, EscapeFor::Markdown), escape(b, EscapeFor::Markdown));
    out += "| tensor | types A/B | result | beyond | first beyond (row, col) | NaN/Inf differ | max \\|a-b\\| | "
           "max at (row, col) | mean \\|a-b\\| | RMSE | rel RMSE | cosine | SNR dB |\n";
    out += "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
    for (const TensorComparison& t : c.tensors) out += markdown_row(t);
    if (!c.metadata.empty()) {
        out += "\n| metadata key | change | A | B |\n| --- | --- | --- | --- |\n";
        auto side = [](const std::optional<MetadataChange::Shown>& v) { return v ? markdown_text(v->value + " (" + v->type + ")") : ""; };
        for (const MetadataChange& m : c.metadata)
            out += fmt::format("| {} | {} | {} | {} |\n", escape(m.key, EscapeFor::Markdown), m.change(), side(m.a), side(m.b));
    }
    const std::string hint = as_hint(c);
    return out + "\n" + (hint.empty() ? "" : hint + "\n") + summary(c, a, b);
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
    auto shown = [](const std::optional<MetadataChange::Shown>& v) {
        return v ? ojson{{"value", to_valid_utf8(v->value)}, {"type", v->type}} : ojson(nullptr);
    };
    for (const MetadataChange& m : c.metadata)
        metadata.push_back({{"key", to_valid_utf8(m.key)}, {"change", m.change()}, {"a", shown(m.a)}, {"b", shown(m.b)}});
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
