// The CUDA engine: a streaming pipeline of lanes, each a host thread with its own CUDA stream,
// pinned staging buffers and device buffers, all pulling chunks of whole blocks from one
// counter, in file order.
//
// A lane takes a chunk through read (pread into pinned memory), host-to-device copy, decode,
// statistics, device-to-host copy and write (pwrite from pinned memory). Each step of one
// chunk waits for the previous one, but the lanes run side by side, so at any moment one lane
// is reading while another's chunk is on the bus and a third is writing: the disk, the bus and
// the GPU all stay busy and the conversion takes about as long as its I/O. Memory is bounded
// by lanes x chunk size whatever the model or tensor size, device memory included. The lanes'
// buffers outlive a run: the engine keeps them for its next one.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "cuda_decode.h"
#include "cuda_stats.h"
#include "convert/chunked.h"
#include "convert/convert.h"
#include "container/error.h"

namespace gguftk {
namespace {

constexpr unsigned kLanes = 4;
// Values per conversion chunk: big enough that copies run at full bus speed and per-chunk
// costs (a launch, a synchronization, two syscalls) vanish; small enough that four lanes'
// buffers (under 40 MiB each, F64 input aside) are quick to pin.
constexpr uint64_t kChunkValues = uint64_t(4) << 20;
constexpr uint64_t kCopyBytes = uint64_t(8) << 20;

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) throw Error(std::string("CUDA: ") + what + ": " + cudaGetErrorString(e));
}

// What one lane converts with: its stream, pinned staging buffers, device buffers and
// statistics reducer. Made the first time a run needs it and kept by the engine for its later
// runs: pinning tens of MiB and allocating device memory take milliseconds, and cudaFree
// synchronizes the whole device. Grown (never shrunk) when a run's chunks are larger.
class LaneResources {
public:
    explicit LaneResources(int device) {
        check(cudaSetDevice(device), "selecting the device");
        check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "creating a stream");
    }
    ~LaneResources() {
        cudaStreamSynchronize(stream_);
        free_buffers();
        cudaStreamDestroy(stream_);
    }
    LaneResources(const LaneResources&) = delete;
    LaneResources& operator=(const LaneResources&) = delete;

    // Buffers of at least these sizes.
    void reserve(uint64_t in_cap, uint64_t out_cap) {
        in_cap = std::max<uint64_t>(in_cap, 16);
        out_cap = std::max<uint64_t>(out_cap, 16);
        if (in_cap <= in_cap_ && out_cap <= out_cap_) return;
        free_buffers();
        in_cap = std::max(in_cap, in_cap_);
        out_cap = std::max(out_cap, out_cap_);
        in_cap_ = out_cap_ = 0;
        check(cudaHostAlloc(&h_in_, in_cap, cudaHostAllocDefault), "pinning host memory");
        check(cudaHostAlloc(&h_out_, out_cap, cudaHostAllocDefault), "pinning host memory");
        check(cudaMalloc(&d_in_, in_cap), "allocating GPU memory");
        check(cudaMalloc(&d_out_, out_cap), "allocating GPU memory");
        in_cap_ = in_cap;
        out_cap_ = out_cap;
    }

    std::span<const uint8_t> convert(const TensorJob& j, const Chunk& c, const InputReader& in, TensorStats* stats) {
        const uint64_t in_bytes = c.count * j.in_type->block_bytes;
        const uint64_t n_values = c.count * j.in_type->block_elems;
        const uint64_t out_bytes = n_values * out_type_size(j.out);
        in.read(j.in_offset + c.first * j.in_type->block_bytes, std::span(static_cast<uint8_t*>(h_in_), in_bytes));
        check(cudaMemcpyAsync(d_in_, h_in_, in_bytes, cudaMemcpyHostToDevice, stream_), "copying to the GPU");
        check(cuda::decode_blocks_async(j.in_type->type, d_in_, c.count, j.out, d_out_, stream_), "launching the decoder");
        if (stats) stats_.enqueue(j.out, d_out_, n_values, stream_);
        check(cudaMemcpyAsync(h_out_, d_out_, out_bytes, cudaMemcpyDeviceToHost, stream_), "copying from the GPU");
        // The steps above run asynchronously: a fault in any of them surfaces here, so the
        // message names them all.
        check(cudaStreamSynchronize(stream_), stats ? "converting a chunk (upload, decode, statistics or download)"
                                                    : "converting a chunk (upload, decode or download)");
        if (stats) stats->merge(stats_.result());
        return std::span(static_cast<const uint8_t*>(h_out_), out_bytes);
    }

