// compare(): the tensors of two sides paired by name, their values read in chunks by a few
// threads, each chunk's differences summed on its own and the chunks merged in order, so the
// result does not depend on the thread count. Memory: two chunks of doubles per thread.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "convert/cpu_loop.h"
#include "convert/vectors.h"
#include "formats/float_bits.h"
#include "compare/compare.h"
#include "container/error.h"
#include "inspect/inspect.h"
#include "container/names.h"

// The vector helpers are internal and inlined into one caller per instruction set: no vector
// crosses an ABI boundary, so the warning that AVX vectors pass differently does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace gguftk {
namespace {

constexpr uint64_t kChunk = 1 << 16;  // values per chunk and side: 512 KiB of doubles
constexpr uint64_t kNone = std::numeric_limits<uint64_t>::max();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// --tensors follows every tool's rule: each glob must match a tensor of either side.
void require_matched(const TensorGlobs& globs, const Side& a, const Side& b) {
    const std::string* glob = globs.unmatched();
    if (!glob) return;
    ClosestNames near(*glob);
    std::unordered_set<std::string_view> in_a;
    for (const SideTensor& t : a.tensors()) near.consider(t.name), in_a.insert(t.name);
    for (const SideTensor& t : b.tensors())
        if (!in_a.count(t.name)) near.consider(t.name);
    const uint64_t n = a.tensors().size() + b.tensors().size();
    // Named after the option, not a file: the glob is looked for in both.
    throw ArgumentError(near.message("matches", n,
                                     "A's " + std::to_string(a.tensors().size()) + " tensors and B's " +
                                         std::to_string(b.tensors().size()) + " tensors",
                                     "neither side has tensors"),
                        std::nullopt, "--tensors");
}

// A shape without its trailing 1s: [896] and [896, 1] are the same tensor.
std::vector<uint64_t> trimmed(std::vector<uint64_t> ne) {
    while (ne.size() > 1 && ne.back() == 1) ne.pop_back();
    return ne;
}

uint64_t bits(double v) {
    uint64_t u;
    std::memcpy(&u, &v, sizeof u);
    return u;
}

bool tolerant(const CompareOptions& o) { return o.atol || o.rtol; }

bool same_value(double x, double y) { return bits(x) == bits(y) || (std::isnan(x) && std::isnan(y)); }

// The one definition of a pair beyond the tolerance, for the sums and for finding the first.
bool is_beyond(double x, double y, const CompareOptions& o) {
    if (!std::isfinite(x) || !std::isfinite(y)) return !same_value(x, y) && x != y;  // numpy.allclose's unequal
    if (!tolerant(o)) return bits(x) != bits(y);
    return std::fabs(x - y) > o.atol.value_or(0) + o.rtol.value_or(0) * std::fabs(x);
}

// One pair of values into `d`, whatever they are; `i` is the element's index.
void add_pair(double x, double y, uint64_t i, const CompareOptions& o, ValueDiff& d) {
    d.identical += same_value(x, y);
    if (is_beyond(x, y, o)) {
        ++d.beyond;
        d.first_beyond = std::min(d.first_beyond, i);
    }
    if (!std::isfinite(x) || !std::isfinite(y)) {
        d.nonfinite_mismatch += !same_value(x, y) && x != y;
        return;
    }
    const double diff = x - y, a = std::fabs(diff);
    ++d.finite_pairs;
    d.sum_abs += a;
    d.sum_sq += diff * diff;
    d.sum_aa += x * x;
    d.sum_bb += y * y;
    d.sum_ab += x * y;
    if (a > d.max_abs || d.max_at == kNone) {
        d.max_abs = a;
        d.max_at = i;
    }
}

// Runs where every value is finite are summed four pairs at a time in vectors (GCC/Clang
// vector extensions: the same IEEE operations lane by lane, so the AVX2 build of the loop and
// the portable one give the same bits); the elements of the largest difference and of the first
// pair beyond are looked up afterwards, in the rare chunk that has them.
using vec::f64x4, vec::i64x4;

struct DiffLanes {
    f64x4 abs = {}, sq = {}, aa = {}, bb = {}, ab = {}, mx = {};
    i64x4 same = {}, over = {};  // count down: a true comparison is -1
};

template <class To, class From>
[[gnu::always_inline]] inline To as(const From& v) {
    To t;
    std::memcpy(&t, &v, sizeof t);
    return t;
}

[[gnu::always_inline]] inline void diff_lanes(const double* x, const double* y, size_t groups, bool tol, double atol,
                                              double rtol, DiffLanes& out) {
    DiffLanes l;
    const i64x4 magnitude = i64x4{} + 0x7fffffffffffffff;
    const f64x4 at = f64x4{} + atol, rt = f64x4{} + rtol;
    for (size_t g = 0; g < groups; ++g) {
        f64x4 u, v;  // loaded by memcpy: a vector type asks for 32-byte alignment, the data has 16
        std::memcpy(&u, x + 4 * g, sizeof u);
        std::memcpy(&v, y + 4 * g, sizeof v);
        const f64x4 d = u - v, a = as<f64x4>(as<i64x4>(d) & magnitude);
        l.abs += a;
        l.sq += d * d;
        l.aa += u * u;
        l.bb += v * v;
        l.ab += u * v;
        l.mx = a > l.mx ? a : l.mx;
        const i64x4 eq = as<i64x4>(u) == as<i64x4>(v);
        l.same += eq;
        l.over += tol ? (a > at + rt * as<f64x4>(as<i64x4>(u) & magnitude)) : ~eq;
    }
    out = l;
}

#if defined(__x86_64__) || defined(__i386__)
[[gnu::target("avx2")]] void diff_lanes_avx2(const double* x, const double* y, size_t groups, bool tol, double atol,
                                             double rtol, DiffLanes& out) {
    diff_lanes(x, y, groups, tol, atol, rtol, out);
}
#else
void diff_lanes_avx2(const double* x, const double* y, size_t groups, bool tol, double atol, double rtol, DiffLanes& out) {
    diff_lanes(x, y, groups, tol, atol, rtol, out);
}
#endif

// False (d untouched) when a value is not finite or too large to square.
bool add_finite(std::span<const double> x, std::span<const double> y, uint64_t first, const CompareOptions& o,
                ValueDiff& d) {
    const size_t n = x.size(), groups = n / 4;
    const double atol = o.atol.value_or(0), rtol = o.rtol.value_or(0);
    DiffLanes l;
    if (cpu_has_avx2()) diff_lanes_avx2(x.data(), y.data(), groups, tolerant(o), atol, rtol, l);
    else diff_lanes(x.data(), y.data(), groups, tolerant(o), atol, rtol, l);
    // A NaN or infinity on either side leaves a sum of squares NaN or infinite (as may a finite
    // value beyond 1e154, rare): then the careful loop instead.
    for (size_t k = 0; k < 4; ++k)
        if (!std::isfinite(l.aa[k] + l.bb[k])) return false;
    for (size_t k = 0; k < 4; ++k) {
        d.sum_abs += l.abs[k], d.sum_sq += l.sq[k], d.sum_aa += l.aa[k], d.sum_bb += l.bb[k], d.sum_ab += l.ab[k];
        d.identical -= uint64_t(l.same[k]);
        d.beyond -= uint64_t(l.over[k]);
        d.max_abs = std::max(d.max_abs, l.mx[k]);
    }
    d.finite_pairs += 4 * groups;
    d.max_at = 0;  // a placeholder, so that add_pair keeps the larger maximum
    for (size_t i = 4 * groups; i < n; ++i) add_pair(x[i], y[i], first + i, o, d);  // these may be anything
    d.max_at = d.first_beyond = kNone;  // both looked up over the whole run
    for (size_t i = 0; i < n && d.max_at == kNone; ++i)
        if (std::fabs(x[i] - y[i]) == d.max_abs) d.max_at = first + i;
    for (size_t i = 0; i < n && d.beyond && d.first_beyond == kNone; ++i)
        if (is_beyond(x[i], y[i], o)) d.first_beyond = first + i;
    return true;
}

// A worker's buffers: two chunks of values and each side's read scratch.
struct Scratch {
    std::vector<double> x, y;
    ReadScratch ra, rb;
};

// The differences of values [first, first + n) of one pair.
ValueDiff diff_chunk(const Side& a, size_t ia, const Side& b, size_t ib, uint64_t first, uint64_t n,
                     const CompareOptions& o, Scratch& s) {
    s.x.resize(n);
    s.y.resize(n);
    a.read(ia, first, s.x, s.ra, o.as);
    b.read(ib, first, s.y, s.rb, o.as);
    ValueDiff d;
    d.values = n;
    if (!add_finite(s.x, s.y, first, o, d))
        for (uint64_t k = 0; k < n; ++k) add_pair(s.x[k], s.y[k], first + k, o, d);
    return d;
}

// Calls fn(k, scratch) for k in [0, n) on up to scratch.size() threads, each with its own
// scratch; rethrows the first error.
template <class Fn>
void parallel_for(uint64_t n, std::vector<Scratch>& scratch, Fn fn) {
    std::atomic<uint64_t> next{0};
    std::exception_ptr error;
    std::mutex mu;
    auto work = [&](Scratch& s) {
        try {
            for (uint64_t k; (k = next.fetch_add(1)) < n;) fn(k, s);
        } catch (...) {
            next = n;
            std::lock_guard lock(mu);
            if (!error) error = std::current_exception();
        }
    };
    std::vector<std::thread> pool;
    try {
        for (size_t t = 1; t < std::min<uint64_t>(scratch.size(), n); ++t) pool.emplace_back(work, std::ref(scratch[t]));
    } catch (...) {  // no thread to be had: stop the ones started before rethrowing
        next = n;
        for (auto& t : pool) t.join();
        throw;
    }
    work(scratch[0]);
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
}

ValueDiff diff_tensor(const Side& a, size_t ia, const Side& b, size_t ib, const CompareOptions& o,
                      std::vector<Scratch>& scratch) {
    const uint64_t n = a.tensors()[ia].n_elements, chunks = (n + kChunk - 1) / kChunk;
    std::vector<ValueDiff> parts(chunks);
    parallel_for(chunks, scratch, [&](uint64_t k, Scratch& s) {
        parts[k] = diff_chunk(a, ia, b, ib, k * kChunk, std::min(kChunk, n - k * kChunk), o, s);
    });
    ValueDiff d;
    for (const ValueDiff& p : parts) d.merge(p);
    return d;
}

Verdict verdict_of(const ValueDiff& d, const CompareOptions& o) {
    if (d.bit_identical()) return Verdict::Identical;
    return (o.atol || o.rtol) && d.beyond == 0 ? Verdict::Within : Verdict::Beyond;
}

// ---- metadata ----

std::span<const uint8_t> value_bytes(const GgufFile& f, const KeyValue& kv) {
    return f.bytes().subspan(kv.value_offset, kv.end - kv.value_offset);
}

MetadataChange::Shown shown(const GgufFile& f, const KeyValue& kv) {
    return {display_value(f.value(kv, 6), InspectOptions{}, EscapeFor::Text), display_type(f, kv)};
}

std::vector<MetadataChange> metadata_changes(const GgufFile& a, const GgufFile& b) {
    std::vector<MetadataChange> out;
    auto skip = [](const KeyValue& kv) { return kv.key.rfind("split.", 0) == 0; };
    for (const KeyValue& kv : a.metadata()) {
        if (skip(kv)) continue;
        const KeyValue* other = b.find_key(kv.key);
        if (!other) out.push_back({kv.key, shown(a, kv), std::nullopt});
        else if (!std::ranges::equal(value_bytes(a, kv), value_bytes(b, *other)))
            out.push_back({kv.key, shown(a, kv), shown(b, *other)});
    }
    for (const KeyValue& kv : b.metadata())
        if (!skip(kv) && !a.find_key(kv.key)) out.push_back({kv.key, std::nullopt, shown(b, kv)});
    return out;
}

}  // namespace

