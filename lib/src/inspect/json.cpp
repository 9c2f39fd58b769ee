// The JSON view: one document, every metadata value complete, for programs.
//
// Strings from the file go through to_valid_utf8 first: JSON text is UTF-8, and a key or value
// holding other bytes would otherwise make the serializer throw. Such bytes become U+FFFD. A
// metadata key or tensor name that needed it also gets its exact bytes ("key_hex", "name_hex"),
// and since two keys differing only in those bytes would now read the same, a replaced key that
// meets one already taken gets " (2)", " (3)", ... so no entry is lost; keys that were valid
// UTF-8 always keep their own name. 64-bit integers are written exactly (nlohmann keeps
// uint64/int64 apart); NaN and infinities have no JSON form and are written as the strings
// "NaN", "Infinity" and "-Infinity", as in every JSON gguftk writes.
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <string_view>

#include "inspect/inspect.h"
#include "inspect/detail.h"
#include "text/ascii.h"
#include "text/json_stream.h"

namespace gguftk {
namespace {

ojson json_value(const Value& v) {
    switch (v.type) {
        case ValueType::UINT8: case ValueType::UINT16: case ValueType::UINT32: case ValueType::UINT64:
            return v.u;
        case ValueType::INT8: case ValueType::INT16: case ValueType::INT32: case ValueType::INT64:
            return v.i;
        case ValueType::FLOAT32: case ValueType::FLOAT64:
            return std::isfinite(v.f) ? ojson(v.f) : ojson(json_nonfinite(v.f));
        case ValueType::BOOL: return v.u != 0;
        case ValueType::STRING: return to_valid_utf8(v.s);
        case ValueType::ARRAY: break;  // never here: JsonStream::metadata_value walks arrays
    }
    return nullptr;
}

// A string's exact bytes, for keys and names that were not UTF-8.
std::string hex(std::string_view s) {
    return hex_bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size(), "");
}

// The element type of the innermost arrays, following the first item down as display_type
// (and gguf-dump) does; null when there is no inner array to follow.
ojson inner_element_type(const GgufFile& f, const KeyValue& kv) {
    const Value v = f.value(kv, 1);
    const Value* cur = &v;
    while (cur->elem_type == ValueType::ARRAY && !cur->items.empty()) cur = &cur->items[0];
    if (cur->elem_type == ValueType::ARRAY) return nullptr;
    return value_type_name(cur->elem_type);
}

ojson tensor_json(const TensorInfo& t) {
    // "shape" in GGUF order (ne0, the row length, first), as gguf-dump gives it;
    // "shape_row_major" as NumPy and PyTorch give it (the reverse).
    ojson shape = ojson::array(), row_major = ojson::array();
    for (uint32_t d = 0; d < t.n_dims; ++d) shape.push_back(t.ne[d]);
    for (uint32_t d = t.n_dims; d-- > 0;) row_major.push_back(t.ne[d]);
    ojson j{{"name", to_valid_utf8(t.name)}, {"type", t.type->name}, {"shape", std::move(shape)},
            {"shape_row_major", std::move(row_major)}, {"elements", t.n_elements}, {"offset", t.offset},
            {"size", t.size}};
    if (!is_valid_utf8(t.name)) j["name_hex"] = hex(t.name);
    return j;
}

// The JSON object keys of the metadata entries that are not UTF-8, by entry: each one's U+FFFD
// form, made distinct from every other key. Keys that are UTF-8 are their own (the reader
// refuses duplicates, so they are distinct) and are not copied: nothing is built unless some
// key needs it.
std::unordered_map<size_t, std::string> replaced_keys(const std::vector<KeyValue>& kvs) {
    std::unordered_map<size_t, std::string> replaced;
    for (size_t k = 0; k < kvs.size(); ++k)
        if (!is_valid_utf8(kvs[k].key)) replaced.emplace(k, std::string());
    if (replaced.empty()) return replaced;
    std::unordered_set<std::string_view> taken;
    for (size_t k = 0; k < kvs.size(); ++k)
        if (!replaced.count(k)) taken.insert(kvs[k].key);
    for (size_t k = 0; k < kvs.size(); ++k) {
        auto it = replaced.find(k);
        if (it == replaced.end()) continue;
        const std::string base = to_valid_utf8(kvs[k].key);
        std::string key = base;
        for (size_t n = 2; taken.count(key); ++n) key = base + " (" + std::to_string(n) + ")";
        it->second = std::move(key);
        taken.insert(it->second);  // views the map's string: node-based, it does not move
    }
    return replaced;
}

// A metadata entry's members before its value: the type, and for arrays the element type(s).
ojson entry_head(const GgufFile& f, const KeyValue& kv) {
    ojson head{{"type", value_type_name(kv.type)}};
    if (kv.type == ValueType::ARRAY) head["element_type"] = value_type_name(kv.elem_type);
    // Arrays of arrays: the innermost arrays' element type, as the text view's [[INT32]].
    if (kv.type == ValueType::ARRAY && kv.elem_type == ValueType::ARRAY)
        head["inner_element_type"] = inner_element_type(f, kv);
    return head;
}

ojson by_type_json(const Inspection& in) {
    ojson by_type = ojson::array();
    const double files_bytes = static_cast<double>(std::max<uint64_t>(in.files_bytes, 1));
    for (const TypeTotal& tt : in.totals.by_type)
        by_type.push_back({{"type", tt.type->name},
                           {"tensors", tt.tensors},
                           {"elements", tt.elements},
                           {"bytes", tt.bytes},
                           {"share", static_cast<double>(tt.bytes) / files_bytes}});
    return by_type;
}

// What gguf-dequant would write, by target type; null when the model cannot be converted.
ojson dequantized_json(const Inspection& in) {
    if (in.dequantized.empty()) return nullptr;
    const auto size = [](const ConversionSize& c) {
        return ojson{{"tensor_bytes", c.tensor_bytes}, {"file_bytes", c.file_bytes}, {"files", c.files}};
    };
    ojson dequantized = ojson::object();
    for (const Dequantized& d : in.dequantized)
        dequantized[std::string(out_type_name(d.to))] = {{"default", size(d.quantized)}, {"all", size(d.all)}};
    return dequantized;
}

// "summary" but for the tensors of each shard, which are streamed after it.
ojson summary_json(const Inspection& in) {
    const Totals& tot = in.totals;
    const auto bpw = tot.bits_per_weight();
    ojson summary{{"tensors", tot.tensors},
                  {"parameters", tot.parameters},
                  {"bytes", tot.bytes},
                  {"bits_per_weight", bpw ? ojson(*bpw) : ojson(nullptr)},
                  {"by_type", by_type_json(in)},
                  {"dequantized", dequantized_json(in)}};
    if (in.dequantized.empty()) summary["not_convertible"] = in.not_convertible;
    if (in.split)
        summary["split"] = {
            {"shard", in.split->index + 1}, {"count", in.split->count}, {"whole_model", in.model_files > 1}};
    return summary;
}

void kv_cache_json(ojson& j, const KvCache& kv) {
    if (!kv.known()) {
        j["kv_cache_bytes"] = nullptr;
        j["kv_cache_unknown"] = to_valid_utf8(kv.unknown);
        return;
    }
    j["kv_cache_bytes"] = kv.bytes();
    j["kv_cache"] = {{"layers", kv.layers},        {"sliding_window_layers", kv.swa_layers},
                     {"sliding_window", kv.window}, {"cells", kv.cells},
                     {"sliding_window_cells", kv.swa_cells}, {"k_bytes", kv.k_bytes},
                     {"v_bytes", kv.v_bytes}};
}

// The weights as stored and as gguf-dequant writes them (null when the model cannot be
// converted), alone and (when the KV cache is known) with it.
void weights_json(ojson& j, const Memory& m) {
    const KvCache& kv = m.kv;
    ojson weights{{"stored", m.weights_stored}}, plus_kv{{"stored", nullptr}};
    for (const auto& [to, w] : inspect_detail::dequantized_weights(m))
        weights[std::string(out_type_name(to))] = w ? ojson(*w) : ojson(nullptr);
    if (kv.known()) {
        for (auto& [name, w] : weights.items())
            plus_kv[name] = w.is_null() ? ojson(nullptr) : ojson(inspect_detail::saturating_add(w.get<uint64_t>(), kv.bytes()));
    }
    j["weights_bytes"] = std::move(weights);
    if (kv.known()) j["weights_plus_kv_bytes"] = std::move(plus_kv);
}

ojson memory_json(const Memory& m) {
    ojson j{{"ctx", m.ctx}, {"kv_type", text::ascii_lowered(m.kv_type->name)}};
    kv_cache_json(j, m.kv);
    weights_json(j, m);
    return j;
}

// One document, in the sections' shared order (inspect/detail.h). Streamed: the values and the
// tensor table are as large as the file makes them.
class JsonView {
public:
    JsonView(const Inspection& in, const InspectOptions& opts, const TextSink& sink)
        : in_(in), opts_(opts), f_(*in.file), out_(sink) {}

