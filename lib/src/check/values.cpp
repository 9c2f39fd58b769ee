// ValueAccumulator: a tensor's statistics from chunks of float32 values, in any order.
//
// A chunk is summarized on its own (a Part), then merged under the lock. Most chunks hold no
// NaN or infinity and are summarized by a loop with no per-value branch; a chunk that holds one
// takes the careful loop. The first offending element of a rule is looked for in a second scan,
// only in a chunk whose extremes show there is one.
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>

#include "convert/cpu_loop.h"
#include "convert/vectors.h"
#include "formats/float_bits.h"
#include "check/check.h"

// The vector helpers below are internal and inlined into one caller per instruction set, so no
// vector crosses an ABI boundary: the warning that AVX vectors pass differently does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace gguftk {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool is_finite(float x) { return std::fabs(x) <= std::numeric_limits<float>::max(); }

// The smallest magnitude that rounds to infinity in `t`, found with the rounding itself.
float overflow_threshold(OutType t) {
    auto rounds_to_inf = [t](uint32_t bits) {
        const float f = formats::f32_from_bits(bits);
        const uint16_t h = t == OutType::F16 ? formats::f32_to_fp16(f) : formats::f32_to_bf16(f);
        return t == OutType::F16 ? (h & 0x7fffu) == 0x7c00u : (h & 0x7fffu) == 0x7f80u;
    };
    uint32_t lo = 0, hi = 0x7f800000u;  // rounds_to_inf(lo) is false, rounds_to_inf(hi) true
    while (hi - lo > 1) {
        const uint32_t mid = lo + (hi - lo) / 2;
        (rounds_to_inf(mid) ? hi : lo) = mid;
    }
    return formats::f32_from_bits(hi);
}

// Knuth's two-sum: hi + lo is exactly the running sum plus x. Written once for doubles and for
// the vectors below, where it runs lane by lane.
template <class T>
[[gnu::always_inline]] inline void two_sum(T& hi, T& lo, const T& x) {
    const T s = hi + x;
    const T b = s - hi;
    lo += (hi - (s - b)) + (x - b);
    hi = s;
}

// One chunk's (or, merged, a whole tensor's) summary.
struct Part {
    uint64_t values = 0, finite = 0, zero = 0, zero_rows = 0;
    Occurrences nan, inf, overflow, out_of_range;
    double min = INFINITY, max = -INFINITY;
    double sum_hi = 0, sum_lo = 0;  // of the finite values
    double m2 = 0;                  // squared deviations from this part's mean

    double mean() const { return finite ? (sum_hi + sum_lo) / double(finite) : kNaN; }

    void merge(const Part& o) {
        if (o.finite) {
            const double delta = o.mean() - mean();
            const double n = double(finite) + double(o.finite);
            m2 = finite ? m2 + o.m2 + delta * delta * (double(finite) * double(o.finite) / n) : o.m2;
            min = std::fmin(min, o.min);
            max = std::fmax(max, o.max);
            two_sum(sum_hi, sum_lo, o.sum_hi);
            sum_lo += o.sum_lo;
        }
        values += o.values;
        finite += o.finite;
        zero += o.zero;
        zero_rows += o.zero_rows;
        nan.merge(o.nan);
        inf.merge(o.inf);
        overflow.merge(o.overflow);
        out_of_range.merge(o.out_of_range);
    }
};

// The common case, a run with no NaN or infinity, is summarized in vectors (GCC/Clang vector
// extensions: exact IEEE operations lane by lane, so the AVX2 build of the loop and the portable
// one give the same bits), sixteen values a step, in runs short enough to stay in L1: a first
// pass takes the run's extremes and zeros in float, a second its sums and squares in double.
//
// The sum is compensated: each double lane starts at a power of two S, at least twice the most
// the lane can add up in a run, so that it stays within [S/2, 3S/2] and above every value's
// magnitude. Adding x then loses an error that x - ((h + x) - h) recovers exactly (Dekker's fast
// two-sum: three operations where Knuth's takes six, as |h| >= |x|); the errors are summed apart,
// and h - S is exact at the end of the run (Sterbenz). Each error is a multiple of ulp(x) and at
// most ulp(S) / 2, so their sum is exact too unless a run's largest magnitude is over 2^64 times
// its smallest non-zero one; even then its rounding is far below NumPy's pairwise summation's.
using vec::f32x8, vec::i32x8, vec::f64x4, vec::load, vec::load4d;
constexpr size_t kStep = 16;        // values a step
constexpr size_t kRunSteps = 256;   // steps a run: 16 KiB of floats

