// accumulate_stats (gguf-dequant --stats on the CPU): a chunk's output values widened back to
// float by the CPU engine's own decoders, 256 at a time, then summarized 8 lanes at a time in
// vectors (GCC/Clang vector extensions, built for AVX2 and for any x86-64 like check/values.cpp).
// A run holding a NaN or an infinity, which leaves its sum non-finite, is counted again value by
// value. The sum is a plain double sum in 8 lanes, as the GPU's reduction sums in its own order.
#include <cmath>
#include <cstring>

#include "convert/cpu_loop.h"
#include "convert/vectors.h"
#include "formats/float_bits.h"

#pragma GCC diagnostic ignored "-Wpsabi"  // the vectors never cross a function boundary

namespace gguftk {
namespace {

using vec::f32x8, vec::i32x8, vec::f64x4, vec::load4d;
constexpr int kRun = 256;  // values widened at a time

struct Lanes {
    f32x8 mn, mx, amax = {};
    f64x4 sum[2] = {};
};

[[gnu::always_inline]] inline void summarize(const float* v, int n8, Lanes& l) {
    for (int i = 0; i < n8; ++i) {
        const f32x8 x = vec::load<f32x8>(v + 8 * i);
        const f32x8 a = (f32x8)((i32x8)x & 0x7fffffff);
        l.mn = x < l.mn ? x : l.mn;
        l.mx = x > l.mx ? x : l.mx;
        l.amax = a > l.amax ? a : l.amax;
        l.sum[0] += load4d(v + 8 * i);
        l.sum[1] += load4d(v + 8 * i + 4);
    }
}

#if defined(__x86_64__) || defined(__i386__)
[[gnu::target("avx2")]] void summarize_avx2(const float* v, int n8, Lanes& l) { summarize(v, n8, l); }
#else
void summarize_avx2(const float* v, int n8, Lanes& l) { summarize(v, n8, l); }
#endif

// Folds v[0, n) in one value at a time: NaN and infinities counted apart.
void add_each(const float* v, int n, TensorStats& s) {
    for (int i = 0; i < n; ++i) {
        if (std::isnan(v[i])) ++s.nan;
        else if (std::isinf(v[i])) ++s.inf;
        else s.add(v[i]);
    }
}

// Folds v[0, n) in, n a multiple of 8.
void add_run(const float* v, int n, TensorStats& s) {
    Lanes l;
    l.mn = l.mx = vec::load<f32x8>(v);
    if (cpu_has_avx2()) summarize_avx2(v, n / 8, l);
    else summarize(v, n / 8, l);
    double sum = 0;
    for (int k = 0; k < 4; ++k) sum += l.sum[0][k] + l.sum[1][k];
    if (!std::isfinite(sum)) return add_each(v, n, s);  // a sum of finite floats cannot overflow a double
    TensorStats part;
    part.finite = uint64_t(n);
    part.min = l.mn[0], part.max = l.mx[0], part.absmax = l.amax[0];
    for (int k = 1; k < 8; ++k) {  // as TensorStats::merge: on a tie (+0 and -0) the first stays
        part.min = l.mn[k] < part.min ? l.mn[k] : part.min;
        part.max = l.mx[k] > part.max ? l.mx[k] : part.max;
        part.absmax = l.amax[k] > part.absmax ? l.amax[k] : part.absmax;
    }
    part.sum = sum;
    s.merge(part);
}

}  // namespace

void accumulate_stats(OutType out, const uint8_t* values, uint64_t n, TensorStats& s) {
    alignas(32) float buf[kRun];
    TensorStats part;  // folded into s once, as merge is what the other chunks' parts get too
    const size_t size = out_type_size(out);
    for (uint64_t at = 0; at < n; at += kRun) {
        const int m = int(std::min<uint64_t>(kRun, n - at));
        const uint8_t* src = values + at * size;
        if (out == OutType::F32) std::memcpy(buf, src, size_t(m) * 4);
        else convert_blocks(out == OutType::F16 ? GgmlType::F16 : GgmlType::BF16, src, uint64_t(m), OutType::F32,
                            reinterpret_cast<uint8_t*>(buf));
        const int whole = m / 8 * 8;
        if (whole) add_run(buf, whole, part);
        add_each(buf + whole, m - whole, part);
    }
    s.merge(part);
}

}  // namespace gguftk
