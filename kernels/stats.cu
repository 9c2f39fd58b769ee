// One Thrust transform-reduce per chunk of decoded values: each value becomes a partial
// TensorStats (count, min, max, absmax, sum of a single value, or a NaN or Inf count) and the
// partials are merged as TensorStats::merge does, in whatever order the reduction likes.
#include <thrust/execution_policy.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/system/system_error.h>
#include <thrust/transform_reduce.h>

#include <cmath>

#include "cuda_stats.h"
#include "formats/float_bits.h"
#include "gguftk/error.h"

namespace gguftk::cuda {
namespace {

struct Partial {
    unsigned long long finite, nan, inf;
    double min, max, absmax, sum;
};

struct ToPartial {
    const uint8_t* values;
    OutType out;
    __device__ Partial operator()(uint64_t i) const {
        float v;
        if (out == OutType::F32) {
            v = reinterpret_cast<const float*>(values)[i];
        } else {
            const uint16_t h = reinterpret_cast<const uint16_t*>(values)[i];
            v = out == OutType::F16 ? formats::fp16_to_f32(h) : formats::bf16_to_f32(h);
        }
        if (isnan(v)) return {0, 1, 0, INFINITY, -INFINITY, 0, 0};
        if (isinf(v)) return {0, 0, 1, INFINITY, -INFINITY, 0, 0};
        const double d = v;
        return {1, 0, 0, d, d, fabs(d), d};
    }
};

struct Merge {
    __device__ Partial operator()(const Partial& a, const Partial& b) const {
        return {a.finite + b.finite, a.nan + b.nan, a.inf + b.inf, fmin(a.min, b.min), fmax(a.max, b.max),
                fmax(a.absmax, b.absmax), a.sum + b.sum};
    }
};

}  // namespace

TensorStats device_stats(OutType out, const void* values, uint64_t n, cudaStream_t stream) {
    const Partial none{0, 0, 0, INFINITY, -INFINITY, 0, 0};
    Partial p;
    try {
        p = thrust::transform_reduce(thrust::cuda::par.on(stream), thrust::counting_iterator<uint64_t>(0),
                                     thrust::counting_iterator<uint64_t>(n),
                                     ToPartial{static_cast<const uint8_t*>(values), out}, none, Merge{});
    } catch (const thrust::system_error& e) {
        throw Error(std::string("CUDA statistics: ") + e.what());
    }
    TensorStats s;
    s.finite = p.finite;
    s.nan = p.nan;
    s.inf = p.inf;
    if (p.finite) {
        s.min = p.min;
        s.max = p.max;
        s.absmax = p.absmax;
        s.sum = p.sum;
    }
    return s;
}

}  // namespace gguftk::cuda