struct Lanes {
    f64x4 hi[2] = {}, lo[2] = {};  // two-sums of the runs' sums
    f64x4 sq[2] = {};              // squares of the values' distance from a shift (see summarize_finite)
    f32x8 mn, mx;
    i32x8 zero = {};               // counts down: a true comparison is -1
};

// The first pass: extremes and zeros of v[0, 16 * steps), folded into l; returns the run's
// largest magnitude, infinite when a value was (a NaN is left to the sums to show).
[[gnu::always_inline]] inline float extremes(const float* v, size_t steps, Lanes& l) {
    f32x8 mn = load<f32x8>(v), mx = mn;
    for (size_t i = 0; i < steps; ++i) {
        const f32x8 x = load<f32x8>(v + kStep * i), y = load<f32x8>(v + kStep * i + 8);
        const f32x8 lo = x < y ? x : y, hi = x > y ? x : y;
        mn = lo < mn ? lo : mn;
        mx = hi > mx ? hi : mx;
        l.zero += (x == 0.0f) + (y == 0.0f);
    }
    l.mn = mn < l.mn ? mn : l.mn;
    l.mx = mx > l.mx ? mx : l.mx;
    float m = 0;
    for (size_t k = 0; k < 8; ++k) m = std::fmax(m, std::fmax(-mn[k], mx[k]));
    return m;
}

// S for a run of `steps` whose largest magnitude is m: a power of two at least 2 (steps + 1)
// times m. Infinite (and so the sums too) when a value was.
double run_start(float m, size_t steps) {
    if (!(m <= std::numeric_limits<float>::max())) return INFINITY;
    int e = 0;
    std::frexp(double(m) * double(2 * (steps + 1)), &e);
    return std::ldexp(1.0, e);
}

// The second pass: sums of v[0, 16 * steps) (fast two-sums from `start`, see above) added to the
// lanes' two-sums, and squares about `shift`. A NaN or infinity leaves its lane's sum NaN or
// infinite: that is how fold_lanes tells, at no cost here.
[[gnu::always_inline]] inline void sums(const float* v, size_t steps, double start, const f64x4& shift, Lanes& l) {
    const f64x4 s0 = f64x4{} + start;
    f64x4 h[4] = {s0, s0, s0, s0}, e[4] = {}, sq[2] = {l.sq[0], l.sq[1]};
    for (size_t i = 0; i < steps; ++i) {
        for (int j = 0; j < 4; ++j) {
            const f64x4 x = load4d(v + kStep * i + 4 * j);
            const f64x4 s = h[j] + x;
            e[j] += x - (s - h[j]);
            h[j] = s;
            sq[j / 2] += (x - shift) * (x - shift);
        }
    }
    for (int j = 0; j < 4; ++j) {
        two_sum(l.hi[j / 2], l.lo[j / 2], h[j] - s0);
        two_sum(l.hi[j / 2], l.lo[j / 2], e[j]);
    }
    l.sq[0] = sq[0];
    l.sq[1] = sq[1];
}

[[gnu::always_inline]] inline void vector_pass(const float* v, size_t steps, double shift, Lanes& out) {
    Lanes l;  // a local, so that the compiler keeps it in registers
    const f64x4 k = f64x4{} + shift;
    l.mn = l.mx = load<f32x8>(v);
    for (size_t at = 0; at < steps; at += kRunSteps) {
        const size_t n = std::min(kRunSteps, steps - at);
        const float m = extremes(v + kStep * at, n, l);
        sums(v + kStep * at, n, run_start(m, n), k, l);
    }
    out = l;
}

#if defined(__x86_64__) || defined(__i386__)
[[gnu::target("avx2")]] void vector_pass_avx2(const float* v, size_t steps, double shift, Lanes& l) {
    vector_pass(v, steps, shift, l);
}
#else
void vector_pass_avx2(const float* v, size_t steps, double shift, Lanes& l) { vector_pass(v, steps, shift, l); }
#endif

