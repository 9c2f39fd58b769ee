// run_chunked: the worker pool both engines run on (see gguftk/chunked.h).
//
// The chunks are computed on demand from a global index, so their number, which grows with the
// model, costs no memory; consecutive chunks go to different workers, so the input is still
// read front to back while no worker waits for another.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "gguftk/chunked.h"
#include "gguftk/error.h"

namespace gguftk {
namespace {

class ChunkList {
public:
    // Without copies (a scan, which writes nothing), Copy jobs have no chunks.
    ChunkList(const ConversionPlan& plan, const ChunkedRun& how, bool copies) : plan_(plan), how_(how) {
        for (const TensorJob& j : plan.jobs()) {
            starts_.push_back(total_);  // empty jobs share the next job's start
            if (copies || j.converts()) total_ += (units(j) + step(j) - 1) / step(j);
        }
    }
    uint64_t size() const { return total_; }
    // The job of the chunk most recently handed out, of `taken` chunks; jobs().size() for none.
    size_t newest_job(uint64_t taken) const {
        taken = std::min(taken, total_);
        return taken ? at(taken - 1).job : plan_.jobs().size();
    }

    Chunk at(uint64_t index) const {
        const size_t job = size_t(std::upper_bound(starts_.begin(), starts_.end(), index) - starts_.begin()) - 1;
        const TensorJob& j = plan_.jobs()[job];
        const uint64_t first = (index - starts_[job]) * step(j);
        return {job, first, std::min(step(j), units(j) - first)};
    }

    // Blocks per Convert chunk, bytes per Copy chunk.
    uint64_t step(const TensorJob& j) const {
        if (!j.converts()) return std::max<uint64_t>(1, how_.copy_bytes);
        return std::max<uint64_t>(1, how_.chunk_values / j.in_type->block_elems);
    }
    static uint64_t units(const TensorJob& j) { return j.converts() ? j.n_blocks : j.in_size; }

private:
    const ConversionPlan& plan_;
    const ChunkedRun& how_;
    std::vector<uint64_t> starts_;  // first chunk index of each job
    uint64_t total_ = 0;
};

uint64_t values_bytes(const TensorJob& j, uint64_t blocks) {
    return blocks * j.in_type->block_elems * out_type_size(j.out);
}

}  // namespace

ConversionResult run_chunked(const ConversionPlan& plan, OutputWriter* out, const RunControl& control,
                             const ChunkedRun& how) {
    // One reader per input file (the shards of a split model); a job reads its own.
    std::vector<std::unique_ptr<InputReader>> readers;
    for (const GgufFile* f : plan.inputs()) readers.push_back(std::make_unique<InputReader>(*f));
    const ChunkList chunks(plan, how, out != nullptr);
    const auto& jobs = plan.jobs();

    uint64_t in_cap = 0, out_cap = 0;  // the largest Convert chunk
    for (const TensorJob& j : jobs) {
        if (!j.converts()) continue;
        const uint64_t nb = std::min(j.n_blocks, chunks.step(j));
        in_cap = std::max(in_cap, nb * j.in_type->block_bytes);
        out_cap = std::max(out_cap, values_bytes(j, nb));
    }
    const bool any_convert = plan.n_converted() > 0;

    ConversionResult result;
    if (control.stats) result.stats.resize(jobs.size());
    std::mutex mu;  // guards result.stats, `error`, `finished`
    std::condition_variable cv;
    std::exception_ptr error;
    std::atomic<uint64_t> next{0}, bytes_in{0}, bytes_out{0};
    std::atomic<bool> stop{false};
    unsigned finished = 0;
    const unsigned n_workers = unsigned(std::min<uint64_t>(std::max(how.workers, 1u), std::max<uint64_t>(1, chunks.size())));

    auto worker = [&] {
        try {
            std::unique_ptr<ChunkConverter> conv;
            if (any_convert) conv = how.make_converter(in_cap, out_cap);
            for (uint64_t i; !stop.load(std::memory_order_relaxed) && (i = next.fetch_add(1)) < chunks.size();) {
                if (control.cancelled()) throw Error("interrupted");
                const Chunk c = chunks.at(i);
                const TensorJob& j = jobs[c.job];
                const InputReader& in = *readers[j.input];
                if (!j.converts()) {
                    out->copy(j.file, j.out_offset + c.first, in, j.in_offset + c.first, c.count);
                    bytes_in += c.count;
                    bytes_out += c.count;
                    continue;
                }
                TensorStats part;
                const auto values = conv->convert(j, c, in, control.stats ? &part : nullptr);
                const uint64_t first_value = c.first * j.in_type->block_elems;
                if (out) out->write(j.file, j.out_offset + first_value * out_type_size(j.out), values);
                if (control.values) control.values(c.job, first_value, values);
                if (control.stats) {
                    std::lock_guard lock(mu);
                    result.stats[c.job].merge(part);
                }
                bytes_in += c.count * j.in_type->block_bytes;
                bytes_out += values_bytes(j, c.count);
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
    uint64_t total_in = plan.bytes_in();
    if (!out)
        for (const TensorJob& j : jobs) total_in -= j.converts() ? 0 : j.in_size;
    {
        std::unique_lock lock(mu);
        while (finished < pool.size()) {
            cv.wait_for(lock, std::chrono::milliseconds(200));
            if (control.progress && finished < pool.size()) {
                lock.unlock();
                control.progress(bytes_in.load(), total_in, chunks.newest_job(next.load()));
                lock.lock();
            }
        }
    }
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
    if (control.cancelled()) throw Error("interrupted");
    if (control.progress) control.progress(total_in, total_in, chunks.newest_job(chunks.size()));
    result.bytes_read = bytes_in;
    result.bytes_written = bytes_out;
    return result;
}

}  // namespace gguftk
