// The CUDA engine: a streaming pipeline of lanes, each a host thread with its own CUDA stream,
// pinned staging buffers and device buffers, all pulling chunks of whole blocks from one
// counter, in file order.
//
// A lane takes a chunk through read (pread into pinned memory), host-to-device copy, decode,
// statistics, device-to-host copy and write (pwrite from pinned memory). Each step of one
// chunk waits for the previous one, but the lanes run side by side, so at any moment one lane
// is reading while another's chunk is on the bus and a third is writing: the disk, the bus and
// the GPU all stay busy and the conversion takes about as long as its I/O. Memory is bounded
// by lanes x chunk size whatever the model or tensor size, device memory included.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "cuda_decode.h"
#include "cuda_stats.h"
#include "gguftk/convert.h"
#include "gguftk/error.h"

namespace gguftk {
namespace {

constexpr int kLanes = 4;
// Elements per conversion chunk: big enough that copies run at full bus speed and per-chunk
// costs (a launch, a synchronization, two syscalls) vanish; small enough that four lanes'
// buffers (under 40 MiB each, F64 input aside) are quick to pin.
constexpr uint64_t kChunkElems = uint64_t(4) << 20;
constexpr uint64_t kCopyBytes = uint64_t(8) << 20;

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) throw Error(std::string("CUDA: ") + what + ": " + cudaGetErrorString(e));
}

// One chunk of one job: blocks of a Convert job, bytes of a Copy job.
struct Chunk {
    size_t job;
    uint64_t first, count;
};

// Jobs split into chunks on demand from a global index (their number grows with the model).
class ChunkList {
public:
    explicit ChunkList(const ConversionPlan& plan) : plan_(plan) {
        for (const TensorJob& j : plan.jobs()) {
            starts_.push_back(total_);
            total_ += (units(j) + step(j) - 1) / step(j);
        }
    }
    uint64_t size() const { return total_; }
    Chunk at(uint64_t index) const {
        const size_t job = size_t(std::upper_bound(starts_.begin(), starts_.end(), index) - starts_.begin()) - 1;
        const TensorJob& j = plan_.jobs()[job];
        const uint64_t first = (index - starts_[job]) * step(j);
        return {job, first, std::min(step(j), units(j) - first)};
    }
    static uint64_t step(const TensorJob& j) {
        return j.converts() ? std::max<uint64_t>(1, kChunkElems / j.in_type->block_elems) : kCopyBytes;
    }
    static uint64_t units(const TensorJob& j) { return j.converts() ? j.n_blocks : j.in_size; }

private:
    const ConversionPlan& plan_;
    std::vector<uint64_t> starts_;
    uint64_t total_ = 0;
};

// A lane's resources. Owned by the lane's thread; freed in its destructor.
class Lane {
public:
    Lane(uint64_t in_cap, uint64_t out_cap) {
        check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "creating a stream");
        check(cudaHostAlloc(&h_in_, std::max<uint64_t>(in_cap, 1), cudaHostAllocDefault), "pinning host memory");
        check(cudaHostAlloc(&h_out_, std::max<uint64_t>(out_cap, 1), cudaHostAllocDefault), "pinning host memory");
        check(cudaMalloc(&d_in_, std::max<uint64_t>(in_cap, 16)), "allocating GPU memory");
        check(cudaMalloc(&d_out_, std::max<uint64_t>(out_cap, 16)), "allocating GPU memory");
    }
    ~Lane() {
        if (stream_) cudaStreamSynchronize(stream_);
        cudaFree(d_out_);
        cudaFree(d_in_);
        cudaFreeHost(h_out_);
        cudaFreeHost(h_in_);
        if (stream_) cudaStreamDestroy(stream_);
    }
    Lane(const Lane&) = delete;
    Lane& operator=(const Lane&) = delete;

    // Reads, decodes and writes one Convert chunk; returns its statistics if asked.
    void convert(const TensorJob& j, const Chunk& c, const InputReader& in, OutputWriter& out, TensorStats* stats) {
        const uint64_t in_bytes = c.count * j.in_type->block_bytes;
        const uint64_t n_values = c.count * j.in_type->block_elems;
        const uint64_t out_bytes = n_values * out_type_size(j.out);
        in.read(j.in_offset + c.first * j.in_type->block_bytes, std::span(static_cast<uint8_t*>(h_in_), in_bytes));
        check(cudaMemcpyAsync(d_in_, h_in_, in_bytes, cudaMemcpyHostToDevice, stream_), "copying to the GPU");
        check(cuda::decode_blocks_async(j.in_type->type, d_in_, c.count, j.out, d_out_, stream_), "decoding");
        if (stats) *stats = cuda::device_stats(j.out, d_out_, n_values, stream_);
        check(cudaMemcpyAsync(h_out_, d_out_, out_bytes, cudaMemcpyDeviceToHost, stream_), "copying from the GPU");
        check(cudaStreamSynchronize(stream_), "decoding");
        const uint64_t values_per_block_bytes = uint64_t(j.in_type->block_elems) * out_type_size(j.out);
        out.write(j.file, j.out_offset + c.first * values_per_block_bytes,
                  std::span(static_cast<const uint8_t*>(h_out_), out_bytes));
    }