    void header() {
        out_.begin_object();
        out_.members(file_summary_json(f_));
    }

    void metadata() {
        out_.key("metadata");
        out_.begin_object();
        const std::vector<KeyValue>& kvs = opts_.metadata ? f_.metadata() : std::vector<KeyValue>{};
        const std::unordered_map<size_t, std::string> replaced = replaced_keys(kvs);
        for (size_t k = 0; k < kvs.size(); ++k) {
            const auto it = replaced.find(k);
            entry(kvs[k], it == replaced.end() ? nullptr : &it->second);
        }
        out_.end_object();
    }

    void tensors() {
        std::vector<const TensorInfo*> tensors;
        if (opts_.tensors)
            for (const TensorRow& r : in_.rows)
                if (r.file == &f_) tensors.push_back(r.tensor);
        out_.key("tensors");
        tensor_list(tensors);
    }

    void summary() {
        out_.key("summary");
        out_.begin_object();
        out_.members(summary_json(in_));
        if (in_.shards_listed) {
            out_.key("shards");
            out_.array(in_.shard_names.size(), [&](uint64_t k) { shard(k); });
        }
        out_.end_object();
    }

    void memory() {
        if (!in_.memory) return;
        out_.key("memory");
        out_.value(memory_json(*in_.memory));
    }

