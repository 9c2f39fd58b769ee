// run_chunked: the worker pool both engines run on (see convert/chunked.h).
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

#include "convert/chunked.h"
#include "container/error.h"

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

// The input and output bytes of the largest Convert chunk: what each worker's converter holds.
std::pair<uint64_t, uint64_t> largest_chunk(const ConversionPlan& plan, const ChunkList& chunks) {
    uint64_t in_cap = 0, out_cap = 0;
    for (const TensorJob& j : plan.jobs()) {
        if (!j.converts()) continue;
        const uint64_t nb = std::min(j.n_blocks, chunks.step(j));
        in_cap = std::max(in_cap, nb * j.in_type->block_bytes);
        out_cap = std::max(out_cap, values_bytes(j, nb));
    }
    return {in_cap, out_cap};
}

// One run: the state the workers share, and what each of them does.
class Run {
public:
    Run(const ConversionPlan& plan, OutputWriter* out, const RunControl& control, const ChunkedRun& how)
        : plan_(plan), out_(out), control_(control), how_(how), chunks_(plan, how, out != nullptr),
          caps_(largest_chunk(plan, chunks_)) {
        // One reader per input file (the shards of a split model); a job reads its own.
        for (const GgufFile* f : plan.inputs()) readers_.push_back(std::make_unique<InputReader>(*f));
        if (control.stats) result_.stats.resize(plan.jobs().size());
    }

    ConversionResult operator()() {
        std::vector<std::thread> pool;
        start(pool);
        report_progress(pool.size());
        for (auto& t : pool) t.join();
        if (error_) std::rethrow_exception(error_);
        if (control_.cancelled()) throw Error("interrupted");
        if (control_.progress) control_.progress(total_in(), total_in(), chunks_.newest_job(chunks_.size()));
        result_.bytes_read = bytes_in_;
        result_.bytes_written = bytes_out_;
        return std::move(result_);
    }

private:
    unsigned n_workers() const {
        return unsigned(std::min<uint64_t>(std::max(how_.workers, 1u), std::max<uint64_t>(1, chunks_.size())));
    }

    void start(std::vector<std::thread>& pool) {
        pool.reserve(n_workers());
        try {
            for (unsigned i = 0; i < n_workers(); ++i) pool.emplace_back([this] { work(); });
        } catch (...) {
            stop_ = true;
            for (auto& t : pool) t.join();
            throw;
        }
    }

    // One worker: chunks until none are left or one failed; the first error is kept for the caller.
    void work() {
        try {
            std::unique_ptr<ChunkConverter> conv;
            if (plan_.n_converted() > 0) conv = how_.make_converter(caps_.first, caps_.second);
            for (uint64_t i; !stop_.load(std::memory_order_relaxed) && (i = next_.fetch_add(1)) < chunks_.size();) {
                if (control_.cancelled()) throw Error("interrupted");
                const Chunk c = chunks_.at(i);
                if (plan_.jobs()[c.job].converts()) convert(*conv, c);
                else copy(c);
            }
        } catch (...) {
            stop_ = true;
            std::lock_guard lock(mu_);
            if (!error_) error_ = std::current_exception();
        }
        std::lock_guard lock(mu_);
        ++finished_;
        cv_.notify_all();
    }

    void copy(const Chunk& c) {
        const TensorJob& j = plan_.jobs()[c.job];
        out_->copy(j.file, j.out_offset + c.first, *readers_[j.input], j.in_offset + c.first, c.count);
        bytes_in_ += c.count;
        bytes_out_ += c.count;
    }

    void convert(ChunkConverter& conv, const Chunk& c) {
        const TensorJob& j = plan_.jobs()[c.job];
        TensorStats part;
        const auto values = conv.convert(j, c, *readers_[j.input], control_.stats ? &part : nullptr);
        const uint64_t first_value = c.first * j.in_type->block_elems;
        if (out_) out_->write(j.file, j.out_offset + first_value * out_type_size(j.out), values);
        if (control_.values) control_.values(c.job, first_value, values);
        if (control_.stats) {
            std::lock_guard lock(mu_);
            result_.stats[c.job].merge(part);
        }
        bytes_in_ += c.count * j.in_type->block_bytes;
        bytes_out_ += values_bytes(j, c.count);
    }

    // The bytes the workers will read: without an output, Copy jobs are skipped.
    uint64_t total_in() const {
        uint64_t total = plan_.bytes_in();
        if (!out_)
            for (const TensorJob& j : plan_.jobs()) total -= j.converts() ? 0 : j.in_size;
        return total;
    }

    // This thread only reports progress, so the workers have the cores to themselves.
    void report_progress(size_t workers) {
        const uint64_t total = total_in();
        std::unique_lock lock(mu_);
        while (finished_ < workers) {
            cv_.wait_for(lock, std::chrono::milliseconds(200));
            if (control_.progress && finished_ < workers) {
                lock.unlock();
                control_.progress(bytes_in_.load(), total, chunks_.newest_job(next_.load()));
                lock.lock();
            }
        }
    }

    const ConversionPlan& plan_;
    OutputWriter* out_;
    const RunControl& control_;
    const ChunkedRun& how_;
    const ChunkList chunks_;
    const std::pair<uint64_t, uint64_t> caps_;  // a converter's input and output bytes
    std::vector<std::unique_ptr<InputReader>> readers_;
    ConversionResult result_;
    std::mutex mu_;  // guards result_.stats, error_, finished_
    std::condition_variable cv_;
    std::exception_ptr error_;
    std::atomic<uint64_t> next_{0}, bytes_in_{0}, bytes_out_{0};
    std::atomic<bool> stop_{false};
    unsigned finished_ = 0;
};

}  // namespace

ConversionResult run_chunked(const ConversionPlan& plan, OutputWriter* out, const RunControl& control,
                             const ChunkedRun& how) {
    return Run(plan, out, control, how)();
}

}  // namespace gguftk
