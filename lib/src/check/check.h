#pragma once
// Checking a model's values without writing them (gguf-dequant --check): every float and
// quantized tensor decoded by a conversion engine to float32, exactly the values
// `gguf-dequant --to f32` writes, summarized in double precision and held to rules.
//
//   CheckReport r = check_model(model, *make_cpu_engine(0), opts, control);
//   for (const TensorCheck& t : r.tensors) for (const Failure& f : t.failures) ...
//
// Element indices are in GGUF order (ne0 varies fastest); a row is ne0 consecutive values, the
// higher dimensions flattened (row = index / ne0, column = index % ne0).
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "convert/convert.h"
#include "container/gguf.h"
#include "container/model.h"
#include "formats/types.h"

namespace gguftk {

// How often something occurred among a tensor's values, and the first element where it did.
struct Occurrences {
    static constexpr uint64_t kNone = std::numeric_limits<uint64_t>::max();
    uint64_t count = 0;
    uint64_t first = kNone;

    void add(uint64_t index) {
        ++count;
        first = index < first ? index : first;
    }
    void merge(const Occurrences& o) {
        count += o.count;
        first = o.first < first ? o.first : first;
    }
};

// A closed interval [lo, hi] the values of a tensor must lie in.
struct ValueRange {
    double lo = 0, hi = 0;
};

// What a tensor's values are held to besides the statistics.
struct ValueRules {
    // F16 or BF16: count the finite values that round to infinity in it.
    std::optional<OutType> overflow;
    // Count the values not within it: an infinity is outside any finite range, and a NaN is
    // within none.
    std::optional<ValueRange> range;
};

// A tensor's values summarized. min, max, absmax, mean and stddev (population, as NumPy's
// std) are over the finite values, computed in double from the exact float32 values; with no
// finite value they are NaN. The sum behind the mean is compensated (error far below NumPy's
// pairwise summation), the deviations are summed about each chunk's mean and merged exactly as
// Chan et al.'s parallel variance, so the result does not depend on how the work was split.
struct ValueStats {
    uint64_t values = 0;
    uint64_t finite = 0;
    uint64_t zero = 0;       // values equal to zero (either sign)
    uint64_t zero_rows = 0;  // rows whose every value is zero
    Occurrences nan, inf;
    Occurrences overflow;      // ValueRules::overflow
    Occurrences out_of_range;  // ValueRules::range
    double min, max, absmax, mean, stddev;
};

// Accumulates one tensor's values, chunk by chunk, from any number of threads at once.
class ValueAccumulator {
public:
    ValueAccumulator(uint64_t row_length, ValueRules rules);
    ~ValueAccumulator();
    ValueAccumulator(const ValueAccumulator&) = delete;
    ValueAccumulator& operator=(const ValueAccumulator&) = delete;

    // Folds in the values [first, first + values.size()) of the tensor. Each value once.
    void add(uint64_t first, std::span<const float> values);
    ValueStats result() const;

private:
    struct State;
    std::unique_ptr<State> s_;
};

// The rules a check applies; each failure names its rule.
enum class Rule : uint8_t {
    Finite,      // no NaN, no infinity
    Range,       // every value within the tensor's --range
    Overflow,    // no finite value rounds to infinity in the --to type
    ZeroTensor,  // not every value zero (--no-zero-tensors)
};
std::string_view rule_name(Rule r) noexcept;  // "finite", "range", "overflow", "zero-tensor"
inline constexpr Rule kRules[] = {Rule::Finite, Rule::Range, Rule::Overflow, Rule::ZeroTensor};

struct CheckOptions {
    std::vector<std::string> tensor_globs;  // fnmatch(3) patterns; none: every tensor
    bool finite = true;
    std::optional<OutType> overflow;        // F16 or BF16
    // Ranges by tensor-name glob: the first whose glob matches a tensor applies to it.
    std::vector<std::pair<std::string, ValueRange>> ranges;
    bool no_zero_tensors = false;
};

struct Failure {
    Rule rule;
    Occurrences where;  // for ZeroTensor: the count of values, no first element
};

struct TensorCheck {
    const GgufFile* file;
    const TensorInfo* tensor;
    std::optional<ValueRange> range;
    ValueStats stats;
    std::vector<Failure> failures;
};

struct CheckReport {
    std::vector<TensorCheck> tensors;           // every float and quantized tensor selected, in model order
    std::vector<const TensorInfo*> skipped;     // selected integer tensors: no values to check
    CheckOptions options;
    uint64_t bytes_read = 0;

    size_t failed_tensors() const;
    size_t failed_tensors(Rule r) const;
    uint64_t values() const;
};

// Decodes every selected float and quantized tensor of `model` with `engine` (nothing is
// written) and checks it. `control` gives progress and cancellation (progress's job is the
// tensor's place in the model: its files' tensors in order); its stats and values members are
// not used. Throws Error as plan_conversion does (a glob that selects nothing, a
// type without a decoder) and for read errors; a value breaking a rule is not an error but a
// Failure in the report.
CheckReport check_model(const GgufModel& model, Engine& engine, const CheckOptions& opts, const RunControl& control);

// The views, in gguftk_views. The failures, one line each and whole whatever `columns`, then a
// summary line naming `input`, which with `columns` (a terminal's) fits them:
std::string render_check_text(const CheckReport& r, const std::string& input, const std::string& engine,
                              double seconds, size_t columns = 0);
// A table of every tensor's statistics; with `columns`, a table that fits them (fit_table).
std::string render_check_table(const CheckReport& r, size_t columns = 0);
// One JSON document: options, per-tensor statistics and failures, totals.
std::string render_check_json(const CheckReport& r, const std::string& input);

}  // namespace gguftk
