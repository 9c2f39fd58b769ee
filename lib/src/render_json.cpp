// The JSON view: one document, every metadata value complete, for programs.
//
// Strings from the file go through to_valid_utf8 first: JSON text is UTF-8, and a key or value
// holding other bytes would otherwise make the serializer throw. Such bytes become U+FFFD. A
// metadata key or tensor name that needed it also gets its exact bytes ("key_hex", "name_hex"),
// and since two keys differing only in those bytes would now read the same, a replaced key that
// meets one already taken gets " (2)", " (3)", ... so no entry is lost; keys that were valid
// UTF-8 always keep their own name. 64-bit integers are written exactly (nlohmann keeps
// uint64/int64 apart); NaN and infinities have no JSON form and are written as null.
#include <nlohmann/json.hpp>

#include <cmath>
#include <set>
#include <string_view>

#include "gguftk/render.h"

namespace gguftk {
namespace {

using ojson = nlohmann::ordered_json;

ojson json_value(const Value& v) {
    switch (v.type) {
        case ValueType::UINT8: case ValueType::UINT16: case ValueType::UINT32: case ValueType::UINT64:
            return v.u;
        case ValueType::INT8: case ValueType::INT16: case ValueType::INT32: case ValueType::INT64:
            return v.i;
        case ValueType::FLOAT32: case ValueType::FLOAT64:
            return std::isfinite(v.f) ? ojson(v.f) : ojson(nullptr);
        case ValueType::BOOL: return v.u != 0;
        case ValueType::STRING: return to_valid_utf8(v.s);
        case ValueType::ARRAY: {
            ojson a = ojson::array();
            for (const Value& item : v.items) a.push_back(json_value(item));
            return a;
        }
    }
    return nullptr;
}

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

ojson tensor_json(const TensorInfo& t) {
    ojson shape = ojson::array();
    for (uint32_t d = 0; d < t.n_dims; ++d) shape.push_back(t.ne[d]);
    ojson j{{"name", to_valid_utf8(t.name)}, {"type", t.type->name}, {"shape", std::move(shape)},
            {"elements", t.n_elements},      {"offset", t.offset},   {"size", t.size}};
    if (!is_valid_utf8(t.name)) j["name_hex"] = hex(t.name);
    return j;
}

// The JSON object key of each metadata entry, in file order: the key itself when it is UTF-8
// (the reader refuses duplicates, so these are distinct), else its U+FFFD form made distinct
// from every other key.
std::vector<std::string> json_keys(const std::vector<KeyValue>& kvs) {
    std::set<std::string> taken;
    for (const KeyValue& kv : kvs)
        if (is_valid_utf8(kv.key)) taken.insert(kv.key);
    std::vector<std::string> keys;
    keys.reserve(kvs.size());
    for (const KeyValue& kv : kvs) {
        if (is_valid_utf8(kv.key)) {
            keys.push_back(kv.key);
            continue;
        }
        const std::string base = to_valid_utf8(kv.key);
        std::string key = base;
        for (size_t n = 2; taken.count(key); ++n) key = base + " (" + std::to_string(n) + ")";
        taken.insert(key);
        keys.push_back(std::move(key));
    }
    return keys;
}

}  // namespace

std::string render_json(const Inspection& in, const InspectOptions& opts) {
    const GgufFile& f = *in.file;
    ojson doc;
    doc["file"] = to_valid_utf8(f.path());
    doc["version"] = f.version();
    doc["endian"] = f.big_endian() ? "big" : "little";
    doc["alignment"] = f.alignment();
    doc["data_offset"] = f.data_offset();
    doc["file_size"] = f.file_size();

    ojson metadata = ojson::object();
    if (opts.metadata) {
        const std::vector<std::string> keys = json_keys(f.metadata());
        size_t k = 0;
        for (const KeyValue& kv : f.metadata()) {
            ojson e;
            e["type"] = value_type_name(kv.type);
            if (kv.type == ValueType::ARRAY) e["element_type"] = value_type_name(kv.elem_type);
            e["value"] = json_value(f.value(kv));  // one entry decoded at a time
            if (!is_valid_utf8(kv.key)) e["key_hex"] = hex(kv.key);
            metadata[keys[k++]] = std::move(e);
        }
    }
    doc["metadata"] = std::move(metadata);

    ojson tensors = ojson::array();
    if (opts.tensors)
        for (const TensorRow& r : in.rows)
            if (r.file == &f) tensors.push_back(tensor_json(*r.tensor));
    doc["tensors"] = std::move(tensors);

    const Totals& tot = in.totals;
    ojson by_type = ojson::array();
    for (const TypeTotal& tt : tot.by_type)
        by_type.push_back({{"type", tt.type->name},
                           {"tensors", tt.tensors},
                           {"elements", tt.elements},
                           {"bytes", tt.bytes},
                           {"share", static_cast<double>(tt.bytes) / static_cast<double>(std::max<uint64_t>(in.files_bytes, 1))}});
    ojson summary{{"tensors", tot.tensors},
                  {"parameters", tot.parameters},
                  {"bytes", tot.bytes},
                  {"bits_per_weight", tot.bits_per_weight()},
                  {"f16_bytes", tot.f16_bytes()},
                  {"f32_bytes", tot.f32_bytes()},
                  {"by_type", std::move(by_type)}};
    if (in.split) summary["split"] = {{"shard", in.split->index + 1}, {"count", in.split->count}};
    if (in.shards_listed) {
        ojson shards = ojson::array();
        for (size_t k = 0; k < in.shard_names.size(); ++k) {
            ojson ts = ojson::array();
            for (const TensorRow& r : in.rows)
                if (r.shard == k + 1) ts.push_back(tensor_json(*r.tensor));
            shards.push_back({{"file", to_valid_utf8(in.shard_names[k])}, {"tensors", std::move(ts)}});
        }
        summary["shards"] = std::move(shards);
    }
    doc["summary"] = std::move(summary);
    return doc.dump(2) + "\n";
}

}  // namespace gguftk
