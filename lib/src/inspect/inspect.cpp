// What the text, Markdown and JSON views share: selecting tensors, totals, split models,
// and formatting values for people.
#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "container/file_types.h"
#include "inspect/inspect.h"
#include "container/names.h"
#include "inspect/detail.h"

namespace gguftk {

namespace {
// Totals stop at 2^64 - 1 rather than wrapping to a small number (inspect_detail::saturating_add).
void add_to(uint64_t& total, uint64_t v) { total = inspect_detail::saturating_add(total, v); }

void add_dequantized(Inspection& in, const GgufModel& model) {
    try {
        for (OutType to : {OutType::F16, OutType::BF16, OutType::F32}) {
            ConvertOptions o;
            o.to = to;
            Dequantized d;
            d.to = to;
            d.quantized = conversion_size(model, o);
            o.all_floats = true;
            d.all = conversion_size(model, o);
            in.dequantized.push_back(d);
        }
    } catch (const Error& e) {
        in.dequantized.clear();
        in.not_convertible = e.what();
    }
}
}  // namespace

namespace {

void add_transfer(Inspection& in, const GgufFile& g) {
    const Source* s = g.source();
    if (!s) return;
    const Transfer t = s->transfer();
    Transfer& sum = in.remote ? *in.remote : in.remote.emplace();
    sum.bytes += t.bytes;
    sum.requests += t.requests;
    sum.redirects += t.redirects;
}

void add_tensor(Inspection& in, std::map<uint32_t, TypeTotal>& by_type, const TensorInfo& t) {
    TypeTotal& tt = by_type[static_cast<uint32_t>(t.type->type)];
    tt.type = t.type;
    ++tt.tensors;
    add_to(tt.elements, t.n_elements);
    add_to(tt.bytes, t.size);
    ++in.totals.tensors;
    add_to(in.totals.parameters, t.n_elements);
    add_to(in.totals.bytes, t.size);
}

// The tensors selected, listed (those of the given file, or of every shard with --shards) and
// summed by type over the whole model.
void add_tensors(Inspection& in, const GgufModel& model, const InspectOptions& opts) {
    std::map<uint32_t, TypeTotal> by_type;
    TensorGlobs selection(opts.tensor_globs);
    const auto& files = model.files();
    for (size_t k = 0; k < files.size(); ++k) {
        const GgufFile* g = files[k];
        const bool listed = in.shards_listed || g == in.file;
        add_to(in.files_bytes, g->file_size());
        add_transfer(in, *g);
        if (in.shards_listed) in.shard_names.push_back(g->path());
        for (const TensorInfo& t : g->tensors()) {
            if (!selection.select(t.name) || (opts.type && t.type != opts.type)) continue;
            if (listed) in.rows.push_back({g, &t, in.shards_listed ? static_cast<uint32_t>(k + 1) : 0});
            add_tensor(in, by_type, t);
        }
    }
    require_matched(selection, model);
    for (auto& [id, tt] : by_type) in.totals.by_type.push_back(tt);
    std::stable_sort(in.totals.by_type.begin(), in.totals.by_type.end(),
                     [](const TypeTotal& a, const TypeTotal& b) { return a.bytes > b.bytes; });
}

// What the model needs in memory at a context: its weights (stored and dequantized) and KV cache.
Memory memory_at(const Inspection& in, const GgufModel& model, const InspectOptions& opts) {
    Memory m;
    m.ctx = *opts.ctx;
    m.kv_type = opts.kv_type;
    m.kv = kv_cache(*model.files().front(), m.ctx, *opts.kv_type);  // shard 1 holds a split model's metadata
    for (const GgufFile* g : model.files())
        for (const TensorInfo& t : g->tensors())  // shards of a hostile split model may claim 2^64 between them
            add_to(m.weights_stored, t.size);
    for (const Dequantized& d : in.dequantized) {
        auto& slot = d.to == OutType::F16 ? m.weights_f16 : d.to == OutType::BF16 ? m.weights_bf16 : m.weights_f32;
        slot = d.quantized.tensor_bytes;
    }
    m.one_shard = in.split && in.model_files == 1;
    return m;
}

}  // namespace

Inspection inspect(const GgufModel& model, const InspectOptions& opts) {
    Inspection in;
    in.file = &model.given();
    in.split = split_info(*in.file);
    in.model_files = model.files().size();
    in.shards_listed = opts.shards && model.split();
    add_tensors(in, model, opts);
    add_dequantized(in, model);
    if (opts.ctx) in.memory = memory_at(in, model, opts);
    return in;
}

Inspection inspect(const GgufFile& f, const InspectOptions& opts) { return inspect(GgufModel::of(f), opts); }

std::string remote_line(const Transfer& t) {
    std::string s = fmt::format("remote: fetched {} bytes ({}) in {} request{}", t.bytes, human_bytes(t.bytes),
                                t.requests, t.requests == 1 ? "" : "s");
    if (t.redirects) s += fmt::format(", after {} redirect{}", t.redirects, t.redirects == 1 ? "" : "s");
    return s;
}

namespace inspect_detail {

std::array<std::pair<OutType, std::optional<uint64_t>>, 3> dequantized_weights(const Memory& m) {
    return {{{OutType::F16, m.weights_f16}, {OutType::BF16, m.weights_bf16}, {OutType::F32, m.weights_f32}}};
}

std::string file_type_note(const GgufFile& f, const KeyValue& kv) {
    if (kv.key != "general.file_type") return "";
    // This entry's own value: a file may hold the key twice.
    const bool is_uint = kv.type == ValueType::UINT8 || kv.type == ValueType::UINT16 || kv.type == ValueType::UINT32 ||
                         kv.type == ValueType::UINT64;
    const bool is_int = kv.type == ValueType::INT8 || kv.type == ValueType::INT16 || kv.type == ValueType::INT32 ||
                        kv.type == ValueType::INT64;
    if (!is_uint && !is_int) return "";
    const Value v = f.value(kv);
    const int64_t n = is_uint ? (v.u <= UINT32_MAX ? static_cast<int64_t>(v.u) : -1) : v.i;
    const FileType* t = n >= 0 && n <= UINT32_MAX ? find_file_type(static_cast<uint32_t>(n)) : nullptr;
    return t ? fmt::format(" ({})", t->name) : "";
}

std::string bpw_text(const TensorInfo& t) {
    return t.n_elements ? fmt::format("{:.2f}", 8.0 * static_cast<double>(t.size) / t.n_elements) : "-";
}

std::string share_text(const TypeTotal& tt, const Inspection& in) {
    return fmt::format("{:.1f}%", 100.0 * static_cast<double>(tt.bytes) /
                                      static_cast<double>(std::max<uint64_t>(in.files_bytes, 1)));
}

std::string memory_title(const Memory& m) {
    return fmt::format("Memory (a context of {} tokens, KV cache {})", m.ctx, m.kv_type->name);
}

std::vector<std::pair<std::string, std::string>> memory_rows(const Memory& m) {
    const auto bytes = [](uint64_t n) { return fmt::format("{} bytes ({})", n, human_bytes(n)); };
    std::vector<std::pair<std::string, std::string>> rows;
    rows.emplace_back("weights as stored",
                      bytes(m.weights_stored) + (m.one_shard ? " (this shard's alone: --shard-only)" : ""));
    for (const auto& [to, w] : dequantized_weights(m))
        if (w) rows.emplace_back(fmt::format("weights --to {}", out_type_name(to)), bytes(*w));
    if (!m.kv.known()) {
        rows.emplace_back("KV cache", m.kv.unknown);
        return rows;
    }
    const KvCache& kv = m.kv;
    const auto layers = [](uint64_t n) { return fmt::format("{} layer{}", n, n == 1 ? "" : "s"); };
    std::string how = fmt::format("{} x {} tokens", layers(kv.layers - kv.swa_layers), kv.cells);
    if (kv.swa_layers) how += fmt::format(" + {} with a sliding window x {} tokens", layers(kv.swa_layers), kv.swa_cells);
    rows.emplace_back("KV cache", fmt::format("{}: {}", bytes(kv.bytes()), how));
    const auto plus_kv = [&](uint64_t w) { return bytes(saturating_add(w, kv.bytes())); };
    rows.emplace_back("as stored + KV cache", plus_kv(m.weights_stored));
    for (const auto& [to, w] : dequantized_weights(m))
        if (w) rows.emplace_back(fmt::format("--to {} + KV cache", out_type_name(to)), plus_kv(*w));
    return rows;
}

}  // namespace inspect_detail

std::string shape_string(const TensorInfo& t) {
    std::string s;
    for (uint32_t d = 0; d < t.n_dims; ++d) s += fmt::format("{}{}", d ? " x " : "", t.ne[d]);
    return s;
}

std::string human_bytes(uint64_t n) {
    static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (n < 1024) return fmt::format("{} B", n);
    double v = static_cast<double>(n);
    int u = -1;
    while (v >= 1024 && u < 5) v /= 1024, ++u;
    return fmt::format("{:.1f} {}", v, kUnits[u]);
}

namespace {
std::string display_scalar(const Value& v, const InspectOptions& opts, EscapeFor how) {
    switch (v.type) {
        case ValueType::UINT8: case ValueType::UINT16: case ValueType::UINT32: case ValueType::UINT64:
            return std::to_string(v.u);
        case ValueType::INT8: case ValueType::INT16: case ValueType::INT32: case ValueType::INT64:
            return std::to_string(v.i);
        // FLOAT32 values are shown at float precision: 0.001, not 0.0010000000474974513.
        case ValueType::FLOAT32: return fmt::format("{}", static_cast<float>(v.f));
        case ValueType::FLOAT64: return fmt::format("{}", v.f);
        case ValueType::BOOL: return v.u ? "true" : "false";
        case ValueType::STRING: {
            std::string s = escape(v.s, how, opts.max_string_bytes);
            std::string q = "\"";
            for (char c : s) q += c == '"' ? std::string("\\\"") : std::string(1, c);
            q += '"';
            if (v.s.size() > opts.max_string_bytes) q += fmt::format(" ({} bytes)", v.s.size());
            return q;
        }
        case ValueType::ARRAY: break;
    }
    return {};
}
}  // namespace

std::string display_value(const Value& v, const InspectOptions& opts, EscapeFor how) {
    // Markdown shows exactly the text view's text (its quotes and escapes included), escaped.
    if (how == EscapeFor::Markdown) return markdown_text(display_value(v, opts, EscapeFor::Text));
    if (v.type != ValueType::ARRAY) return display_scalar(v, opts, how);
    std::string s = "[";
    const uint64_t shown = std::min<uint64_t>(v.items.size(), opts.max_array_items);
    for (uint64_t i = 0; i < shown; ++i) {
        if (i) s += ", ";
        s += display_value(v.items[i], opts, how);
    }
    if (v.count > shown) s += fmt::format("{}\xe2\x80\xa6 {} more", shown ? ", " : "", v.count - shown);
    s += "]";
    return s;
}

std::string display_type(const GgufFile& f, const KeyValue& kv) {
    if (kv.type != ValueType::ARRAY) return std::string(value_type_name(kv.type));
    // Nested arrays: follow the first item down (items may differ; gguf-dump shows the first too).
    int depth = 1;
    ValueType elem = kv.elem_type;
    if (elem == ValueType::ARRAY && kv.count > 0) {
        Value v = f.value(kv, 1);
        const Value* cur = &v;
        while (cur->elem_type == ValueType::ARRAY && !cur->items.empty()) {
            cur = &cur->items[0];
            ++depth;
        }
        elem = cur->elem_type;
    }
    return std::string(depth, '[') + std::string(value_type_name(elem)) + std::string(depth, ']');
}

}  // namespace gguftk
