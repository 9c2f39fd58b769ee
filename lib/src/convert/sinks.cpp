// The four output layouts of gguf-dequant.
#include "sinks.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>
#include <string>

#include "container/error.h"
#include "text/escape.h"
#include "container/writer.h"
#include "text/json_text.h"

namespace gguftk {
namespace {

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

using text::append_json_string;
using text::json_string;

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

// NumPy's order: the slowest dimension first, so GGUF's ne reversed.
std::vector<uint64_t> numpy_shape(const TensorInfo& t) {
    std::vector<uint64_t> s;
    for (uint32_t d = t.n_dims; d-- > 0;) s.push_back(t.ne[d]);
    return s;
}

// The shortest decimal text that reads back as the same float (1e-06, not 9.99999997e-07).
std::string float32_text(float f) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, f);
    return std::string(buf, r.ptr);
}

// JSON text of a scalar metadata value (strings included), appended to `out`.
void append_scalar_json(std::string& out, const Value& v) {
    switch (v.type) {
        case ValueType::UINT8: case ValueType::UINT16: case ValueType::UINT32: case ValueType::UINT64:
            out += std::to_string(v.u);
            return;
        case ValueType::INT8: case ValueType::INT16: case ValueType::INT32: case ValueType::INT64:
            out += std::to_string(v.i);
            return;
        case ValueType::BOOL: out += v.u ? "true" : "false"; return;
        case ValueType::FLOAT32:
        case ValueType::FLOAT64:
            if (!std::isfinite(v.f)) {  // JSON has no NaN or infinity: gguftk's one spelling of them
                out += '"';
                out += json_nonfinite(v.f);
                out += '"';
                return;
            }
            out += v.type == ValueType::FLOAT32 ? float32_text(float(v.f)) : text::json_double(v.f);
            return;
        case ValueType::STRING: append_json_string(out, v.s); return;
        case ValueType::ARRAY: break;  // arrays are walked by JsonText
    }
    out += "null";
}

// JSON text of a whole metadata value, arrays walked item by item (GgufFile::visit): neither a
// JSON tree nor the reader's Values of a 150k-entry vocabulary, or of a hostile file's 10^8
// items, is ever built; only the text.
class JsonText final : public ValueVisitor {
public:
    explicit JsonText(std::string& out) : out_(out) {}
    void scalar(const Value& v) override {
        separate();
        append_scalar_json(out_, v);
    }
    void begin_array(ValueType, uint64_t) override {
        separate();
        out_ += '[';
        items_.push_back(0);
    }
    void end_array() override {
        out_ += ']';
        items_.pop_back();
    }

private:
    void separate() {
        if (!items_.empty() && items_.back()++) out_ += ',';
    }
    std::string& out_;
    std::vector<uint64_t> items_;  // items written so far in each open array
};

void append_json(std::string& out, const GgufFile& in, const KeyValue& kv) {
    JsonText text(out);
    in.visit(kv, text);
}

// safetensors' __metadata__ holds strings only: strings as they are, numbers as text, arrays as JSON.
std::string value_text(const GgufFile& in, const KeyValue& kv) {
    if (kv.type == ValueType::ARRAY) {
        std::string s;
        append_json(s, in, kv);
        return s;
    }
    const Value v = in.value(kv);
    switch (v.type) {
        case ValueType::STRING: return v.s;
        case ValueType::FLOAT32: case ValueType::FLOAT64:
            if (!std::isfinite(v.f)) return std::string(json_nonfinite(v.f));
            [[fallthrough]];
        default: {
            std::string s;
            append_scalar_json(s, v);
            return s;
        }
    }
}

// The metadata entries an output of the whole model carries: the first file's, less the split.*
// keys when the model is split and the output is not.
bool carried(std::span<const GgufFile* const> inputs, const KeyValue& kv) {
    return inputs.size() == 1 || !is_split_key(kv.key);
}

// The metadata as one JSON object's text, decoding one entry at a time.
std::string metadata_json(std::span<const GgufFile* const> inputs) {
    const GgufFile& in = *inputs[0];
    std::string out = "{";
    for (const KeyValue& kv : in.metadata()) {
        if (!carried(inputs, kv)) continue;
        if (out.size() > 1) out += ",";
        out += "\n  " + json_string(kv.key) + ": ";
        append_json(out, in, kv);
    }
    out += out.size() == 1 ? "}" : "\n }";
    return out;
}

const char* npy_descr(GgmlType t) {
    switch (t) {
        case GgmlType::F32: return "<f4";
        case GgmlType::F16: return "<f2";
        case GgmlType::F64: return "<f8";
        case GgmlType::I8: return "|i1";
        case GgmlType::I16: return "<i2";
        case GgmlType::I32: return "<i4";
        case GgmlType::I64: return "<i8";
        default: throw Error("no NumPy type for " + std::string(type_info(t).name));
    }
}

