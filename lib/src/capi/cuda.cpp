// The C API on the GPU: the kernels of kernels/ through their launch entry point
// (gguftk::cuda::decode_blocks_async), on the caller's stream. Without CUDA in the build the
// functions are here all the same and say so.
#include <algorithm>

#include "boundary.h"

#if GGUFTK_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "cuda_decode.h"
#endif

using namespace gguftk;
using namespace gguftk::capi;

namespace {

#if GGUFTK_HAVE_CUDA
// The kernels read and write 16 bytes at a time.
constexpr uintptr_t kDeviceAlignment = 16;
// gguftk_cuda_dequantize's device scratch for the quantized blocks, at most.
constexpr uint64_t kScratchBytes = 64 << 20;

int cuda_failed(cudaError_t e, const char* what) {
    return fail(GGUFTK_ERR_CUDA, "%s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
}

int device_present() {
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();  // not sticky: clear it for the caller's next call
        return fail(GGUFTK_ERR_NO_CUDA, "no usable CUDA device: %s", cudaGetErrorString(e));
    }
    if (n == 0) return fail(GGUFTK_ERR_NO_CUDA, "no CUDA device");
    return GGUFTK_OK;
}

int check_aligned(const void* p, const char* what) {
    if (reinterpret_cast<uintptr_t>(p) % kDeviceAlignment != 0)
        return fail(GGUFTK_ERR_INVALID_ARGUMENT, "%s %p is not aligned to 16 bytes", what, p);
    return GGUFTK_OK;
}

// Device memory for the blocks of one chunk, allocated and freed in stream order where the
// device supports it (freed only after the work queued before the free has used it).
class Scratch {
public:
    int allocate(uint64_t bytes, cudaStream_t s) {
        stream_ = s;
        cudaError_t e = cudaMallocAsync(&p_, bytes, s);
        if (e == cudaErrorNotSupported) {
            (void)cudaGetLastError();
            async_ = false;
            e = cudaMalloc(&p_, bytes);
        }
        if (e != cudaSuccess) {
            p_ = nullptr;
            return cuda_failed(e, "allocating device scratch");
        }
        return GGUFTK_OK;
    }
    ~Scratch() {
        if (!p_) return;
        if (async_) {
            cudaFreeAsync(p_, stream_);
        } else {
            cudaStreamSynchronize(stream_);
            cudaFree(p_);
        }
    }
    uint8_t* get() const { return static_cast<uint8_t*>(p_); }

private:
    void* p_ = nullptr;
    cudaStream_t stream_ = nullptr;
    bool async_ = true;
};
#else
int not_built() {
    return fail(GGUFTK_ERR_NO_CUDA, "this libgguftk was built without CUDA");
}
#endif

}  // namespace

extern "C" {

int gguftk_cuda_available(void) {
#if GGUFTK_HAVE_CUDA
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return n > 0 ? 1 : 0;
#else
    return 0;
#endif
}

int gguftk_cuda_dequantize_blocks(uint32_t type, const void* src_dev, uint64_t n_blocks, gguftk_out_type to,
                                  void* dst_dev, size_t dst_bytes, void* cuda_stream) {
#if GGUFTK_HAVE_CUDA
    return guarded([&]() -> int {
        if (int rc = device_present()) return rc;
        const TypeInfo* ti = nullptr;
        OutType o{};
        if (int rc = check_blocks(type, n_blocks, enum_bits(to), src_dev, "src_dev", dst_dev, dst_bytes, &ti, &o))
            return rc;
        if (n_blocks == 0) return GGUFTK_OK;
        if (int rc = check_aligned(src_dev, "src_dev")) return rc;
        if (int rc = check_aligned(dst_dev, "dst_dev")) return rc;
        const cudaError_t e =
            cuda::decode_blocks_async(ti->type, src_dev, n_blocks, o, dst_dev, static_cast<cudaStream_t>(cuda_stream));
        if (e != cudaSuccess) return cuda_failed(e, "launching the decoder");
        return GGUFTK_OK;
    });
#else
    (void)type, (void)src_dev, (void)n_blocks, (void)to, (void)dst_dev, (void)dst_bytes, (void)cuda_stream;
    return not_built();
#endif
}

int gguftk_cuda_dequantize(const gguftk_file* f, int64_t i, gguftk_out_type to, void* dst_dev, size_t dst_bytes,
                           void* cuda_stream) {
#if GGUFTK_HAVE_CUDA
    return guarded([&]() -> int {
        if (int rc = device_present()) return rc;
        const TensorInfo* t = nullptr;
        OutType o{};
        if (int rc = decodable_tensor(f, i, enum_bits(to), &t, &o)) return rc;
        uint64_t need = 0;
        if (int rc = check_dst(t->n_elements, o, dst_dev, dst_bytes, &need)) return rc;
        const uint64_t n_blocks = t->n_blocks();
        if (n_blocks == 0) return GGUFTK_OK;
        if (int rc = check_aligned(dst_dev, "dst_dev")) return rc;

        const TypeInfo& ti = *t->type;
        const auto stream = static_cast<cudaStream_t>(cuda_stream);
        // Chunks of a multiple of 16 blocks keep every chunk's output 16-byte aligned.
        const uint64_t chunk = std::max<uint64_t>(16, kScratchBytes / ti.block_bytes / 16 * 16);
        const uint64_t first_chunk = std::min(chunk, n_blocks);
        Scratch scratch;
        if (int rc = scratch.allocate(first_chunk * ti.block_bytes, stream)) return rc;
        const uint8_t* src = f->file.data(*t).data();
        auto* dst = static_cast<uint8_t*>(dst_dev);
        const uint64_t block_out = uint64_t(ti.block_elems) * out_type_size(o);
        for (uint64_t b = 0; b < n_blocks; b += chunk) {
            const uint64_t n = std::min(chunk, n_blocks - b);
            // From pageable memory (the mapped file) the copy is staged before the call
            // returns, and stream-ordered after the previous chunk's decode.
            cudaError_t e = cudaMemcpyAsync(scratch.get(), src + b * ti.block_bytes, n * ti.block_bytes,
                                            cudaMemcpyHostToDevice, stream);
            if (e != cudaSuccess) return cuda_failed(e, "copying blocks to the device");
            e = cuda::decode_blocks_async(ti.type, scratch.get(), n, o, dst + b * block_out, stream);
            if (e != cudaSuccess) return cuda_failed(e, "launching the decoder");
        }
        return GGUFTK_OK;
    });
#else
    (void)f, (void)i, (void)to, (void)dst_dev, (void)dst_bytes, (void)cuda_stream;
    return not_built();
#endif
}

}  // extern "C"
