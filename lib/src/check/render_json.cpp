// gguf-dequant --check for programs: one JSON document. Counts are exact integers, doubles the
// shortest text that reads back to the same value; NaN and infinities (JSON has none) are the
// strings "NaN", "Infinity", "-Infinity", as in every JSON gguftk writes. Element positions are
// given in GGUF order (index, and row/col with row = index / ne0) and the shape both ways.
// null is what was not computed: the statistics of a tensor with no finite value, the counts
// of a rule not applied.
#include <nlohmann/json.hpp>

#include <cmath>

#include "check/check.h"
#include "text/escape.h"
#include "text/json_stream.h"

namespace gguftk {
namespace {

ojson number(double v) { return std::isfinite(v) ? ojson(v) : ojson(json_nonfinite(v)); }

ojson position(const TensorInfo& t, uint64_t index) {
    if (index == Occurrences::kNone) return nullptr;
    const uint64_t ne0 = std::max<uint64_t>(1, t.ne[0]);
    return ojson{{"index", index}, {"row", index / ne0}, {"col", index % ne0}};
}

ojson occurrences(const TensorInfo& t, const Occurrences& o) {
    return ojson{{"count", o.count}, {"first", position(t, o.first)}};
}

ojson shapes(const TensorInfo& t) {
    ojson gguf = ojson::array(), row_major = ojson::array();
    for (uint32_t d = 0; d < t.n_dims; ++d) gguf.push_back(t.ne[d]);
    for (uint32_t d = t.n_dims; d-- > 0;) row_major.push_back(t.ne[d]);
    return ojson{{"shape", gguf}, {"shape_row_major", row_major}};
}

// A statistic of the finite values: null when there is none (a tensor of NaN and infinities
// only, or of no values), which is no value rather than a NaN one.
ojson of_finite(const ValueStats& s, double v) { return s.finite ? number(v) : ojson(nullptr); }

// A rule's occurrences, null when the rule was not applied to the tensor: a count there would
// read as measured.
ojson rule_occurrences(const TensorInfo& t, bool applied, const Occurrences& o) {
    return applied ? occurrences(t, o) : ojson(nullptr);
}

ojson stats_json(const TensorCheck& t, const CheckOptions& o) {
    const ValueStats& s = t.stats;
    return ojson{{"values", s.values},
                 {"finite", s.finite},
                 {"min", of_finite(s, s.min)},
                 {"max", of_finite(s, s.max)},
                 {"mean", of_finite(s, s.mean)},
                 {"std", of_finite(s, s.stddev)},
                 {"absmax", of_finite(s, s.absmax)},
                 {"zeros", s.zero},
                 {"zero_rows", s.zero_rows},
                 {"nan", occurrences(*t.tensor, s.nan)},
                 {"inf", occurrences(*t.tensor, s.inf)},
                 {"overflow", rule_occurrences(*t.tensor, o.overflow.has_value(), s.overflow)},
                 {"out_of_range", rule_occurrences(*t.tensor, t.range.has_value(), s.out_of_range)}};
}

ojson tensor_json(const TensorCheck& t, const CheckOptions& o) {
    ojson j{{"name", to_valid_utf8(t.tensor->name)}, {"type", t.tensor->type->name}};
    j.update(shapes(*t.tensor));
    j["range"] = t.range ? ojson::array({number(t.range->lo), number(t.range->hi)}) : ojson(nullptr);
    j["stats"] = stats_json(t, o);
    ojson failures = ojson::array();
    for (const Failure& f : t.failures)
        failures.push_back({{"rule", rule_name(f.rule)}, {"count", f.where.count}, {"first", position(*t.tensor, f.where.first)}});
    j["failures"] = std::move(failures);
    return j;
}

ojson options_json(const CheckOptions& o) {
    ojson ranges = ojson::array();
    for (const auto& [glob, r] : o.ranges) ranges.push_back({{"glob", to_valid_utf8(glob)}, {"lo", number(r.lo)}, {"hi", number(r.hi)}});
    return ojson{{"finite", o.finite},
                 {"overflow", o.overflow ? ojson(out_type_name(*o.overflow)) : ojson(nullptr)},
                 {"ranges", std::move(ranges)},
                 {"no_zero_tensors", o.no_zero_tensors}};
}

}  // namespace

std::string render_check_json(const CheckReport& r, const std::string& input) {
    ojson tensors = ojson::array(), skipped = ojson::array(), by_rule = ojson::object();
    for (const TensorCheck& t : r.tensors) tensors.push_back(tensor_json(t, r.options));
    for (const TensorInfo* t : r.skipped) skipped.push_back(to_valid_utf8(t->name));
    for (Rule rule : kRules) by_rule[std::string(rule_name(rule))] = r.failed_tensors(rule);
    const ojson doc{{"file", to_valid_utf8(input)},
                    {"ok", r.failed_tensors() == 0},
                    {"rules", options_json(r.options)},
                    {"summary", {{"tensors", r.tensors.size()}, {"failed", r.failed_tensors()},
                                 {"failed_by_rule", std::move(by_rule)}, {"values", r.values()},
                                 {"skipped_integer_tensors", std::move(skipped)}}},
                    {"tensors", std::move(tensors)}};
    return doc.dump(2) + "\n";
}

}  // namespace gguftk
