#pragma once
// What the GPU tests share: skipping only without a GPU, device buffers (random blocks: random_blocks.h).
#define DOCTEST_CONFIG_IMPLEMENT
#include <cuda_runtime_api.h>
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "random_blocks.h"

namespace gguftk::test {

// Exit code 77 tells CTest the test was skipped (SKIP_RETURN_CODE), and only for a machine
// with no GPU at all: no CUDA driver installed, or a driver that finds no device. A GPU that is
// there but cannot run the tests (a driver older than this build, a device that fails to
// initialize, memory that cannot be had) is a failure with CUDA's message, never a skip:
// otherwise a broken GPU machine would pass as "no GPU".
inline int run_gpu_tests(int argc, char** argv) {
    int driver = 0;
    const cudaError_t v = cudaDriverGetVersion(&driver);
    if (v == cudaSuccess && driver == 0) {  // CUDA's documented answer when no driver is installed
        std::printf("skipped: no CUDA driver installed (no GPU)\n");
        return 77;
    }
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaErrorNoDevice || (e == cudaSuccess && n == 0)) {
        std::printf("skipped: the CUDA driver finds no device\n");
        return 77;
    }
    if (e != cudaSuccess) {
        std::printf("FAILED: a CUDA driver (version %d) is installed but the GPU cannot be used: %s: %s\n", driver,
                    cudaGetErrorName(e), cudaGetErrorString(e));
        return 1;
    }
    doctest::Context ctx(argc, argv);
    return ctx.run();
}

#define GPU_OK(call)                                                                  \
    do {                                                                              \
        const cudaError_t gpu_ok_e_ = (call);                                         \
        REQUIRE_MESSAGE(gpu_ok_e_ == cudaSuccess, #call ": " << cudaGetErrorString(gpu_ok_e_)); \
    } while (0)

// Device memory for the length of a test.
class DeviceBuffer {
public:
    explicit DeviceBuffer(uint64_t bytes) : size_(bytes) { GPU_OK(cudaMalloc(&p_, bytes ? bytes : 1)); }
    ~DeviceBuffer() { cudaFree(p_); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    uint8_t* get() const { return static_cast<uint8_t*>(p_); }
    uint64_t size() const { return size_; }
    void upload(const std::vector<uint8_t>& v) { GPU_OK(cudaMemcpy(p_, v.data(), v.size(), cudaMemcpyHostToDevice)); }
    std::vector<uint8_t> download(uint64_t offset, uint64_t n) const {
        std::vector<uint8_t> v(n);
        GPU_OK(cudaMemcpy(v.data(), get() + offset, n, cudaMemcpyDeviceToHost));
        return v;
    }
    // Fills with a byte pattern no decoder writes by accident, so unwritten output shows.
    void poison() { GPU_OK(cudaMemset(p_, 0xA5, size_)); }

private:
    void* p_ = nullptr;
    uint64_t size_;
};

}  // namespace gguftk::test