const char* dtype_name(GgmlType t) {  // NumPy's names, for the manifest
    switch (t) {
        case GgmlType::F32: return "float32";
        case GgmlType::F16: return "float16";
        case GgmlType::BF16: return "bfloat16";
        case GgmlType::F64: return "float64";
        case GgmlType::I8: return "int8";
        case GgmlType::I16: return "int16";
        case GgmlType::I32: return "int32";
        case GgmlType::I64: return "int64";
        default: throw Error("no plain dtype for " + std::string(type_info(t).name));
    }
}

const char* safetensors_dtype(GgmlType t) {
    switch (t) {
        case GgmlType::F32: return "F32";
        case GgmlType::F16: return "F16";
        case GgmlType::BF16: return "BF16";
        case GgmlType::F64: return "F64";
        case GgmlType::I8: return "I8";
        case GgmlType::I16: return "I16";
        case GgmlType::I32: return "I32";
        case GgmlType::I64: return "I64";
        default: throw Error("no safetensors dtype for " + std::string(type_info(t).name));
    }
}

// A file name for a tensor name: tensor names are data from the file (they may hold '/' or
// "..", or collide once cleaned), so only [A-Za-z0-9._-] survive and duplicates get a suffix.
std::string file_name_for(const std::string& tensor, const char* ext, std::set<std::string>& taken) {
    std::string base;
    for (char c : tensor.substr(0, 200)) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '.' || c == '_' || c == '-';
        base += ok ? c : '_';
    }
    if (base.empty() || base[0] == '.') base = "_" + base;
    std::string name = base + ext;
    for (int n = 2; !taken.insert(name).second; ++n) name = base + "~" + std::to_string(n) + ext;
    return name;
}

// --- GGUF ------------------------------------------------------------------------------------

// general.file_type (llama_ftype) for a file whose quantized tensors all became `t`.
uint32_t ftype_of(OutType t) {
    switch (t) {
        case OutType::F32: return 0;   // ALL_F32
        case OutType::F16: return 1;   // MOSTLY_F16
        case OutType::BF16: return 32; // MOSTLY_BF16
    }
    return 1;
}

// The GGUF output: one file, or one per input shard (OutputLayout::Shards), each shard's tensors
// and metadata in its own file so that the split.* keys stay true.
std::vector<OutputFile> layout_gguf(std::span<const GgufFile* const> inputs, const ConvertOptions& opts,
                                    OutputLayout layout, const TensorWalk& walk, bool sizes_only) {
    // The file type describes the weights; claim the target only when no quantized tensor is
    // left (with --tensors some may be), and something was actually converted.
    bool any_quantized = false, any_converted = false;
    walk([&](SinkTensor& t) {
        any_quantized |= type_info(t.stored).cls == TypeClass::Quantized;
        any_converted |= t.job.converts();
    });
    const bool set_ftype = any_converted && !any_quantized;

    const size_t n_out = layout == OutputLayout::Shards ? inputs.size() : 1;
    std::vector<GgufHeaderWriter> writers;
    writers.reserve(n_out);
    for (size_t k = 0; k < n_out; ++k) {
        const GgufFile& in = *inputs[k];
        GgufHeaderWriter& w = writers.emplace_back(in.alignment(), sizes_only);
        const auto& kvs = in.metadata();
        // Where general.file_type goes: in its place, or (in the first file only: the one with
        // the model's metadata) after the last general.* entry.
        size_t ft_at = 0;
        bool ft_exists = false;
        for (size_t i = 0; i < kvs.size(); ++i) {
            if (kvs[i].key == "general.file_type") {
                ft_at = i;
                ft_exists = true;
                break;
            }
            if (kvs[i].key.rfind("general.", 0) == 0) ft_at = i + 1;
        }
        const bool ft_here = set_ftype && (ft_exists || k == 0);
        for (size_t i = 0; i <= kvs.size(); ++i) {
            if (ft_here && i == ft_at) w.add_uint32("general.file_type", ftype_of(opts.to));
            if (i == kvs.size()) break;
            if (ft_here && ft_exists && i == ft_at) continue;  // replaced above
            if (n_out == 1 && !carried(inputs, kvs[i])) continue;
            w.add_raw(in.bytes().subspan(kvs[i].offset, kvs[i].end - kvs[i].offset));
        }
    }

    walk([&](SinkTensor& t) {
        t.job.file = n_out == 1 ? 0 : t.job.input;
        t.job.out_offset = writers[t.job.file].add_tensor(t.info->name, std::span(t.info->ne.data(), t.info->n_dims), t.stored);
    });
    std::vector<OutputFile> files(n_out);
    for (size_t k = 0; k < n_out; ++k) {
        if (!sizes_only) files[k].header = writers[k].finish();
        files[k].size = writers[k].header_size() + writers[k].data_size();
    }
    walk([&](SinkTensor& t) { t.job.out_offset += writers[t.job.file].header_size(); });
    return files;
}

// --- safetensors -----------------------------------------------------------------------------