    // How a remote file was read comes last here; the text views give it with the header.
    void end() {
        if (in_.remote) {
            out_.key("remote");
            out_.value(ojson{{"bytes_fetched", in_.remote->bytes},
                             {"requests", in_.remote->requests},
                             {"redirects", in_.remote->redirects}});
        }
        out_.end_object();
        out_.finish();
    }

private:
    // A metadata entry; `replaced` is its key made UTF-8 and distinct, when its own is not UTF-8.
    void entry(const KeyValue& kv, const std::string* replaced) {
        out_.key(replaced ? *replaced : kv.key);
        out_.begin_object();
        out_.members(entry_head(f_, kv));
        out_.key("value");
        out_.metadata_value(f_, kv, json_value);
        if (replaced) {
            out_.key("key_hex");
            out_.value(hex(kv.key));
        }
        out_.end_object();
    }

    void tensor_list(const std::vector<const TensorInfo*>& ts) {
        out_.array(ts.size(), [&](uint64_t i) { out_.value(tensor_json(*ts[i])); });
    }

    void shard(uint64_t k) {
        std::vector<const TensorInfo*> ts;
        for (const TensorRow& r : in_.rows)
            if (r.shard == k + 1) ts.push_back(r.tensor);
        out_.begin_object();
        out_.key("file");
        out_.value(to_valid_utf8(in_.shard_names[k]));
        out_.key("tensors");
        tensor_list(ts);
        out_.end_object();
    }

    const Inspection& in_;
    const InspectOptions& opts_;
    const GgufFile& f_;
    JsonStream out_;
};

}  // namespace

void render_json(const Inspection& in, const InspectOptions& opts, const std::function<void(std::string_view)>& sink) {
    JsonView view(in, opts, sink);
    inspect_detail::write_sections(view);
}

std::string render_json(const Inspection& in, const InspectOptions& opts) {
    return collect([&](const TextSink& sink) { render_json(in, opts, sink); });
}

}  // namespace gguftk