double ValueDiff::mean_abs() const { return finite_pairs ? sum_abs / double(finite_pairs) : 0; }
double ValueDiff::rmse() const { return finite_pairs ? std::sqrt(sum_sq / double(finite_pairs)) : 0; }
double ValueDiff::rel_rmse() const { return sum_aa > 0 ? std::sqrt(sum_sq / sum_aa) : (sum_sq > 0 ? INFINITY : 0); }
double ValueDiff::cosine() const {
    if (sum_aa == 0 || sum_bb == 0) return sum_aa == sum_bb ? 1 : kNaN;
    return sum_ab / std::sqrt(sum_aa * sum_bb);
}
double ValueDiff::snr_db() const { return sum_sq > 0 ? 10 * std::log10(sum_aa / sum_sq) : INFINITY; }

void ValueDiff::merge(const ValueDiff& o) {
    values += o.values;
    identical += o.identical;
    beyond += o.beyond;
    nonfinite_mismatch += o.nonfinite_mismatch;
    if (o.finite_pairs && (o.max_abs > max_abs || max_at == kNone)) {
        max_abs = o.max_abs;
        max_at = o.max_at;
    }
    finite_pairs += o.finite_pairs;
    first_beyond = std::min(first_beyond, o.first_beyond);
    sum_abs += o.sum_abs;
    sum_sq += o.sum_sq;
    sum_aa += o.sum_aa;
    sum_bb += o.sum_bb;
    sum_ab += o.sum_ab;
}