private:
    void free_buffers() noexcept {
        cudaFree(d_out_);  // cudaFree and cudaFreeHost accept null
        cudaFree(d_in_);
        cudaFreeHost(h_out_);
        cudaFreeHost(h_in_);
        d_out_ = d_in_ = h_out_ = h_in_ = nullptr;
    }

    cudaStream_t stream_ = nullptr;
    cuda::DeviceStats stats_;
    uint64_t in_cap_ = 0, out_cap_ = 0;
    void* h_in_ = nullptr;
    void* h_out_ = nullptr;
    void* d_in_ = nullptr;
    void* d_out_ = nullptr;
};

// The engine's lanes not in use by a run.
class LanePool {
public:
    explicit LanePool(int device) : device_(device) {}
    std::unique_ptr<LaneResources> take() {
        {
            const std::lock_guard<std::mutex> lock(m_);
            if (!idle_.empty()) {
                auto r = std::move(idle_.back());
                idle_.pop_back();
                return r;
            }
        }
        return std::make_unique<LaneResources>(device_);
    }
    void give(std::unique_ptr<LaneResources> r) {
        const std::lock_guard<std::mutex> lock(m_);
        idle_.push_back(std::move(r));
    }
    int device() const { return device_; }

private:
    int device_;
    std::mutex m_;
    std::vector<std::unique_ptr<LaneResources>> idle_;
};

// A worker's lane for one run (run_chunked's make_converter, on the worker's thread): taken
// from the pool and given back after the run, unless a CUDA call failed in it (a stream in an
// error state is not worth keeping).
class Lane final : public ChunkConverter {
public:
    Lane(LanePool& pool, uint64_t in_cap, uint64_t out_cap) : pool_(pool) {
        check(cudaSetDevice(pool.device()), "selecting the device");  // per thread
        r_ = pool.take();
        r_->reserve(in_cap, out_cap);  // on failure r_ is dropped with this half-made Lane
    }
    ~Lane() override {
        if (r_ && !failed_) pool_.give(std::move(r_));
    }
    Lane(const Lane&) = delete;
    Lane& operator=(const Lane&) = delete;

    std::span<const uint8_t> convert(const TensorJob& j, const Chunk& c, const InputReader& in,
                                     TensorStats* stats) override {
        try {
            return r_->convert(j, c, in, stats);
        } catch (...) {
            failed_ = true;
            throw;
        }
    }

private:
    LanePool& pool_;
    std::unique_ptr<LaneResources> r_;
    bool failed_ = false;
};

class CudaEngine final : public Engine {
public:
    CudaEngine(int device, std::string name) : pool_(device), name_(std::move(name)) {}

    std::string description() const override { return "cuda, " + name_; }

protected:
    ConversionResult execute(const ConversionPlan& plan, OutputWriter* out, const RunControl& control) override {
        ChunkedRun how;
        how.workers = kLanes;
        how.chunk_values = kChunkValues;
        how.copy_bytes = kCopyBytes;
        how.make_converter = [this](uint64_t in_bytes, uint64_t out_bytes) {
            return std::make_unique<Lane>(pool_, in_bytes, out_bytes);
        };
        return run_chunked(plan, out, control, how);
    }

private:
    LanePool pool_;
    std::string name_;
};

}  // namespace

unsigned cuda_engine_lanes() { return kLanes; }

std::unique_ptr<Engine> make_cuda_engine(int device, std::string* why_not) {
    auto fail = [&](std::string why) -> std::unique_ptr<Engine> {
        if (why_not) *why_not = std::move(why);
        return nullptr;
    };
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaErrorInsufficientDriver) return fail("no CUDA driver (or one older than this build needs)");
    if (e == cudaErrorNoDevice || (e == cudaSuccess && n == 0)) return fail("no CUDA device");
    if (e != cudaSuccess) return fail(std::string("CUDA: ") + cudaGetErrorString(e));
    if (device < 0 || device >= n) return fail("no CUDA device " + std::to_string(device));
    cudaDeviceProp prop{};
    cudaError_t s = cudaSetDevice(device);
    if (s == cudaSuccess) s = cudaFree(nullptr);  // creates the context now, so failures show here
    if (s == cudaSuccess) s = cudaGetDeviceProperties(&prop, device);
    if (s == cudaErrorMemoryAllocation) return fail("out of memory: cannot create a CUDA context");
    if (s != cudaSuccess) return fail(std::string("CUDA: ") + cudaGetErrorString(s));
    // Four lanes of chunk buffers need well under 512 MiB; ask for that much to be free.
    size_t free_bytes = 0, total = 0;
    if (cudaMemGetInfo(&free_bytes, &total) == cudaSuccess && free_bytes < (size_t(512) << 20))
        return fail("out of memory: " + std::to_string(free_bytes >> 20) + " MiB free on " + prop.name);
    return std::make_unique<CudaEngine>(device, prop.name);
}

}  // namespace gguftk
