// ValueAccumulator against a plain reference: the same statistics whatever the chunks, their
// order and the threads; NaN, infinities, overflow and range found at their first element;
// zero rows counted across chunk boundaries; the F16/BF16 overflow edge where the rounding is.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include "formats/float_bits.h"
#include "check/check.h"

using namespace gguftk;

namespace {

// The statistics as a textbook computes them: long double sums, two passes.
struct Reference {
    uint64_t finite = 0, nan = 0, inf = 0, zero = 0;
    double min = INFINITY, max = -INFINITY, mean = 0, stddev = 0;

    explicit Reference(const std::vector<float>& v) {
        long double sum = 0;
        for (float x : v) {
            if (std::isnan(x)) { ++nan; continue; }
            if (std::isinf(x)) { ++inf; continue; }
            ++finite;
            zero += x == 0;
            min = std::min<double>(min, x);
            max = std::max<double>(max, x);
            sum += x;
        }
        mean = double(sum / finite);
        long double m2 = 0;
        for (float x : v)
            if (std::isfinite(x)) m2 += (x - (long double)mean) * (x - (long double)mean);
        stddev = double(std::sqrt(m2 / finite));
    }
};

std::vector<float> random_values(size_t n, uint32_t seed, float offset = 0) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(offset, 0.02f);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

// `v` fed to `acc` in chunks of random sizes, in shuffled order.
void add_shuffled(ValueAccumulator& acc, const std::vector<float>& v, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<std::pair<size_t, size_t>> chunks;
    for (size_t at = 0; at < v.size();) {
        const size_t n = std::min<size_t>(v.size() - at, 1 + rng() % 3000);
        chunks.push_back({at, n});
        at += n;
    }
    std::shuffle(chunks.begin(), chunks.end(), rng);
    for (auto [at, n] : chunks) acc.add(at, std::span(v.data() + at, n));
}

void require_close(double a, double b, double rel) { CHECK(std::fabs(a - b) <= rel * std::fabs(b)); }

}  // namespace

TEST_CASE("statistics equal the reference whatever the chunks") {
    for (float offset : {0.0f, 1.0f, -300.0f}) {  // a mean far from zero tests the shifted squares
        const std::vector<float> v = random_values(100000, 7, offset);
        const Reference ref(v);
        ValueAccumulator whole(1000, {});
        whole.add(0, v);
        ValueAccumulator parts(1000, {});
        add_shuffled(parts, v, 11);
        for (const ValueStats& s : {whole.result(), parts.result()}) {
            CHECK(s.values == v.size());
            CHECK(s.finite == ref.finite);
            CHECK(s.min == ref.min);
            CHECK(s.max == ref.max);
            CHECK(s.absmax == std::max(-ref.min, ref.max));
            require_close(s.mean, ref.mean, 1e-15);
            require_close(s.stddev, ref.stddev, 1e-13);
        }
    }
}

TEST_CASE("a chunk whose first values lie far from its mean") {
    // The squares are summed about the mean of a chunk's first values; far from the chunk's
    // mean, that would cancel digits, and the deviations are summed again about the mean.
    std::vector<float> v = random_values(4096, 12);
    std::fill_n(v.begin(), 16, 5.0f);
    const Reference ref(v);
    ValueAccumulator acc(64, {});
    acc.add(0, v);
    require_close(acc.result().mean, ref.mean, 1e-15);
    require_close(acc.result().stddev, ref.stddev, 1e-14);
}

TEST_CASE("the sum keeps the small values where huge ones cancel") {
    // Pairs +b, -b among values near 1: a double sum, NumPy's pairwise one included, loses the
    // small ones to the huge partial sums (an error near b * 1e-16). The compensated sum is
    // exact while b is under 2^64 times the smallest value; beyond, close (measured: 2e-7).
    for (const auto& [top_exponent, tolerance] : {std::pair{17.0f, 1e-15}, std::pair{25.0f, 1e-6}}) {
        const float top = top_exponent;  // a copy: clang 14's lambdas (CAPTURE) take no binding
        const double rel = tolerance;
        std::mt19937 rng(21);
        std::uniform_real_distribution<float> exponent(top - 10, top);
        std::vector<float> v = random_values(60000, 22, 1.0f), small = v;
        for (size_t i = 0; i + 6 < v.size(); i += 7) {
            const float b = std::pow(10.0f, exponent(rng));
            const size_t j = i + 1 + rng() % 5;
            v[i] = b;
            v[j] = -b;
            small[i] = small[j] = 0;
        }
        long double sum = 0;  // exact: values near 1
        for (float x : small) sum += x;
        ValueAccumulator acc(600, {});
        add_shuffled(acc, v, 23);
        CAPTURE(top);
        require_close(acc.result().mean, double(sum / v.size()), rel);
    }
}

TEST_CASE("threads adding at once") {
    const std::vector<float> v = random_values(1 << 18, 3);
    ValueAccumulator acc(4096, {});
    std::vector<std::thread> pool;
    for (int t = 0; t < 4; ++t)
        pool.emplace_back([&, t] {
            for (size_t at = size_t(t) * 4096; at < v.size(); at += 4 * 4096) acc.add(at, std::span(v.data() + at, 4096));
        });
    for (auto& t : pool) t.join();
    const Reference ref(v);
    const ValueStats s = acc.result();
    CHECK(s.finite == v.size());
    CHECK(s.min == ref.min);
    require_close(s.mean, ref.mean, 1e-15);
    require_close(s.stddev, ref.stddev, 1e-13);
}

