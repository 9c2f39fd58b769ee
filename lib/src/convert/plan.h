#pragma once
// The plan of a conversion: every output file's header and size, and for every tensor its
// input span and its absolute output offset, computed before any tensor data is touched
// (convert/convert.h has the whole picture).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "container/gguf.h"
#include "container/model.h"
#include "formats/decode.h"
#include "formats/types.h"

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

}  // namespace gguftk