private:
    cudaStream_t stream_ = nullptr;
    void* h_in_ = nullptr;
    void* h_out_ = nullptr;
    void* d_in_ = nullptr;
    void* d_out_ = nullptr;
};

class CudaEngine final : public Engine {
public:
    CudaEngine(int device, std::string name) : device_(device), name_(std::move(name)) {}

    std::string description() const override { return "cuda, " + name_; }

    ConversionResult run(const ConversionPlan& plan, OutputWriter& out, const RunControl& control) override {
        check(cudaSetDevice(device_), "selecting the device");
        const InputReader in(plan.input());
        const ChunkList chunks(plan);
        const auto& jobs = plan.jobs();

        uint64_t in_cap = 0, out_cap = 0;
        for (const TensorJob& j : jobs) {
            if (!j.converts()) continue;
            const uint64_t nb = std::min(j.n_blocks, ChunkList::step(j));
            in_cap = std::max(in_cap, nb * j.in_type->block_bytes);
            out_cap = std::max(out_cap, nb * j.in_type->block_elems * out_type_size(j.out));
        }

        ConversionResult result;
        if (control.stats) result.stats.resize(jobs.size());
        std::mutex mu;  // guards result.stats, `error`, `finished`
        std::condition_variable cv;
        std::exception_ptr error;
        std::atomic<uint64_t> next{0}, bytes_in{0}, bytes_out{0};
        std::atomic<bool> stop{false};
        unsigned finished = 0;
        const bool any_convert = plan.n_converted() > 0;
        const unsigned n_lanes = unsigned(std::min<uint64_t>(kLanes, std::max<uint64_t>(1, chunks.size())));

        auto lane = [&] {
            try {
                check(cudaSetDevice(device_), "selecting the device");
                std::optional<Lane> gpu;
                if (any_convert) gpu.emplace(in_cap, out_cap);
                for (uint64_t i; !stop.load(std::memory_order_relaxed) && (i = next.fetch_add(1)) < chunks.size();) {
                    if (control.cancelled()) throw Error("interrupted");
                    const Chunk c = chunks.at(i);
                    const TensorJob& j = jobs[c.job];
                    if (!j.converts()) {
                        out.copy(j.file, j.out_offset + c.first, in, j.in_offset + c.first, c.count);
                        bytes_in += c.count;
                        bytes_out += c.count;
                        continue;
                    }
                    TensorStats part;
                    gpu->convert(j, c, in, out, control.stats ? &part : nullptr);
                    if (control.stats) {
                        std::lock_guard lock(mu);
                        result.stats[c.job].merge(part);
                    }
                    bytes_in += c.count * j.in_type->block_bytes;
                    bytes_out += c.count * j.in_type->block_elems * out_type_size(j.out);
                }
            } catch (...) {
                stop = true;
                std::lock_guard lock(mu);
                if (!error) error = std::current_exception();
            }
            std::lock_guard lock(mu);
            ++finished;
            cv.notify_all();
        };

        std::vector<std::thread> pool;
        try {
            for (unsigned i = 0; i < n_lanes; ++i) pool.emplace_back(lane);
        } catch (...) {
            stop = true;
            for (auto& t : pool) t.join();
            throw;
        }
        const uint64_t total_in = plan.bytes_in();
        {
            std::unique_lock lock(mu);
            while (finished < pool.size()) {
                cv.wait_for(lock, std::chrono::milliseconds(200));
                if (control.progress && finished < pool.size()) {
                    lock.unlock();
                    control.progress(bytes_in.load(), total_in);
                    lock.lock();
                }
            }
        }
        for (auto& t : pool) t.join();
        if (error) std::rethrow_exception(error);
        if (control.cancelled()) throw Error("interrupted");
        if (control.progress) control.progress(total_in, total_in);
        result.bytes_read = bytes_in;
        result.bytes_written = bytes_out;
        return result;
    }

private:
    int device_;
    std::string name_;
};

}  // namespace

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
