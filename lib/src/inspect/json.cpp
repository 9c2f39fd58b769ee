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

#include <cctype>
#include <cmath>
#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <string_view>

#include "gguftk/inspect.h"
#include "inspect/detail.h"
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

}  // namespace

void render_json(const Inspection& in, const InspectOptions& opts, const std::function<void(std::string_view)>& sink) {
    const GgufFile& f = *in.file;
    JsonStream out(sink);
    out.open_object(file_summary_json(f), 0);

    // Streamed: the values and the tensor table are as large as the file makes them.
    out.member("metadata", 0);
    const std::vector<KeyValue>& kvs = opts.metadata ? f.metadata() : std::vector<KeyValue>{};
    if (kvs.empty()) {
        out.raw("{}");
    } else {
        const std::unordered_map<size_t, std::string> replaced = replaced_keys(kvs);
        out.raw("{");
        for (size_t k = 0; k < kvs.size(); ++k) {
            const KeyValue& kv = kvs[k];
            const auto it = replaced.find(k);
            out.raw(k ? ",\n" : "\n");
            out.indent(2);
            out.raw(ojson(it == replaced.end() ? kv.key : it->second).dump());
            out.raw(": ");
            ojson head{{"type", value_type_name(kv.type)}};
            if (kv.type == ValueType::ARRAY) head["element_type"] = value_type_name(kv.elem_type);
            // Arrays of arrays: the innermost arrays' element type, as the text view's [[INT32]].
            if (kv.type == ValueType::ARRAY && kv.elem_type == ValueType::ARRAY)
                head["inner_element_type"] = inner_element_type(f, kv);
            out.open_object(head, 2);
            out.member("value", 2);
            out.metadata_value(f, kv, 3, json_value);
            if (it != replaced.end()) {
                out.member("key_hex", 2);
                out.raw(ojson(hex(kv.key)).dump());
            }
            out.close_object(2);
        }
        out.raw("\n");
        out.indent(1);
        out.raw("}");
    }

    std::vector<const TensorInfo*> tensors;
    if (opts.tensors)
        for (const TensorRow& r : in.rows)
            if (r.file == &f) tensors.push_back(r.tensor);
    out.member("tensors", 0);
    out.array(tensors.size(), 1, [&](uint64_t i) { out.value(tensor_json(*tensors[i]), 2); });

    const Totals& tot = in.totals;
    ojson by_type = ojson::array();
    for (const TypeTotal& tt : tot.by_type)
        by_type.push_back({{"type", tt.type->name},
                           {"tensors", tt.tensors},
                           {"elements", tt.elements},
                           {"bytes", tt.bytes},
                           {"share", static_cast<double>(tt.bytes) / static_cast<double>(std::max<uint64_t>(in.files_bytes, 1))}});
    ojson dequantized = nullptr;
    if (!in.dequantized.empty()) {
        const auto size = [](const ConversionSize& c) {
            return ojson{{"tensor_bytes", c.tensor_bytes}, {"file_bytes", c.file_bytes}, {"files", c.files}};
        };
        dequantized = ojson::object();
        for (const Dequantized& d : in.dequantized)
            dequantized[std::string(out_type_name(d.to))] = {{"default", size(d.quantized)}, {"all", size(d.all)}};
    }
    const auto bpw = tot.bits_per_weight();
    ojson summary{{"tensors", tot.tensors},
                  {"parameters", tot.parameters},
                  {"bytes", tot.bytes},
                  {"bits_per_weight", bpw ? ojson(*bpw) : ojson(nullptr)},
                  {"by_type", std::move(by_type)},
                  {"dequantized", std::move(dequantized)}};
    if (in.dequantized.empty()) summary["not_convertible"] = in.not_convertible;
    if (in.split)
        summary["split"] = {{"shard", in.split->index + 1}, {"count", in.split->count}, {"whole_model", in.model_files > 1}};
    out.member("summary", 0);
    out.open_object(summary, 1);
    if (in.shards_listed) {
        out.member("shards", 1);
        out.array(in.shard_names.size(), 2, [&](uint64_t k) {
            std::vector<const TensorInfo*> ts;
            for (const TensorRow& r : in.rows)
                if (r.shard == k + 1) ts.push_back(r.tensor);
            out.open_object(ojson{{"file", to_valid_utf8(in.shard_names[k])}}, 3);
            out.member("tensors", 3);
            out.array(ts.size(), 4, [&](uint64_t i) { out.value(tensor_json(*ts[i]), 5); });
            out.close_object(3);
        });
    }
    out.close_object(1);
    if (in.memory) {
        const Memory& m = *in.memory;
        const KvCache& kv = m.kv;
        std::string kv_type(m.kv_type->name);
        for (char& c : kv_type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        ojson j{{"ctx", m.ctx}, {"kv_type", kv_type}};
        if (kv.known()) {
            j["kv_cache_bytes"] = kv.bytes();
            j["kv_cache"] = {{"layers", kv.layers},        {"sliding_window_layers", kv.swa_layers},
                             {"sliding_window", kv.window}, {"cells", kv.cells},
                             {"sliding_window_cells", kv.swa_cells}, {"k_bytes", kv.k_bytes},
                             {"v_bytes", kv.v_bytes}};
        } else {
            j["kv_cache_bytes"] = nullptr;
            j["kv_cache_unknown"] = to_valid_utf8(kv.unknown);
        }
        // As stored, and as gguf-dequant writes them (null when the model cannot be converted).
        ojson weights{{"stored", m.weights_stored}}, plus_kv{{"stored", nullptr}};
        for (const auto& [to, w] : inspect_detail::dequantized_weights(m))
            weights[std::string(out_type_name(to))] = w ? ojson(*w) : ojson(nullptr);
        if (kv.known()) {
            for (auto& [name, w] : weights.items()) {
                uint64_t total = 0;
                plus_kv[name] = w.is_null() ? ojson(nullptr)
                                : __builtin_add_overflow(w.get<uint64_t>(), kv.bytes(), &total) ? ojson(UINT64_MAX)
                                                                                                 : ojson(total);
            }
        }
        j["weights_bytes"] = std::move(weights);
        if (kv.known()) j["weights_plus_kv_bytes"] = std::move(plus_kv);
        out.member("memory", 0);
        out.value(j, 1);
    }
    if (in.remote) {
        out.member("remote", 0);
        out.value(ojson{{"bytes_fetched", in.remote->bytes},
                        {"requests", in.remote->requests},
                        {"redirects", in.remote->redirects}},
                  1);
    }
    out.close_object(0);
    out.raw("\n");
    out.flush();
}

std::string render_json(const Inspection& in, const InspectOptions& opts) {
    return collect([&](const TextSink& sink) { render_json(in, opts, sink); });
}

}  // namespace gguftk