void run_vector_pass(const float* v, size_t steps, double shift, Lanes& l) {
    if (cpu_has_avx2()) vector_pass_avx2(v, steps, shift, l);
    else vector_pass(v, steps, shift, l);
}

// The lanes folded into a Part: sum, extremes, zeros; false when a value was not finite.
bool fold_lanes(const Lanes& l, Part& r) {
    for (size_t k = 0; k < 8; ++k)
        if (!std::isfinite(l.hi[k / 4][k % 4] + l.lo[k / 4][k % 4])) return false;
    for (size_t k = 0; k < 8; ++k) {
        two_sum(r.sum_hi, r.sum_lo, l.hi[k / 4][k % 4]);
        r.sum_lo += l.lo[k / 4][k % 4];
        r.min = std::fmin(r.min, l.mn[k]);
        r.max = std::fmax(r.max, l.mx[k]);
        r.zero -= uint64_t(int64_t(l.zero[k]));
    }
    return true;
}

// A run with no NaN or infinity, in one pass. The squared deviations come from squares about a
// shift K (the mean of the first values): m2 = S2 - S1^2 / n with S1, S2 the sums of (x - K)
// and (x - K)^2. That loses digits only when the mean lies far from K relative to the spread;
// then (S1^2 / n above half of S2) the deviations are summed again about the exact mean. False
// (p untouched) when a value is NaN or infinite.
bool summarize_finite(const float* v, size_t n, Part& p) {
    const size_t steps = n / kStep, tail = steps * kStep;
    double shift = 0;
    for (size_t i = 0; i < std::min(n, kStep); ++i) shift += v[i];
    shift /= double(std::min(n, kStep));
    if (!std::isfinite(shift)) return false;
    Lanes l;
    Part r;
    if (steps) {
        run_vector_pass(v, steps, shift, l);
        if (!fold_lanes(l, r)) return false;
    }
    double s2 = 0;
    for (const f64x4& q : l.sq)
        for (size_t k = 0; k < 4; ++k) s2 += q[k];  // zero without blocks
    for (size_t i = tail; i < n; ++i) {
        if (!is_finite(v[i])) return false;
        two_sum(r.sum_hi, r.sum_lo, double(v[i]));
        r.min = std::fmin(r.min, v[i]);
        r.max = std::fmax(r.max, v[i]);
        r.zero += v[i] == 0.0f;
        s2 += (double(v[i]) - shift) * (double(v[i]) - shift);
    }
    r.finite = r.values = n;
    const double s1 = (r.sum_hi - shift * double(n)) + r.sum_lo;
    r.m2 = s2 - s1 * s1 / double(n);
    if (!(s1 * s1 / double(n) <= s2 / 2)) {
        const double mean = r.mean();
        r.m2 = 0;
        for (size_t i = 0; i < n; ++i) r.m2 += (double(v[i]) - mean) * (double(v[i]) - mean);
    }
    p = r;
    return true;
}

// The careful loop, for a run holding NaN or infinities, which are counted with the first of
// each; the deviations in a second pass.
void sum_some_finite(const float* v, size_t n, uint64_t base, Part& p) {
    for (size_t i = 0; i < n; ++i) {
        const float x = v[i];
        if (std::isnan(x)) {
            p.nan.add(base + i);
        } else if (std::isinf(x)) {
            p.inf.add(base + i);
        } else {
            two_sum(p.sum_hi, p.sum_lo, double(x));
            p.min = std::fmin(p.min, x);
            p.max = std::fmax(p.max, x);
            p.zero += x == 0.0f;
            ++p.finite;
        }
    }
    p.values = n;
    const double mean = p.mean();
    for (size_t i = 0; i < n; ++i)
        if (is_finite(v[i])) p.m2 += (double(v[i]) - mean) * (double(v[i]) - mean);
}

}  // namespace

struct ValueAccumulator::State {
    uint64_t row_length;
    ValueRules rules;
    float overflow_at = INFINITY;  // magnitudes from here round to infinity in rules.overflow
    std::mutex mu;
    Part total;
    // Rows met only in part so far: values seen, and whether any was non-zero.
    struct Fragment {
        uint64_t seen = 0;
        bool nonzero = false;
    };
    std::map<uint64_t, Fragment> open_rows;

