#pragma once
// What executes a plan: the Engine interface, the statistics both engines compute
// (TensorStats) and how a caller steers a run (RunControl).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "convert/io.h"
#include "convert/plan.h"

namespace gguftk {

// Statistics of one converted tensor, over the values as written (after rounding to the output
// type, so an F16 overflow counts as an infinity). min, max, mean and absmax are over the finite
// values only; with none they are NaN. `sum` is accumulated in double; engines may sum in any
// order, so means may differ in the last bits between engines, the rest never does.
struct TensorStats {
    uint64_t finite = 0;
    uint64_t nan = 0;
    uint64_t inf = 0;
    double min = 0, max = 0, absmax = 0;  // meaningful when finite > 0
    double sum = 0;

    double mean() const;
    // Folds `v` (a finite value) in; add_nan/add_inf count the others.
    void add(double v) {
        if (finite == 0) {
            min = max = v;
        } else {
            min = v < min ? v : min;
            max = v > max ? v : max;
        }
        const double a = v < 0 ? -v : v;
        absmax = a > absmax ? a : absmax;
        sum += v;
        ++finite;
    }
    void merge(const TensorStats& o);
};

struct ConversionResult {
    std::vector<TensorStats> stats;  // one per job when RunControl::stats, else empty
    uint64_t bytes_read = 0;         // input bytes consumed
    uint64_t bytes_written = 0;      // output bytes written (headers excluded)
};

struct RunControl {
    bool stats = false;
    // Called with the input bytes processed so far and the total, and the index in plan.jobs()
    // of the tensor most recently started (jobs().size() before any), from one thread at a
    // time, a few times a second at most. May be empty.
    std::function<void(uint64_t done, uint64_t total, size_t job)> progress;
    // Set non-zero (by a signal handler, say) to stop early; run() then throws
    // Error("interrupted"). An int, so that a handler can leave the signal's number there for
    // the caller's exit status.
    const std::atomic<int>* cancel = nullptr;
    // Called with each converted chunk's values (of type job.out, in host memory, valid during
    // the call): the job's index in plan.jobs(), the index of the first value within the tensor,
    // the bytes. Called from the worker threads concurrently, in no particular order. May be
    // empty.
    std::function<void(size_t job, uint64_t first_value, std::span<const uint8_t> values)> values;

    bool cancelled() const { return cancel && cancel->load(std::memory_order_relaxed) != 0; }
};

class Engine {
public:
    virtual ~Engine() = default;
    // For messages: "cpu, 2 threads", "cuda, NVIDIA H100 80GB HBM3".
    virtual std::string description() const = 0;
    // Executes every job of `plan` into `out`. Throws Error on failure (the caller then destroys
    // the writer, which removes the partial output).
    ConversionResult run(const ConversionPlan& plan, OutputWriter& out, const RunControl& control) {
        return execute(plan, &out, control);
    }
    // Decodes the plan's Convert jobs without writing anything: the values reach only
    // control.values (gguf-dequant --check). Copy jobs are skipped.
    ConversionResult scan(const ConversionPlan& plan, const RunControl& control) {
        return execute(plan, nullptr, control);
    }

protected:
    // run() with an output, scan() with none.
    virtual ConversionResult execute(const ConversionPlan& plan, OutputWriter* out, const RunControl& control) = 0;
};

// The reference engine: `threads` workers (0 = one per available core) over chunks of whole
// blocks, each with bounded buffers, so memory does not grow with the model.
std::unique_ptr<Engine> make_cpu_engine(unsigned threads);

#if GGUFTK_HAVE_CUDA
// Defined in kernels/. Returns nullptr and sets `why_not` ("no CUDA driver", "no CUDA device",
// "out of memory: ...") when no usable GPU answers; `device` picks the CUDA device ordinal.
// A reason starting "no CUDA driver" means there is no GPU stack at all (a CPU-only machine).
std::unique_ptr<Engine> make_cuda_engine(int device, std::string* why_not);
// Host threads (lanes: a stream and buffers each) the CUDA engine runs a conversion with.
unsigned cuda_engine_lanes();
#endif

}  // namespace gguftk
