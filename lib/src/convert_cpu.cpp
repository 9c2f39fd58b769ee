// The CPU engine: N workers pull chunks of whole blocks, in file order, from one shared counter.
//
// Each worker owns two buffers (input blocks, output values) sized for one chunk, so memory is
// N * (a few hundred KiB) whatever the model size. A worker preads its chunk, converts it and
// pwrites the result at the chunk's planned offset: no worker waits for another, and since
// consecutive chunks go to different workers the input is still read front to back.
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "convert_kernels.h"
#include "gguftk/convert.h"
#include "gguftk/error.h"

namespace gguftk {
namespace {

// Elements per conversion chunk: the output (at most 4 bytes a value) and its input stay in L2.
constexpr uint64_t kChunkElems = 64 * 1024;
// Bytes per copy chunk: copies are done by the kernel, larger steps only cut syscalls.
constexpr uint64_t kCopyBytes = 8 << 20;

unsigned available_cores() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return unsigned(std::max(1, CPU_COUNT(&set)));
    return std::max(1u, std::thread::hardware_concurrency());
}

struct Chunk {
    size_t job;
    uint64_t first;  // first block (Convert) or byte (Copy) of the job
    uint64_t count;  // blocks or bytes
};

// The chunks of a plan, computed on demand from a global index, so their number (which grows
// with the model) costs no memory.
class ChunkList {
public:
    explicit ChunkList(const ConversionPlan& plan) : plan_(plan) {
        uint64_t total = 0;
        for (const TensorJob& j : plan.jobs()) {
            starts_.push_back(total);
            const uint64_t step = step_of(j), units = j.converts() ? j.n_blocks : j.in_size;
            total += (units + step - 1) / step;
        }
        total_ = total;
    }
    uint64_t size() const { return total_; }

    Chunk at(uint64_t index) const {
        const size_t job = size_t(std::upper_bound(starts_.begin(), starts_.end(), index) - starts_.begin()) - 1;
        const TensorJob& j = plan_.jobs()[job];
        const uint64_t step = step_of(j), units = j.converts() ? j.n_blocks : j.in_size;
        const uint64_t first = (index - starts_[job]) * step;
        return {job, first, std::min(step, units - first)};
    }

    // Blocks per Convert chunk, bytes per Copy chunk.
    static uint64_t step_of(const TensorJob& j) {
        if (!j.converts()) return kCopyBytes;
        return std::max<uint64_t>(1, kChunkElems / j.in_type->block_elems);
    }

private:
    const ConversionPlan& plan_;
    std::vector<uint64_t> starts_;  // first chunk index of each job (empty jobs share the next's)
    uint64_t total_ = 0;
};

class CpuEngine final : public Engine {
public:
    explicit CpuEngine(unsigned threads) : threads_(threads ? threads : available_cores()) {}

    std::string description() const override {
        return "cpu, " + std::to_string(threads_) + (threads_ == 1 ? " thread" : " threads");
    }

    ConversionResult run(const ConversionPlan& plan, OutputWriter& out, const RunControl& control) override {
        const InputReader in(plan.input());
        const ChunkList chunks(plan);
        const auto& jobs = plan.jobs();

        // Buffer sizes: the largest chunk any Convert job can have.
        uint64_t in_cap = 0, out_cap = 0;
        for (const TensorJob& j : jobs) {
            if (!j.converts()) continue;
            const uint64_t nb = std::min(j.n_blocks, ChunkList::step_of(j));
            in_cap = std::max(in_cap, nb * j.in_type->block_bytes);
            out_cap = std::max(out_cap, nb * j.in_type->block_elems * out_type_size(j.out));
        }

        ConversionResult result;
        if (control.stats) result.stats.resize(jobs.size());
        std::mutex mu;  // guards result.stats, the first error, `finished`
        std::condition_variable cv;
        std::exception_ptr error;
        std::atomic<uint64_t> next{0}, bytes_in{0}, bytes_out{0};
        std::atomic<bool> stop{false};
        unsigned finished = 0;
        const unsigned n_workers = unsigned(std::min<uint64_t>(threads_, std::max<uint64_t>(1, chunks.size())));

        auto worker = [&] {
            try {
                std::vector<uint8_t> ibuf(in_cap), obuf(out_cap);
                for (uint64_t c; !stop.load(std::memory_order_relaxed) && (c = next.fetch_add(1)) < chunks.size();) {
                    if (control.cancelled()) throw Error("interrupted");
                    const Chunk ch = chunks.at(c);
                    const TensorJob& j = jobs[ch.job];
                    if (!j.converts()) {
                        out.copy(j.file, j.out_offset + ch.first, in, j.in_offset + ch.first, ch.count);
                        bytes_in += ch.count;
                        bytes_out += ch.count;
                        continue;
                    }
                    const uint64_t bb = j.in_type->block_bytes;
                    const uint64_t vb = uint64_t(j.in_type->block_elems) * out_type_size(j.out);
                    const std::span<uint8_t> src(ibuf.data(), ch.count * bb);
                    in.read(j.in_offset + ch.first * bb, src);
                    convert_blocks(j.in_type->type, src.data(), ch.count, j.out, obuf.data());
                    if (control.stats) {
                        TensorStats part;
                        accumulate_stats(j.out, obuf.data(), ch.count * j.in_type->block_elems, part);
                        std::lock_guard lock(mu);
                        result.stats[ch.job].merge(part);
                    }
                    out.write(j.file, j.out_offset + ch.first * vb, std::span(obuf.data(), ch.count * vb));
                    bytes_in += src.size();
                    bytes_out += ch.count * vb;
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
        pool.reserve(n_workers);
        try {
            for (unsigned i = 0; i < n_workers; ++i) pool.emplace_back(worker);
        } catch (...) {
            stop = true;
            for (auto& t : pool) t.join();
            throw;
        }
        // This thread only reports progress, so the workers have the cores to themselves.
        const uint64_t total_in = plan.bytes_in();
        {
            std::unique_lock lock(mu);
            while (finished < n_workers) {
                cv.wait_for(lock, std::chrono::milliseconds(200));
                if (control.progress && finished < n_workers) {
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
    unsigned threads_;
};

}  // namespace

std::unique_ptr<Engine> make_cpu_engine(unsigned threads) { return std::make_unique<CpuEngine>(threads); }

}  // namespace gguftk
