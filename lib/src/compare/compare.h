#pragma once
// Comparing two models tensor by tensor (gguf-compare): each side a GGUF file (a split model
// whole), a safetensors file, or a directory of npy or raw files (gguf-dequant's, with its
// manifest.json, or an engine's dumps); every value decoded to double on the fly, in chunks,
// so neither side is ever held whole.
//
//   auto a = open_side("model-Q4_K_M.gguf", {}), b = open_side("dump/", {"{name}.bin", "f16"}, a.get());
//   Comparison c = compare(*a, *b, options);
//
// Element indices are in GGUF order (ne0 fastest): row = index / ne0, col = index % ne0.
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "container/model.h"

namespace gguftk {

// A tensor as one side holds it.
struct SideTensor {
    std::string name;
    std::vector<uint64_t> ne;  // GGUF order (ne0 first)
    uint64_t n_elements = 0;
    std::string type;          // "Q4_K", "F16" (GGUF), "float16" (npy, safetensors, raw)
};

// Buffers a side's reads reuse, one set per thread: a read allocates nothing once they are grown.
struct ReadScratch {
    std::vector<uint8_t> bytes;
    std::vector<float> floats;
};

// One side of a comparison: its tensors and their values.
class Side {
public:
    virtual ~Side() = default;
    virtual std::string kind() const = 0;  // "GGUF", "safetensors", "npy directory", "raw directory"
    const std::vector<SideTensor>& tensors() const { return tensors_; }
    // Values [first, first + out.size()) of tensors()[i], as doubles; with `as`, rounded to that
    // type first (ggml's rounding, as gguf-dequant --to AS writes them). Thread-safe (with a
    // scratch per thread). Throws Error.
    virtual void read(size_t i, uint64_t first, std::span<double> out, ReadScratch& scratch,
                      std::optional<OutType> as = std::nullopt) const = 0;
    // The GGUF model of a GGUF side (its metadata is compared), else null.
    virtual const GgufModel* model() const { return nullptr; }

protected:
    std::vector<SideTensor> tensors_;
};

struct SideOptions {
    // A dump directory without manifest.json: the file holding tensor NAME, "{name}" standing
    // for it; "" tries NAME.npy, then NAME.bin, NAME.raw and NAME.
    std::string map;
    // The element type of raw files without a manifest ("f16", "f32", "bf16", "f64", ...); their
    // shapes are the other side's.
    std::string raw_dtype;
};

// A directory without gguf-dequant's manifest.json: an engine's dumps.
bool is_dump_directory(const std::string& path);

// Opens `path` as a side: a GGUF file, a .safetensors file, or a directory. A dump directory is
// read by the names (and, for raw files, the shapes) of `other`'s tensors; without `other`, by
// its .npy files. Throws Error.
std::unique_ptr<Side> open_side(const std::string& path, const SideOptions& opts, const Side* other = nullptr);

struct CompareOptions {
    std::vector<std::string> tensor_globs;  // fnmatch(3) patterns; none: every tensor
    // numpy.allclose's test with A as the reference: |a - b| <= atol + rtol * |a|. Without
    // either, "within" means bit-identical.
    std::optional<double> atol, rtol;
    // Both sides rounded to this type first (ggml's rounding), e.g. to hold an engine's FP16
    // buffer to gguf-dequant's FP16 output exactly.
    std::optional<OutType> as;
    unsigned threads = 0;  // 0: one per core
};

// How the values of one tensor differ. The sums are over the pairs where both values are
// finite; the pairs where one is NaN or infinite and the other is not the same count apart.
struct ValueDiff {
    uint64_t values = 0;
    uint64_t identical = 0;       // pairs bit for bit equal (any NaN equals any NaN)
    uint64_t beyond = 0;          // pairs outside atol/rtol (non-finite mismatches included)
    uint64_t nonfinite_mismatch = 0;
    uint64_t finite_pairs = 0;
    double max_abs = 0;           // the largest |a - b|, at element max_at
    uint64_t max_at = std::numeric_limits<uint64_t>::max();
    uint64_t first_beyond = std::numeric_limits<uint64_t>::max();
    double sum_abs = 0, sum_sq = 0, sum_aa = 0, sum_bb = 0, sum_ab = 0;

    bool bit_identical() const { return identical == values; }
    double mean_abs() const;
    double rmse() const;
    double rel_rmse() const;  // rmse / rms of A
    double cosine() const;    // NaN when exactly one side is all zeros (0/0), 1 when both are
    double snr_db() const;    // 10 log10(sum a^2 / sum (a - b)^2); infinite when equal
    void merge(const ValueDiff& o);
};

enum class Verdict : uint8_t { Identical, Within, Beyond, OnlyInA, OnlyInB, ShapeDiffers };
std::string_view verdict_name(Verdict v) noexcept;  // "identical", "within", "BEYOND", ...

struct TensorComparison {
    std::string name;
    const SideTensor* a = nullptr;  // null when only in B
    const SideTensor* b = nullptr;  // null when only in A
    Verdict verdict = Verdict::Identical;
    ValueDiff diff;  // for tensors of the same element count
};

// A metadata difference between two GGUF sides: added (only in B), removed (only in A), or
// changed in value or type.
struct MetadataChange {
    struct Shown {
        std::string value, type;  // as gguf-inspect shows them: "15", "UINT32"; "[...]", "ARRAY[STRING]"
    };
    std::string key;
    std::optional<Shown> a, b;  // absent on that side when empty
    std::string_view change() const { return !a ? "added" : !b ? "removed" : "changed"; }
};

struct Comparison {
    std::vector<TensorComparison> tensors;  // A's order, then those only in B
    std::vector<MetadataChange> metadata;   // added, removed, changed; split.* keys left out
    CompareOptions options;
    bool within() const;                    // every tensor identical or within, none missing
    size_t count(Verdict v) const;
    // The tensor to look at first, else null: a BEYOND one before a within one, one with NaN or
    // infinities that differ before one without, then the largest relative RMSE.
    const TensorComparison* worst() const;
};

// Compares every tensor the globs select. Throws Error for read errors.
Comparison compare(const Side& a, const Side& b, const CompareOptions& opts);

// The views: a table (fit for 100 columns; long names shortened as elide_names does) and a summary
// line, or with `columns` (a terminal's) all of it fit to them; Markdown; one JSON document.
std::string render_comparison_text(const Comparison& c, const std::string& a, const std::string& b, size_t columns = 0);
std::string render_comparison_markdown(const Comparison& c, const std::string& a, const std::string& b);
std::string render_comparison_json(const Comparison& c, const std::string& a, const std::string& b);

}  // namespace gguftk
