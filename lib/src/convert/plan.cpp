// Planning a conversion: which tensors are converted, copied or left out, then the sink's layout.

#include <cmath>
#include <functional>
#include <limits>
#include <optional>

#include "sinks.h"
#include "convert/convert.h"
#include "container/error.h"
#include "container/names.h"

namespace gguftk {

std::span<const OutputFormat> all_output_formats() noexcept {
    static constexpr OutputFormat kAll[] = {OutputFormat::Gguf, OutputFormat::Npy, OutputFormat::Safetensors,
                                            OutputFormat::Raw};
    return kAll;
}

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
    for (OutputFormat f : all_output_formats())
        if (s == output_format_name(f)) return f;
    return std::nullopt;
}

const char* unwritable_values(OutputFormat f, OutType to) noexcept {
    if (f == OutputFormat::Npy && to == OutType::BF16) return "NumPy has no bfloat16: use --to f16 or --to f32 with --format npy";
    return nullptr;
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

void check_convertible(const GgufModel& model, const ConvertOptions& opts) {
    // Quantized blocks of a big-endian file have their fields swapped one by one, by rules
    // that are per format and not written down anywhere we could check against: refuse.
    for (const GgufFile* in : model.files())
        if (in->big_endian())
            throw Error("big-endian GGUF files are not supported; convert it to little-endian first", std::nullopt,
                        model.split() ? in->path() : std::string());
    if (const char* why = unwritable_values(opts.format, opts.to)) throw Error(why);
}

// What becomes of one tensor: its job, or none when the output leaves it out.
std::optional<SinkTensor> plan_tensor(const TensorInfo& t, uint32_t input, uint32_t index, bool sel,
                                      const ConvertOptions& opts) {
    if (!sel && opts.format != OutputFormat::Gguf) return std::nullopt;
    const GgmlType target = out_ggml_type(opts.to);
    TensorJob job;
    job.tensor = index;
    job.input = input;
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
                if (t.type->type == target && !opts.decode_same_type) break;  // a copy is exact
                // NumPy cannot hold bfloat16, so npy output converts BF16 tensors regardless.
                if (opts.all_floats || (opts.format == OutputFormat::Npy && t.type->type == GgmlType::BF16))
                    job.kind = JobKind::Convert;
                break;
        }
    }
    job.out_size = job.converts() ? job.n_elements * out_type_size(opts.to) : job.in_size;
    const GgmlType stored = job.converts() ? target : t.type->type;
    return SinkTensor{&t, job, stored};
}

// Every tensor the output holds, input file by input file, made afresh on each walk; returns
// which globs selected a tensor.
TensorGlobs walk_tensors(const GgufModel& model, const ConvertOptions& opts,
                         const std::function<void(SinkTensor&)>& fn) {
    TensorGlobs globs(opts.tensor_globs);
    const auto& files = model.files();
    for (size_t k = 0; k < files.size(); ++k) {
        const auto& infos = files[k]->tensors();
        for (size_t i = 0; i < infos.size(); ++i) {
            auto t = plan_tensor(infos[i], uint32_t(k), uint32_t(i), globs.select(infos[i].name), opts);
            if (t) fn(*t);
        }
    }
    return globs;
}

OutputLayout layout_for(const GgufModel& model, const ConvertOptions& opts) {
    if (is_directory_format(opts.format)) return OutputLayout::Directory;
    if (opts.format == OutputFormat::Gguf && model.split() && !opts.merge) return OutputLayout::Shards;
    return OutputLayout::File;
}

}  // namespace

ConversionPlan plan_conversion(const GgufModel& model, const ConvertOptions& opts) {
    check_convertible(model, opts);
    std::vector<SinkTensor> tensors;
    require_matched(walk_tensors(model, opts, [&](SinkTensor& t) { tensors.push_back(t); }), model);

    ConversionPlan plan;
    plan.inputs_ = model.files();
    plan.opts_ = opts;
    plan.layout_ = layout_for(model, opts);
    const TensorWalk walk = [&](const std::function<void(SinkTensor&)>& fn) {
        for (SinkTensor& t : tensors) fn(t);
    };
    plan.files_ = layout_output(plan.inputs_, opts, plan.layout_, walk);
    plan.jobs_.reserve(tensors.size());
    for (const SinkTensor& t : tensors) plan.jobs_.push_back(t.job);
    return plan;
}

ConversionPlan plan_conversion(const GgufFile& in, const ConvertOptions& opts) {
    return plan_conversion(GgufModel::of(in), opts);
}

ConversionSize conversion_size(const GgufModel& model, const ConvertOptions& opts) {
    check_convertible(model, opts);
    ConversionSize size;
    require_matched(walk_tensors(model, opts, [&](SinkTensor& t) { size.tensor_bytes += t.job.out_size; }), model);
    const TensorWalk walk = [&](const std::function<void(SinkTensor&)>& fn) { walk_tensors(model, opts, fn); };
    for (const OutputFile& f : layout_output(model.files(), opts, layout_for(model, opts), walk, true)) {
        size.file_bytes += f.size;
        ++size.files;
    }
    return size;
}

std::vector<std::string> output_paths(const ConversionPlan& plan, const std::string& out) {
    std::vector<std::string> paths;
    switch (plan.layout()) {
        case OutputLayout::File: paths.push_back(out); break;
        case OutputLayout::Directory:
            for (const OutputFile& f : plan.files()) paths.push_back(out + "/" + f.name);
            break;
        case OutputLayout::Shards: paths = output_shard_paths(out, plan.files().size()); break;
    }
    return paths;
}

}  // namespace gguftk