std::vector<OutputFile> layout_safetensors(std::span<const GgufFile* const> inputs, const TensorWalk& walk) {
    const GgufFile& in = *inputs[0];
    // {"__metadata__":{...},"name":{"dtype":...,"shape":[...],"data_offsets":[begin,end]},...}
    std::string json = "{\"__metadata__\":{";
    for (const KeyValue& kv : in.metadata()) {
        if (!carried(inputs, kv)) continue;
        if (json.back() != '{') json += ',';
        json += json_string(kv.key) + ':' + json_string(value_text(in, kv));
    }
    json += '}';
    uint64_t off = 0;
    walk([&](SinkTensor& t) {
        json += ',' + json_string(t.info->name) + ":{\"dtype\":" + json_string(safetensors_dtype(t.stored)) +
                ",\"shape\":[";
        const auto shape = numpy_shape(*t.info);
        for (size_t i = 0; i < shape.size(); ++i) json += (i ? "," : "") + std::to_string(shape[i]);
        json += "],\"data_offsets\":[" + std::to_string(off) + ',' + std::to_string(off + t.job.out_size) + "]}";
        t.job.out_offset = off;
        off += t.job.out_size;
    });
    json += '}';
    json.resize(align_up(json.size(), 8), ' ');  // the data starts 8-byte aligned
    OutputFile f;
    const uint64_t n = json.size();
    for (int i = 0; i < 8; ++i) f.header.push_back(uint8_t(n >> (8 * i)));
    f.header.insert(f.header.end(), json.begin(), json.end());
    f.size = f.header.size() + off;
    walk([&](SinkTensor& t) {
        t.job.file = 0;
        t.job.out_offset += f.header.size();
    });
    return {std::move(f)};
}

// --- npy and raw: a directory with a manifest ------------------------------------------------

std::vector<uint8_t> npy_header(GgmlType t, const std::vector<uint64_t>& shape) {
    std::string dict = std::string("{'descr': '") + npy_descr(t) + "', 'fortran_order': False, 'shape': (";
    for (size_t i = 0; i < shape.size(); ++i) {
        dict += std::to_string(shape[i]);
        dict += shape.size() == 1 ? "," : i + 1 < shape.size() ? ", " : "";  // (3,) but (3, 4)
    }
    dict += ")";
    dict += ", }";
    // Magic, version 1.0, u16 length, then the dict padded with spaces and a newline so the
    // data starts 64-byte aligned, as NumPy writes it.
    const size_t total = align_up(10 + dict.size() + 1, 64);
    dict.resize(total - 10 - 1, ' ');
    dict += '\n';
    std::vector<uint8_t> h = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    h.push_back(uint8_t(dict.size() & 0xff));
    h.push_back(uint8_t(dict.size() >> 8));
    h.insert(h.end(), dict.begin(), dict.end());
    return h;
}

std::vector<OutputFile> layout_directory(std::span<const GgufFile* const> inputs, const ConvertOptions& opts,
                                         const TensorWalk& walk) {
    const bool npy = opts.format == OutputFormat::Npy;
    std::vector<OutputFile> files;
    std::set<std::string> taken = {"manifest.json"};
    // Laid out as nlohmann's dump(1) lays it out, which wrote it before: one space per level.
    std::string text = "{\n \"format\": " + json_string(output_format_name(opts.format)) +
                       ",\n \"byte_order\": \"little\",\n \"source\": " + json_string(inputs[0]->path()) +
                       ",\n \"tensors\": [";
    walk([&](SinkTensor& t) {
        OutputFile f;
        f.name = file_name_for(t.info->name, npy ? ".npy" : ".bin", taken);
        const auto shape = numpy_shape(*t.info);
        if (npy) f.header = npy_header(t.stored, shape);
        f.size = f.header.size() + t.job.out_size;
        t.job.file = uint32_t(files.size());
        t.job.out_offset = f.header.size();
        text += files.empty() ? "\n  {" : ",\n  {";
        text += "\n   \"name\": " + json_string(t.info->name) + ",\n   \"file\": " + json_string(f.name) +
                ",\n   \"dtype\": " + json_string(dtype_name(t.stored)) + ",\n   \"shape\": [";
        for (size_t i = 0; i < shape.size(); ++i) text += (i ? ",\n    " : "\n    ") + std::to_string(shape[i]);
        text += shape.empty() ? "]" : "\n   ]";
        text += ",\n   \"gguf_type\": " + json_string(t.info->type->name) +
                ",\n   \"converted\": " + (t.job.converts() ? "true" : "false") + "\n  }";
        files.push_back(std::move(f));
    });
    text += files.empty() ? "]" : "\n ]";
    text += ",\n \"metadata\": " + metadata_json(inputs) + "\n}\n";
    OutputFile m;
    m.name = "manifest.json";
    m.header = bytes_of(text);
    m.size = m.header.size();
    files.push_back(std::move(m));
    return files;
}

}  // namespace

std::vector<OutputFile> layout_output(std::span<const GgufFile* const> inputs, const ConvertOptions& opts,
                                      OutputLayout layout, const TensorWalk& tensors, bool sizes_only) {
    switch (opts.format) {
        case OutputFormat::Gguf: return layout_gguf(inputs, opts, layout, tensors, sizes_only);
        case OutputFormat::Safetensors: return layout_safetensors(inputs, tensors);
        case OutputFormat::Npy:
        case OutputFormat::Raw: return layout_directory(inputs, opts, tensors);
    }
    throw Error("unknown output format");
}

}  // namespace gguftk
