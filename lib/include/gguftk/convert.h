#pragma once
// Converting the tensors of a GGUF file to F16 / F32 / BF16: plan first, then execute.
//
//   GgufModel in = GgufModel::open(path);                     // a file, or every shard of a split model
//   ConversionPlan plan = plan_conversion(in, options);       // every output byte placed
//   OutputWriter out(plan, "model-f16.gguf", force);          // temp file(s) beside it, headers written
//   ConversionResult r = make_cpu_engine(threads)->run(plan, out, control);
//   out.commit();                                             // rename; until then nothing is visible
//
// A plan reads N input files (the shards of a split model; TensorJob::input says which) and
// writes M output files (OutputLayout: one file, a directory of them, or the shards of a split
// output, one per input shard).
//
// The plan is computed before any tensor data is touched: every output file's header bytes and
// size, and for every tensor its input span and its absolute output offset. So the data of
// different tensors (and of different chunks of one tensor) can be written in any order by any
// number of workers, and an engine is nothing but "execute these jobs".
//
// Plugging in another engine (the CUDA one in kernels/):
// - derive from Engine and implement execute() by handing run_chunked (gguftk/chunked.h) a
//   ChunkConverter per worker: it reads a chunk's blocks through an InputReader into its own
//   buffers, decodes them with the shared definitions of lib/formats (visit_format +
//   decode_part), rounds to job.out exactly as the CPU does (formats/float_bits.h) and returns
//   the bytes in host memory, folding the values into the chunk's TensorStats when asked
//   (TensorStats's definition below is the contract both engines meet). run_chunked does the
//   rest: writing, Copy jobs, progress, cancellation, errors. Memory must stay bounded whatever
//   the model size.
// - expose it through make_cuda_engine() declared below; kernels/ defines it and is linked
//   only when GGUFTK_HAVE_CUDA, so callers guard the call with `#if GGUFTK_HAVE_CUDA`.
//   There is no registry: the app picks the engine (--device auto|cpu|cuda).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguftk/decode.h"
#include "gguftk/gguf.h"
#include "gguftk/model.h"
#include "gguftk/types.h"

namespace gguftk {

enum class OutputFormat : uint8_t { Gguf, Npy, Safetensors, Raw };
std::span<const OutputFormat> all_output_formats() noexcept;    // each one, in that order
std::string_view output_format_name(OutputFormat f) noexcept;  // "gguf", "npy", ...
std::optional<OutputFormat> parse_output_format(std::string_view s) noexcept;
// Why format `f` cannot hold values of type `to` (NumPy has no bfloat16), or nullptr when it can.
const char* unwritable_values(OutputFormat f, OutType to) noexcept;
// Npy and Raw write a directory (one file per tensor plus manifest.json); the others one file.
constexpr bool is_directory_format(OutputFormat f) noexcept {
    return f == OutputFormat::Npy || f == OutputFormat::Raw;
}

struct ConvertOptions {
    OutType to = OutType::F16;
    OutputFormat format = OutputFormat::Gguf;
    // Also convert the unquantized float tensors (F32, F16, BF16, F64); otherwise they are copied.
    bool all_floats = false;
    // With all_floats, decode even the tensors already of the target type (which are otherwise
    // copied): for a run that looks at the values rather than writing them (a check).
    bool decode_same_type = false;
    // fnmatch(3) patterns on tensor names; empty selects every tensor. For GGUF output the
    // unselected tensors are still written, copied byte for byte, so the model stays whole;
    // the other formats write only the selected tensors.
    std::vector<std::string> tensor_globs;
    // A split model's GGUF output as one file (without the split.* keys) rather than one shard
    // per input shard. The other formats always write one output for the whole model.
    bool merge = false;
};

enum class JobKind : uint8_t {
    Convert,  // decode whole blocks of in_type, round to `out`
    Copy,     // byte-for-byte copy (integer tensors, unconverted floats)
};

// One tensor's work: where its bytes are, where its result goes.
struct TensorJob {
    uint32_t tensor = 0;               // index into the tensors of input file `input` (plan.tensor(job))
    uint32_t input = 0;                // index into plan.inputs()
    JobKind kind = JobKind::Copy;
    const TypeInfo* in_type = nullptr; // never null
    OutType out = OutType::F16;        // Convert only
    uint64_t in_offset = 0;            // absolute offset of the data in its input file
    uint64_t in_size = 0;              // bytes = n_blocks * in_type->block_bytes
    uint64_t n_elements = 0;
    uint64_t n_blocks = 0;             // whole blocks of in_type (n_elements / block_elems)
    uint32_t file = 0;                 // index into plan.files()
    uint64_t out_offset = 0;           // absolute offset of the result in that output file
    uint64_t out_size = 0;             // Convert: n_elements * out_type_size(out); Copy: in_size

