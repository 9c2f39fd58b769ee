// Planning a conversion: which tensors are converted, copied or left out, then the sink's layout.
#include <fnmatch.h>

#include <cmath>
#include <limits>

#include "sinks.h"
#include "gguftk/convert.h"
#include "gguftk/error.h"

namespace gguftk {

std::string_view output_format_name(OutputFormat f) noexcept {
    switch (f) {
        case OutputFormat::Gguf: return "gguf";
        case OutputFormat::Npy: return "npy";
        case OutputFormat::Safetensors: return "safetensors";
        case OutputFormat::Raw: return "raw";
    }
    return "?";
}

std::optional<OutputFormat> parse_output_format(std::string_view s) noexcept {
    for (OutputFormat f : {OutputFormat::Gguf, OutputFormat::Npy, OutputFormat::Safetensors, OutputFormat::Raw})
        if (s == output_format_name(f)) return f;
    return std::nullopt;
}

uint64_t ConversionPlan::bytes_in() const {
    uint64_t n = 0;
    for (const TensorJob& j : jobs_) n += j.in_size;
    return n;
}

uint64_t ConversionPlan::bytes_out() const {
    uint64_t n = 0;
    for (const OutputFile& f : files_) n += f.size;
    return n;
}

size_t ConversionPlan::n_converted() const {
    size_t n = 0;
    for (const TensorJob& j : jobs_) n += j.converts();
    return n;
}

double TensorStats::mean() const {
    return finite ? sum / double(finite) : std::numeric_limits<double>::quiet_NaN();
}

void TensorStats::merge(const TensorStats& o) {
    if (o.finite) {
        if (finite == 0) {
            min = o.min;
            max = o.max;
        } else {
            min = o.min < min ? o.min : min;
            max = o.max > max ? o.max : max;
        }
        absmax = o.absmax > absmax ? o.absmax : absmax;
        sum += o.sum;
        finite += o.finite;
    }
    nan += o.nan;
    inf += o.inf;
}

namespace {

bool selected(const std::vector<std::string>& globs, const std::string& name) {
    if (globs.empty()) return true;
    for (const std::string& g : globs)
        if (fnmatch(g.c_str(), name.c_str(), 0) == 0) return true;
    return false;
}

}  // namespace

ConversionPlan plan_conversion(const GgufFile& in, const ConvertOptions& opts) {
    // Quantized blocks of a big-endian file have their fields swapped one by one, by rules
    // that are per format and not written down anywhere we could check against: refuse.
    if (in.big_endian())
        throw Error("big-endian GGUF files are not supported; convert it to little-endian first");
    if (opts.format == OutputFormat::Npy && opts.to == OutType::BF16)
        throw Error("NumPy has no bfloat16: use --to f16 or --to f32 with --format npy");

    const GgmlType target = out_ggml_type(opts.to);
    std::vector<SinkTensor> tensors;
    size_t n_selected = 0;
    const auto& infos = in.tensors();
    for (size_t i = 0; i < infos.size(); ++i) {
        const TensorInfo& t = infos[i];
        const bool sel = selected(opts.tensor_globs, t.name);
        n_selected += sel;
        if (!sel && opts.format != OutputFormat::Gguf) continue;

        TensorJob job;
        job.tensor = uint32_t(i);
        job.in_type = t.type;
        job.in_offset = t.offset;
        job.in_size = t.size;
        job.n_elements = t.n_elements;
        job.n_blocks = t.n_blocks();
        job.out = opts.to;
        job.kind = JobKind::Copy;
        if (sel) {
            switch (t.type->cls) {
                case TypeClass::Integer: break;  // never converted: the values are indices, not weights
                case TypeClass::Quantized:
                    if (!has_decoder(t.type->type))
                        throw Error("tensor " + t.name + ": no decoder for type " + std::string(t.type->name),
                                    t.info_offset);
                    job.kind = JobKind::Convert;
                    break;
                case TypeClass::Float:
                    if (t.type->type == target) break;  // already the target: a copy is exact
                    // NumPy cannot hold bfloat16, so npy output converts BF16 tensors regardless.
                    if (opts.all_floats || (opts.format == OutputFormat::Npy && t.type->type == GgmlType::BF16))
                        job.kind = JobKind::Convert;
                    break;
            }
        }
        job.out_size = job.converts() ? job.n_elements * out_type_size(opts.to) : job.in_size;
        const GgmlType stored = job.converts() ? target : t.type->type;
        tensors.push_back({&t, job, stored});
    }
    if (!opts.tensor_globs.empty() && n_selected == 0) {
        std::string list;
        for (const std::string& g : opts.tensor_globs) list += (list.empty() ? "'" : ", '") + g + "'";
        throw Error("no tensor matches " + list);
    }

    ConversionPlan plan;
    plan.in_ = &in;
    plan.opts_ = opts;
    plan.files_ = layout_output(in, opts, tensors);
    plan.jobs_.reserve(tensors.size());
    for (const SinkTensor& t : tensors) plan.jobs_.push_back(t.job);
    return plan;
}

}  // namespace gguftk