std::string_view verdict_name(Verdict v) noexcept {
    switch (v) {
        case Verdict::Identical: return "identical";
        case Verdict::Within: return "within";
        case Verdict::Beyond: return "BEYOND";
        case Verdict::OnlyInA: return "only in A";
        case Verdict::OnlyInB: return "only in B";
        case Verdict::ShapeDiffers: return "SHAPE";
    }
    return "?";
}

bool Comparison::within() const {
    return std::ranges::all_of(tensors, [](const TensorComparison& t) {
        return t.verdict == Verdict::Identical || t.verdict == Verdict::Within;
    });
}

size_t Comparison::count(Verdict v) const {
    return size_t(std::ranges::count_if(tensors, [v](const TensorComparison& t) { return t.verdict == v; }));
}

const TensorComparison* Comparison::worst() const {
    auto rank = [](const TensorComparison& t) {
        return std::tuple(t.verdict == Verdict::Beyond, t.diff.nonfinite_mismatch > 0, t.diff.rel_rmse());
    };
    const TensorComparison* w = nullptr;
    for (const TensorComparison& t : tensors)
        if ((t.verdict == Verdict::Beyond || t.verdict == Verdict::Within) && (!w || rank(t) > rank(*w))) w = &t;
    return w;
}

Comparison compare(const Side& a, const Side& b, const CompareOptions& opts) {
    Comparison c;
    c.options = opts;
    std::vector<Scratch> scratch(opts.threads ? opts.threads : std::max(1u, std::thread::hardware_concurrency()));
    std::unordered_map<std::string_view, size_t> in_b;
    for (size_t i = 0; i < b.tensors().size(); ++i) in_b.emplace(b.tensors()[i].name, i);
    std::vector<bool> paired(b.tensors().size());
    TensorGlobs selection(opts.tensor_globs);
    for (size_t i = 0; i < a.tensors().size(); ++i) {
        const SideTensor& ta = a.tensors()[i];
        if (!selection.select(ta.name)) continue;
        const auto it = in_b.find(ta.name);
        TensorComparison t{ta.name, &ta, nullptr, Verdict::OnlyInA, {}};
        if (it != in_b.end()) {
            paired[it->second] = true;
            t.b = &b.tensors()[it->second];
            if (trimmed(ta.ne) != trimmed(t.b->ne)) t.verdict = Verdict::ShapeDiffers;
            else t.diff = diff_tensor(a, i, b, it->second, opts, scratch), t.verdict = verdict_of(t.diff, opts);
        }
        c.tensors.push_back(std::move(t));
    }
    for (size_t i = 0; i < b.tensors().size(); ++i)
        if (selection.select(b.tensors()[i].name) && !paired[i])
            c.tensors.push_back({b.tensors()[i].name, nullptr, &b.tensors()[i], Verdict::OnlyInB, {}});
    if (a.model() && b.model()) c.metadata = metadata_changes(*a.model()->files()[0], *b.model()->files()[0]);
    require_matched(selection, a, b);
    if (c.tensors.empty()) throw Error("neither side has tensors");
    return c;
}

}  // namespace gguftk