TEST_CASE("NaN and infinities: counted, first found, the rest summarized as without them") {
    std::vector<float> v = random_values(5000, 5);
    std::vector<float> finite_only = v;
    v[4000] = NAN;
    v[1234] = INFINITY;
    v[3999] = -INFINITY;
    v[4999] = NAN;
    finite_only.erase(finite_only.begin() + 4999);
    finite_only.erase(finite_only.begin() + 4000);
    finite_only.erase(finite_only.begin() + 3999);
    finite_only.erase(finite_only.begin() + 1234);
    ValueAccumulator acc(100, {});
    add_shuffled(acc, v, 1);
    const ValueStats s = acc.result();
    CHECK(s.nan.count == 2);
    CHECK(s.nan.first == 4000);
    CHECK(s.inf.count == 2);
    CHECK(s.inf.first == 1234);
    const Reference ref(finite_only);
    CHECK(s.finite == ref.finite);
    CHECK(s.min == ref.min);
    CHECK(s.max == ref.max);
    require_close(s.mean, ref.mean, 1e-15);
    require_close(s.stddev, ref.stddev, 1e-13);
}

TEST_CASE("nothing finite: the statistics are NaN") {
    ValueAccumulator acc(4, {});
    const std::vector<float> v{NAN, INFINITY, NAN, -INFINITY};
    acc.add(0, v);
    const ValueStats s = acc.result();
    CHECK(s.finite == 0);
    CHECK(std::isnan(s.min));
    CHECK(std::isnan(s.mean));
    CHECK(std::isnan(s.stddev));
}

TEST_CASE("zero rows across chunk boundaries") {
    const uint64_t row = 100;
    std::vector<float> v = random_values(row * 50, 9);
    for (uint64_t r : {0u, 7u, 8u, 49u}) std::fill_n(v.begin() + r * row, row, 0.0f);
    v[8 * row + 99] = 1.0f;  // row 8: all zero but its last value
    v[20 * row + 50] = -0.0f;  // a zero in a row that is not all zero
    for (uint32_t seed : {1u, 2u, 3u}) {
        ValueAccumulator acc(row, {});
        add_shuffled(acc, v, seed);
        const ValueStats s = acc.result();
        CHECK(s.zero_rows == 3);
        CHECK(s.zero == 3 * row + 99 + 1);
    }
}

TEST_CASE("overflow where the rounding overflows") {
    // F16: 65504 is the largest half; 65520 is the midpoint to the next (2^16), and ties go to
    // the even code, which is infinity.
    const float below = std::nextafter(65520.0f, 0.0f);
    std::vector<float> v{1.0f, below, -below, 65520.0f, -1e30f, 65504.0f, INFINITY, NAN};
    ValueAccumulator f16(8, {OutType::F16, std::nullopt});
    f16.add(0, v);
    CHECK(f16.result().overflow.count == 2);
    CHECK(f16.result().overflow.first == 3);
    for (float x : v)
        if (std::isfinite(x))
            CHECK(((formats::f32_to_fp16(x) & 0x7fff) == 0x7c00) == (std::fabs(x) >= 65520.0f));
    // BF16 keeps float's range: only the last binade's upper half rounds away.
    const float max = std::numeric_limits<float>::max();
    ValueAccumulator bf16(3, {OutType::BF16, std::nullopt});
    const std::vector<float> w{1e38f, max, -max};
    bf16.add(0, w);
    CHECK(bf16.result().overflow.count == 2);
    CHECK(bf16.result().overflow.first == 1);
    CHECK((formats::f32_to_bf16(max) & 0x7fff) == 0x7f80);
}

TEST_CASE("out of range: infinities and NaN are outside, as NumPy's ~((x >= lo) & (x <= hi))") {
    std::vector<float> v = random_values(1000, 4);
    v[10] = 2.0f;
    v[600] = -INFINITY;
    v[700] = NAN;
    ValueAccumulator acc(1000, {std::nullopt, ValueRange{-1, 1}});
    add_shuffled(acc, v, 8);
    CHECK(acc.result().out_of_range.count == 3);
    CHECK(acc.result().out_of_range.first == 10);
    ValueAccumulator none(1000, {});
    none.add(0, v);
    CHECK(none.result().out_of_range.count == 0);
    // A NaN first, in a chunk whose finite values all lie within: it is the first offender.
    std::vector<float> w(64, 0.5f);
    w[3] = NAN;
    w[40] = INFINITY;
    ValueAccumulator first(64, {std::nullopt, ValueRange{0, 1}});
    first.add(0, w);
    CHECK(first.result().out_of_range.count == 2);
    CHECK(first.result().out_of_range.first == 3);
    // Nothing but NaN: every value is outside.
    ValueAccumulator only(4, {std::nullopt, ValueRange{-1, 1}});
    only.add(0, std::vector<float>(4, NAN));
    CHECK(only.result().out_of_range.count == 4);
    CHECK(only.result().out_of_range.first == 0);
}

TEST_CASE("rule names") {
    CHECK(rule_name(Rule::Finite) == "finite");
    CHECK(rule_name(Rule::ZeroTensor) == "zero-tensor");
}
