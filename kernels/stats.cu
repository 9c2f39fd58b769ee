// One CUB transform-reduce per chunk of decoded values: each value becomes a partial
// TensorStats (count, min, max, absmax, sum of a single value, or a NaN or Inf count) and the
// partials are merged as TensorStats::merge does, in whatever order the reduction likes.
#include <cub/device/device_reduce.cuh>

#include <cmath>
#include <string>

#include "cuda_stats.h"
#include "formats/float_bits.h"
#include "container/error.h"

namespace gguftk::cuda {
namespace {

struct Partial {
    unsigned long long finite, nan, inf;
    double min, max, absmax, sum;
};

__host__ __device__ inline Partial none() { return {0, 0, 0, INFINITY, -INFINITY, 0, 0}; }

__device__ inline Partial partial_of(float v) {
    if (isnan(v)) return {0, 1, 0, INFINITY, -INFINITY, 0, 0};
    if (isinf(v)) return {0, 0, 1, INFINITY, -INFINITY, 0, 0};
    const double d = v;
    return {1, 0, 0, d, d, fabs(d), d};
}

// The values as the reduction reads them: floats directly, halves through their definition.
struct FromF32 {
    __device__ Partial operator()(float v) const { return partial_of(v); }
};
struct FromHalf {
    bool bf16;
    __device__ Partial operator()(uint16_t h) const {
        return partial_of(bf16 ? formats::bf16_to_f32(h) : formats::fp16_to_f32(h));
    }
};

struct Merge {
    __device__ Partial operator()(const Partial& a, const Partial& b) const {
        return {a.finite + b.finite, a.nan + b.nan, a.inf + b.inf, fmin(a.min, b.min), fmax(a.max, b.max),
                fmax(a.absmax, b.absmax), a.sum + b.sum};
    }
};

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) throw Error(std::string("CUDA statistics: ") + what + ": " + cudaGetErrorString(e));
}

// One call of CUB's two-phase interface: with temp == nullptr it only sizes the storage.
cudaError_t reduce(void* temp, size_t& bytes, OutType out, const void* values, uint64_t n, Partial* result,
                   cudaStream_t stream) {
    if (out == OutType::F32)
        return cub::DeviceReduce::TransformReduce(temp, bytes, static_cast<const float*>(values), result, n, Merge{},
                                                  FromF32{}, none(), stream);
    return cub::DeviceReduce::TransformReduce(temp, bytes, static_cast<const uint16_t*>(values), result, n, Merge{},
                                              FromHalf{out == OutType::BF16}, none(), stream);
}

}  // namespace

DeviceStats::~DeviceStats() {
    cudaFree(temp_);  // cudaFree and cudaFreeHost accept null
    cudaFree(d_result_);
    cudaFreeHost(h_result_);
}

void DeviceStats::enqueue(OutType out, const void* values, uint64_t n, cudaStream_t stream) {
    if (!d_result_) check(cudaMalloc(&d_result_, sizeof(Partial)), "allocating GPU memory");
    if (!h_result_) check(cudaHostAlloc(&h_result_, sizeof(Partial), cudaHostAllocDefault), "pinning host memory");
    auto* result = static_cast<Partial*>(d_result_);
    size_t need = 0;
    check(reduce(nullptr, need, out, values, n, result, stream), "sizing the reduction");
    if (need > temp_bytes_) {
        // Only when a chunk needs more than any before it (the first, or a larger one).
        check(cudaStreamSynchronize(stream), "reducing");
        cudaFree(temp_);
        temp_ = nullptr;
        temp_bytes_ = 0;
        check(cudaMalloc(&temp_, need), "allocating GPU memory");
        temp_bytes_ = need;
    }
    size_t bytes = temp_bytes_;
    check(reduce(temp_, bytes, out, values, n, result, stream), "reducing");
    check(cudaMemcpyAsync(h_result_, d_result_, sizeof(Partial), cudaMemcpyDeviceToHost, stream), "copying from the GPU");
}

TensorStats DeviceStats::result() const {
    const Partial& p = *static_cast<const Partial*>(h_result_);
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
