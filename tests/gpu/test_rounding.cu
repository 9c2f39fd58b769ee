// The GPU's conversions (rounding.h, and float_bits.h's device path for fp16_to_f32)
// against float_bits.h's definition: every one of the 2^32 floats, every one of the 65536 halves.
#include "gpu_test.h"
#include "rounding.h"

namespace {

// Counts the inputs where the pair conversions differ from the definition, and keeps one.
__global__ void compare_all(unsigned long long* mismatches, uint32_t* example) {
    const uint64_t stride = uint64_t(gridDim.x) * blockDim.x;
    unsigned long long bad = 0;
    for (uint64_t i = blockIdx.x * uint64_t(blockDim.x) + threadIdx.x; i < (1ull << 32); i += 2 * stride) {
        // Pairs of neighbours (i, i + stride), so both halves of a pair see every class.
        const uint32_t a = uint32_t(i), b = uint32_t(i + stride);
        const float fa = gguftk::formats::f32_from_bits(a), fb = gguftk::formats::f32_from_bits(b);
        const uint32_t h = gguftk::cuda::f16_pair(fa, fb);
        const uint32_t z = gguftk::cuda::bf16_pair(fa, fb);
        const uint32_t hw = gguftk::formats::f32_to_fp16(fa) | uint32_t(gguftk::formats::f32_to_fp16(fb)) << 16;
        const uint32_t zw = gguftk::formats::f32_to_bf16(fa) | uint32_t(gguftk::formats::f32_to_bf16(fb)) << 16;
        if (h != hw || z != zw) {
            ++bad;
            *example = a;  // racy on purpose: any one example will do
        }
        // The hardware-only pairs, for every pair: float_bits.h's bits, and the canonical NaN
        // 0x7fff for NaN, which is what the host's model of them (rounding.h's detail::hw_*,
        // run by the kernel's emulation) gives.
        using gguftk::cuda::detail::hw_bf16, gguftk::cuda::detail::hw_f16;
        if (gguftk::cuda::f16_pair_no_nan(fa, fb) != (hw_f16(fa) | hw_f16(fb) << 16) ||
            gguftk::cuda::bf16_pair_no_nan(fa, fb) != (hw_bf16(fa) | hw_bf16(fb) << 16))
            ++bad;
    }
    if (bad) atomicAdd(mismatches, bad);
}

}  // namespace

TEST_CASE("GPU rounding to f16 and bf16 equals float_bits.h (and the host's model of the hardware) for all 2^32 floats") {
    unsigned long long* count;
    uint32_t* example;
    GPU_OK(cudaMalloc(&count, sizeof *count));
    GPU_OK(cudaMalloc(&example, sizeof *example));
    GPU_OK(cudaMemset(count, 0, sizeof *count));
    compare_all<<<1024, 256>>>(count, example);
    GPU_OK(cudaGetLastError());
    GPU_OK(cudaDeviceSynchronize());
    unsigned long long n = 0;
    uint32_t ex = 0;
    GPU_OK(cudaMemcpy(&n, count, sizeof n, cudaMemcpyDeviceToHost));
    GPU_OK(cudaMemcpy(&ex, example, sizeof ex, cudaMemcpyDeviceToHost));
    CHECK_MESSAGE(n == 0, n << " mismatches, e.g. for the float with bits 0x" << std::hex << ex);
    cudaFree(count);
    cudaFree(example);
}

__global__ void halves_to_float(float* y) {
    const int h = blockIdx.x * blockDim.x + threadIdx.x;
    y[h] = gguftk::formats::fp16_to_f32(uint16_t(h));
}

TEST_CASE("fp16_to_f32 on the GPU gives the host's bits for all 65536 halves") {
    float* dy;
    GPU_OK(cudaMalloc(&dy, 65536 * 4));
    halves_to_float<<<256, 256>>>(dy);
    GPU_OK(cudaGetLastError());
    std::vector<uint32_t> y(65536);
    GPU_OK(cudaMemcpy(y.data(), dy, 65536 * 4, cudaMemcpyDeviceToHost));
    int bad = 0, first = -1;
    for (int h = 0; h < 65536; ++h) {
        if (y[h] != gguftk::formats::f32_bits(gguftk::formats::fp16_to_f32(uint16_t(h)))) {
            if (bad++ == 0) first = h;
        }
    }
    CHECK_MESSAGE(bad == 0, bad << " halves differ, the first 0x" << std::hex << first);
    cudaFree(dy);
}

// The same device code gives the same bits as the host's, for a sample of every class.
__global__ void round_on_device(const float* x, uint16_t* h, uint16_t* z, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        h[i] = gguftk::formats::f32_to_fp16(x[i]);
        z[i] = gguftk::formats::f32_to_bf16(x[i]);
    }
}

TEST_CASE("float_bits.h rounds the same on the device as on the host") {
    std::mt19937_64 rng(7);
    const int n = 1 << 20;
    std::vector<float> x(n);
    for (auto& v : x) v = std::bit_cast<float>(uint32_t(rng()));
    float* dx;
    uint16_t *dh, *dz;
    GPU_OK(cudaMalloc(&dx, n * 4));
    GPU_OK(cudaMalloc(&dh, n * 2));
    GPU_OK(cudaMalloc(&dz, n * 2));
    GPU_OK(cudaMemcpy(dx, x.data(), n * 4, cudaMemcpyHostToDevice));
    round_on_device<<<n / 256, 256>>>(dx, dh, dz, n);
    GPU_OK(cudaGetLastError());
    std::vector<uint16_t> h(n), z(n);
    GPU_OK(cudaMemcpy(h.data(), dh, n * 2, cudaMemcpyDeviceToHost));
    GPU_OK(cudaMemcpy(z.data(), dz, n * 2, cudaMemcpyDeviceToHost));
    int bad = 0;
    for (int i = 0; i < n; ++i)
        bad += h[i] != gguftk::formats::f32_to_fp16(x[i]) || z[i] != gguftk::formats::f32_to_bf16(x[i]);
    CHECK(bad == 0);
    cudaFree(dx);
    cudaFree(dh);
    cudaFree(dz);
}

int main(int argc, char** argv) { return gguftk::test::run_gpu_tests(argc, argv); }