    bool converts() const { return kind == JobKind::Convert; }
};

// One output file: its header (the GGUF header and tables, the npy header, the safetensors JSON,
// or a whole small file such as manifest.json) written at offset 0, and its final size. Bytes
// no job and no header covers (alignment padding) read as zero.
struct OutputFile {
    std::string name;               // the name in the directory (OutputLayout::Directory); else ""
    std::vector<uint8_t> header;
    uint64_t size = 0;
};

enum class OutputLayout : uint8_t {
    File,       // one file (gguf, safetensors)
    Directory,  // a directory of files (npy, raw)
    Shards,     // one GGUF file per input shard, named NAME-0000K-of-0000N.gguf (output_paths)
};

class ConversionPlan {
public:
    const GgufFile& input() const { return *inputs_.front(); }  // the first (or only) input file
    const std::vector<const GgufFile*>& inputs() const { return inputs_; }
    const TensorInfo& tensor(const TensorJob& j) const { return inputs_[j.input]->tensors()[j.tensor]; }
    const ConvertOptions& options() const { return opts_; }
    OutputLayout layout() const { return layout_; }
    const std::vector<OutputFile>& files() const { return files_; }
    const std::vector<TensorJob>& jobs() const { return jobs_; }

    uint64_t bytes_in() const;        // input tensor bytes the jobs read
    uint64_t bytes_out() const;       // total size of every output file
    size_t n_converted() const;       // jobs of kind Convert

private:
    friend ConversionPlan plan_conversion(const GgufModel&, const ConvertOptions&);
    std::vector<const GgufFile*> inputs_;
    ConvertOptions opts_;
    OutputLayout layout_ = OutputLayout::File;
    std::vector<OutputFile> files_;
    std::vector<TensorJob> jobs_;
};

// Lays out the conversion of `model` (whose files must outlive the plan): of a split model,
// every shard, into one output per shard (GGUF, unless opts.merge) or one output. Throws Error
// for what cannot be converted: big-endian input, a quantized type without a decoder, a glob
// that selects nothing, BF16 into npy (NumPy has no bfloat16).
ConversionPlan plan_conversion(const GgufModel& model, const ConvertOptions& opts);
// The same for one file (which must outlive the plan), whatever its split.* keys say.
ConversionPlan plan_conversion(const GgufFile& in, const ConvertOptions& opts);

// The paths the plan's output files are written to when the output is `out`: out itself (File),
// out/NAME for each file (Directory), or output_shard_paths(out, M) (Shards).
std::vector<std::string> output_paths(const ConversionPlan& plan, const std::string& out);

// What a conversion writes, as gguf-dequant would write it: the tensors' bytes (padding left
// out) and the output files' sizes added up. Computed by the planning code itself, without
// keeping the plan: memory does not grow with the tensor table. Throws as plan_conversion.
struct ConversionSize {
    uint64_t tensor_bytes = 0;
    uint64_t file_bytes = 0;
    uint32_t files = 0;  // output files (a directory's manifest.json counts)
};
ConversionSize conversion_size(const GgufModel& model, const ConvertOptions& opts);

// How engines read tensor data: pread(2) from the input file into the engine's own (bounded,
// possibly pinned) buffers rather than touching the mapping, so resident memory does not grow
// with the model and a CUDA engine can read straight into pinned staging memory. Falls back to
// copying from GgufFile::bytes() when the file cannot be reopened (parsed from memory).
// Thread-safe: no shared file position.
class InputReader {
public:
    explicit InputReader(const GgufFile& in);
    InputReader(const InputReader&) = delete;
    InputReader& operator=(const InputReader&) = delete;
    ~InputReader();

    // Fills `dst` with the input bytes at absolute `offset`; throws Error on a short read.
    void read(uint64_t offset, std::span<uint8_t> dst) const;
    int fd() const { return fd_; }  // -1 when reading from memory

private:
    const GgufFile* in_;
    int fd_ = -1;
};

// Where the results go. Creates a temp file (or, for directory formats, a temp directory; for
// a split output, one temp file per shard) beside each output path, every output file sized and
// its header written. write() is thread-safe (pwrite at absolute offsets, no shared cursor).
// commit() renames the temps into place, all of them or none: when one rename fails, the shards
// already renamed are removed again. Destroying an uncommitted writer removes everything it
// created. Refuses an output path that is an input (same device and inode, so symlinks and
// hard links count) and an existing one unless `force`.
class OutputWriter {
public:
    OutputWriter(const ConversionPlan& plan, std::string out_path, bool force);
    OutputWriter(const OutputWriter&) = delete;
    OutputWriter& operator=(const OutputWriter&) = delete;
    ~OutputWriter();

    // Writes all of `data` at `offset` of output file `file`; throws Error (naming the output)
    // on a short write, disk full, file too large.
    void write(uint32_t file, uint64_t offset, std::span<const uint8_t> data);
    // Copies `size` input bytes at `in_offset` to `offset` of output file `file`, in the kernel
    // when it can (copy_file_range), for Copy jobs. Thread-safe like write().
    void copy(uint32_t file, uint64_t offset, const InputReader& in, uint64_t in_offset, uint64_t size);
    void commit();
    const std::string& path() const { return out_path_; }
    const std::vector<std::string>& paths() const;  // output_paths(plan, path())

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string out_path_;
};

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
