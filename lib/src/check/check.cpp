// check_model: a conversion to F32 that writes nothing, its values summarized and held to rules.
//
// The plan is gguf-dequant's own (every float tensor converted too), so a check reads and
// decodes exactly what a conversion would, through the same engine, in bounded memory.
#include <algorithm>
#include <cstring>

#include "check/check.h"
#include "container/error.h"
#include "container/names.h"
#include "text/escape.h"

namespace gguftk {
namespace {

// Up to three names quoted, then "...": enough to recognize which tensors are meant.
std::string some_names(const std::vector<std::string>& names) {
    std::string s;
    for (size_t i = 0; i < names.size() && i < 3; ++i) s += (i ? ", " : "") + quoted_name(names[i]);
    return names.size() > 3 ? s + ", ..." : s;
}

// Why `glob` matched no tensor the check decodes although it matches tensors of the model: they
// are left out by --tensors, or integer tensors (which hold no values to check). "" when it
// matches no tensor at all.
std::string why_unchecked(const GgufModel& model, const CheckOptions& o, const std::string& glob) {
    TensorGlobs selection(o.tensor_globs);
    std::vector<std::string> integer, left_out;
    for (const GgufFile* f : model.files())
        for (const TensorInfo& t : f->tensors())
            if (glob_match(glob, t.name)) (selection.select(t.name) ? integer : left_out).push_back(t.name);
    const std::string g = quoted_name(glob);
    if (integer.empty() && left_out.empty()) return "";
    if (integer.empty()) return g + " matches only tensors that --tensors leaves out (" + some_names(left_out) + ")";
    if (left_out.empty()) return g + " matches only integer tensors (" + some_names(integer) + "), which are not checked";
    return g + " matches only tensors that are not checked: integer tensors (" + some_names(integer) +
           ") and tensors that --tensors leaves out (" + some_names(left_out) + ")";
}

// The --range globs, each of which must match a tensor the check decodes (the rule of --tensors):
// a tensor's range is that of the first glob matching its name.
class Ranges {
public:
    explicit Ranges(const CheckOptions& o) : o_(o), globs_(globs_of(o)) {}
    std::optional<ValueRange> select(const std::string& name) {
        const size_t i = globs_.select_first(name);
        return i == TensorGlobs::npos ? std::nullopt : std::optional(o_.ranges[i].second);
    }
    // A glob matching only tensors that are not checked is told apart from a typo: "did you
    // mean" would offer the very names it matches.
    void require_matched(const GgufModel& model) const {
        const std::string* glob = globs_.unmatched();
        if (!glob) return;
        if (const std::string why = why_unchecked(model, o_, *glob); !why.empty())
            throw ArgumentError("--range: " + why, std::nullopt, model.given().path());
        try {
            gguftk::require_matched(globs_, model);
        } catch (const ArgumentError& e) {
            throw ArgumentError(std::string("--range: ") + e.what(), e.offset(), e.file());
        }
    }

private:
    static TensorGlobs globs_of(const CheckOptions& o) {
        std::vector<std::string> globs;
        for (const auto& [glob, range] : o.ranges) globs.push_back(glob);
        return TensorGlobs(std::move(globs));
    }
    const CheckOptions& o_;
    TensorGlobs globs_;
};

ConversionPlan plan_check(const GgufModel& model, const CheckOptions& o) {
    ConvertOptions c;
    c.to = OutType::F32;  // the decoded values themselves: no rounding hides anything
    c.all_floats = true;
    c.decode_same_type = true;  // F32 tensors too: their values are checked like any other
    c.tensor_globs = o.tensor_globs;
    c.merge = true;       // one output file planned (and never written)
    return plan_conversion(model, c);
}

// The place in `model` (its files' tensors in order) of each job's tensor: how progress names
// a tensor, the plan being check_model's own.
std::vector<size_t> model_places(const GgufModel& model, const ConversionPlan& plan) {
    std::vector<size_t> first_of_file{0};
    for (const GgufFile* f : model.files()) first_of_file.push_back(first_of_file.back() + f->tensors().size());
    std::vector<size_t> place;
    for (const TensorJob& j : plan.jobs()) {
        const auto& files = model.files();
        const size_t file = size_t(std::find(files.begin(), files.end(), plan.inputs()[j.input]) - files.begin());
        place.push_back(file < files.size() ? first_of_file[file] + j.tensor : size_t(model.n_tensors()));
    }
    return place;
}

std::vector<Failure> failures_of(const CheckOptions& o, const TensorCheck& t) {
    const ValueStats& s = t.stats;
    std::vector<Failure> f;
    if (o.finite && (s.nan.count || s.inf.count)) {
        Occurrences both = s.nan;
        both.merge(s.inf);
        f.push_back({Rule::Finite, both});
    }
    if (t.range && s.out_of_range.count) f.push_back({Rule::Range, s.out_of_range});
    if (o.overflow && s.overflow.count) f.push_back({Rule::Overflow, s.overflow});
    if (o.no_zero_tensors && s.values && s.zero == s.values) f.push_back({Rule::ZeroTensor, {s.values, Occurrences::kNone}});
    return f;
}

}  // namespace

std::string_view rule_name(Rule r) noexcept {
    switch (r) {
        case Rule::Finite: return "finite";
        case Rule::Range: return "range";
        case Rule::Overflow: return "overflow";
        case Rule::ZeroTensor: return "zero-tensor";
    }
    return "?";
}

size_t CheckReport::failed_tensors() const {
    size_t n = 0;
    for (const TensorCheck& t : tensors) n += !t.failures.empty();
    return n;
}

size_t CheckReport::failed_tensors(Rule r) const {
    size_t n = 0;
    for (const TensorCheck& t : tensors)
        for (const Failure& f : t.failures) n += f.rule == r;
    return n;
}

uint64_t CheckReport::values() const {
    uint64_t n = 0;
    for (const TensorCheck& t : tensors) n += t.stats.values;
    return n;
}

CheckReport check_model(const GgufModel& model, Engine& engine, const CheckOptions& opts, const RunControl& control) {
    if (opts.overflow && *opts.overflow == OutType::F32) throw Error("nothing overflows F32: the values are float32");
    const ConversionPlan plan = plan_check(model, opts);
    const auto& jobs = plan.jobs();
    CheckReport report;
    report.options = opts;
    std::vector<std::unique_ptr<ValueAccumulator>> acc(jobs.size());
    TensorGlobs selection(opts.tensor_globs);
    Ranges ranges(opts);
    for (size_t i = 0; i < jobs.size(); ++i) {
        const TensorInfo& t = plan.tensor(jobs[i]);
        if (jobs[i].converts()) {
            const std::optional<ValueRange> range = ranges.select(t.name);
            acc[i] = std::make_unique<ValueAccumulator>(t.ne[0], ValueRules{opts.overflow, range});
            report.tensors.push_back({plan.inputs()[jobs[i].input], &t, range, {}, {}});
        } else if (selection.select(t.name)) {
            report.skipped.push_back(&t);
        }
    }
    ranges.require_matched(model);
    RunControl c;
    if (control.progress)
        c.progress = [&, place = model_places(model, plan)](uint64_t done, uint64_t total, size_t job) {
            control.progress(done, total, job < place.size() ? place[job] : size_t(model.n_tensors()));
        };
    c.cancel = control.cancel;
    c.values = [&](size_t job, uint64_t first, std::span<const uint8_t> bytes) {
        // Engines hand over their own buffers, allocated for any type: aligned for floats.
        acc[job]->add(first, std::span(reinterpret_cast<const float*>(bytes.data()), bytes.size() / sizeof(float)));
    };
    report.bytes_read = engine.scan(plan, c).bytes_read;
    size_t k = 0;
    for (size_t i = 0; i < jobs.size(); ++i) {
        if (!acc[i]) continue;
        TensorCheck& t = report.tensors[k++];
        t.stats = acc[i]->result();
        t.failures = failures_of(opts, t);
    }
    return report;
}

}  // namespace gguftk