    Part summarize(uint64_t first, std::span<const float> v) const;
    void find_rule_breaks(uint64_t first, std::span<const float> v, Part& p) const;
    void count_zero_rows(uint64_t first, std::span<const float> v, Part& p, std::vector<std::pair<uint64_t, Fragment>>& frags) const;
};

Part ValueAccumulator::State::summarize(uint64_t first, std::span<const float> v) const {
    Part p;
    p.values = v.size();
    if (v.empty()) return p;
    if (!summarize_finite(v.data(), v.size(), p)) sum_some_finite(v.data(), v.size(), first, p);
    find_rule_breaks(first, v, p);
    return p;
}

void ValueAccumulator::State::find_rule_breaks(uint64_t first, std::span<const float> v, Part& p) const {
    const bool overflow = rules.overflow && (p.inf.count || p.max >= overflow_at || -p.min >= overflow_at);
    const bool range =
        rules.range && (p.nan.count || p.inf.count || p.min < rules.range->lo || p.max > rules.range->hi);
    if (!overflow && !range) return;
    for (size_t i = 0; i < v.size(); ++i) {
        const float x = v[i];
        if (overflow && is_finite(x) && std::fabs(x) >= overflow_at) p.overflow.add(first + i);
        // Written as "not within", so that a NaN, within no range, is counted (NumPy's
        // ~((x >= lo) & (x <= hi))).
        if (range && !(x >= rules.range->lo && x <= rules.range->hi)) p.out_of_range.add(first + i);
    }
}

// Rows wholly inside the chunk are counted here; the one or two it holds only part of become
// fragments, completed by other chunks.
void ValueAccumulator::State::count_zero_rows(uint64_t first, std::span<const float> v, Part& p,
                                              std::vector<std::pair<uint64_t, Fragment>>& frags) const {
    const uint64_t end = first + v.size();
    for (uint64_t row = first / row_length; row * row_length < end; ++row) {
        const uint64_t a = std::max(first, row * row_length), b = std::min(end, (row + 1) * row_length);
        bool nonzero = p.zero == 0;  // a chunk without zeros has no zero row
        for (uint64_t i = a; i < b && !nonzero; ++i) nonzero = v[i - first] != 0.0f;
        if (b - a == row_length) p.zero_rows += !nonzero;
        else frags.push_back({row, {b - a, nonzero}});
    }
}

ValueAccumulator::ValueAccumulator(uint64_t row_length, ValueRules rules) : s_(std::make_unique<State>()) {
    s_->row_length = std::max<uint64_t>(1, row_length);
    s_->rules = rules;
    if (rules.overflow && *rules.overflow != OutType::F32) s_->overflow_at = overflow_threshold(*rules.overflow);
    else s_->rules.overflow.reset();
}

ValueAccumulator::~ValueAccumulator() = default;

void ValueAccumulator::add(uint64_t first, std::span<const float> values) {
    Part p = s_->summarize(first, values);
    std::vector<std::pair<uint64_t, State::Fragment>> frags;
    s_->count_zero_rows(first, values, p, frags);
    std::lock_guard lock(s_->mu);
    s_->total.merge(p);
    for (const auto& [row, f] : frags) {
        State::Fragment& open = s_->open_rows[row];
        open.seen += f.seen;
        open.nonzero |= f.nonzero;
        if (open.seen < s_->row_length) continue;
        s_->total.zero_rows += !open.nonzero;
        s_->open_rows.erase(row);
    }
}

ValueStats ValueAccumulator::result() const {
    std::lock_guard lock(s_->mu);
    const Part& p = s_->total;
    ValueStats r{p.values, p.finite, p.zero, p.zero_rows, p.nan, p.inf, p.overflow, p.out_of_range,
                 kNaN, kNaN, kNaN, kNaN, kNaN};
    if (p.finite) {
        r.min = p.min;
        r.max = p.max;
        r.absmax = std::fmax(-p.min, p.max);
        r.mean = p.mean();
        r.stddev = std::sqrt(p.m2 / double(p.finite));
    }
    return r;
}

}  // namespace gguftk
