// The KV cache of a model, from its metadata, as llama.cpp lays it out (llama_kv_cache, and
// llama_kv_cache_iswa for sliding-window layers): per layer, one K row of key_length x
// head_count_kv elements and one V row of value_length x head_count_kv elements per cell, rows
// stored in the cache type (whole blocks for Q8_0 and Q4_0). Layers that see the whole context
// have a cell per token; sliding-window layers (gemma2, gemma3) a cell per token of their window.
#include "model/memory.h"

#include "text/escape.h"

#include <algorithm>
#include <array>
#include <optional>
#include <tuple>
#include <vector>

namespace gguftk {
namespace {

// Which layers have a sliding window, as llama.cpp decides for each architecture.
enum class Swa {
    None,    // llama, mistral3, qwen2, qwen3; phi3 too (llama.cpp turns Phi's window off)
    Gemma2,  // every 2nd layer but the last of each pair; window default 4096
    Gemma3,  // 5 of every 6; no window in the metadata: none
};

struct Arch {
    std::string_view name;
    Swa swa;
};
constexpr std::array<Arch, 7> kArchs{{{"llama", Swa::None},
                                      {"mistral3", Swa::None},
                                      {"qwen2", Swa::None},
                                      {"qwen3", Swa::None},
                                      {"gemma2", Swa::Gemma2},
                                      {"gemma3", Swa::Gemma3},
                                      {"phi3", Swa::None}}};

bool mul(uint64_t a, uint64_t b, uint64_t& r) { return !__builtin_mul_overflow(a, b, &r); }
bool add(uint64_t a, uint64_t b, uint64_t& r) { return !__builtin_add_overflow(a, b, &r); }
bool round_up(uint64_t n, uint64_t to, uint64_t& r) {
    if (to <= 1) return r = n, true;
    const uint64_t rem = n % to;
    return rem == 0 ? (r = n, true) : add(n, to - rem, r);
}

// A metadata entry read as one unsigned number, or one per layer. `why` says what was wrong.
struct PerLayer {
    std::optional<uint64_t> one;
    std::vector<uint64_t> each;
    bool present() const { return one || !each.empty(); }
    uint64_t at(uint64_t il) const { return one ? *one : each[il]; }
};

bool is_int(ValueType t) {
    switch (t) {
        case ValueType::UINT8: case ValueType::INT8: case ValueType::UINT16: case ValueType::INT16:
        case ValueType::UINT32: case ValueType::INT32: case ValueType::UINT64: case ValueType::INT64:
        case ValueType::BOOL:
            return true;
        default: return false;
    }
}

std::optional<uint64_t> as_uint(const Value& v) {
    if (!is_int(v.type)) return std::nullopt;
    if (v.type == ValueType::INT8 || v.type == ValueType::INT16 || v.type == ValueType::INT32 ||
        v.type == ValueType::INT64)
        return v.i < 0 ? std::nullopt : std::optional<uint64_t>(static_cast<uint64_t>(v.i));
    return v.u;
}

// `key` as a number, or as an array of `n_layer` numbers; an empty result when absent.
std::optional<PerLayer> per_layer(const GgufFile& f, const std::string& key, uint64_t n_layer, std::string& why) {
    PerLayer p;
    const KeyValue* kv = f.find_key(key);
    if (!kv) return p;
    if (kv->type != ValueType::ARRAY) {
        p.one = as_uint(f.value(*kv));
        if (!p.one) why = key + " is not a whole number";
        return p.one ? std::optional(p) : std::nullopt;
    }
    // One item per layer: the count is the file's, so reading them costs at most the file.
    if (kv->count != n_layer || !is_int(kv->elem_type)) {
        why = key + " holds " + std::to_string(kv->count) + " " + std::string(value_type_name(kv->elem_type)) +
              " items for " + std::to_string(n_layer) + " layers";
        return std::nullopt;
    }
    for (const Value& item : f.value(*kv).items) {
        const auto u = as_uint(item);
        if (!u) {
            why = key + " holds a negative number";
            return std::nullopt;
        }
        p.each.push_back(*u);
    }
    return p;
}

KvCache unknown(KvCache kv, std::string why) {
    kv.unknown = std::move(why);
    kv.k_bytes = kv.v_bytes = kv.swa_k_bytes = kv.swa_v_bytes = 0;
    return kv;
}

// Why the cache is not known, from the step that found it: kv_cache() returns what the steps
// before had filled in, with this reason.
struct NotKnown {
    std::string why;
};

const char* const kTooLarge = "the KV cache would take more than 2^64 bytes";

// What the metadata says of the attention, for the cache.
struct Attention {
    const Arch* arch = nullptr;
    std::string prefix;              // "qwen2."
    PerLayer heads, heads_kv;
    uint64_t head_k = 0, head_v = 0;  // a head's width in elements
    std::optional<PerLayer> swa;      // the sliding-window layers: a pattern n, or a flag per layer
};

// The architecture and block_count (into kv); a known architecture's entry.
const Arch& architecture(const GgufFile& f, KvCache& kv, std::string& prefix) {
    const std::optional<std::string> name = f.get_string("general.architecture");
    if (!name) throw NotKnown{"general.architecture missing"};
    kv.architecture = *name;
    const auto arch = std::find_if(kArchs.begin(), kArchs.end(), [&](const Arch& a) { return a.name == *name; });
    if (arch == kArchs.end()) throw NotKnown{"not known for architecture " + quoted_name(*name)};
    prefix = *name + ".";
    const std::optional<uint64_t> n_layer = f.get_uint(prefix + "block_count");
    if (!n_layer) throw NotKnown{prefix + "block_count missing"};
    kv.layers = *n_layer;
    return *arch;
}

PerLayer per_layer_or_throw(const GgufFile& f, const std::string& key, uint64_t n_layer) {
    std::string why;
    const std::optional<PerLayer> p = per_layer(f, key, n_layer, why);
    if (!p) throw NotKnown{why};
    return *p;
}

void head_counts(const GgufFile& f, const KvCache& kv, Attention& a) {
    a.heads = per_layer_or_throw(f, a.prefix + "attention.head_count", kv.layers);
    a.heads_kv = per_layer_or_throw(f, a.prefix + "attention.head_count_kv", kv.layers);
    if (!a.heads_kv.present()) a.heads_kv = a.heads;  // llama.cpp: as many KV heads as heads
    if (!a.heads_kv.present()) throw NotKnown{a.prefix + "attention.head_count missing"};
}

// A head's width: key_length / value_length, else embedding_length / head_count (layer 0's); in
// whole blocks of the cache's type.
void head_widths(const GgufFile& f, const KvCache& kv, const TypeInfo& type, Attention& a) {
    std::optional<uint64_t> head_k = f.get_uint(a.prefix + "attention.key_length");
    std::optional<uint64_t> head_v = f.get_uint(a.prefix + "attention.value_length");
    if (!head_k || !head_v) {
        const std::optional<uint64_t> n_embd = f.get_uint(a.prefix + "embedding_length");
        if (!n_embd) throw NotKnown{a.prefix + "embedding_length missing"};
        if (!a.heads.present() || kv.layers == 0 || a.heads.at(0) == 0)
            throw NotKnown{a.prefix + "attention.head_count missing or 0"};
        if (!head_k) head_k = *n_embd / a.heads.at(0);
        if (!head_v) head_v = *n_embd / a.heads.at(0);
    }
    a.head_k = *head_k;
    a.head_v = *head_v;
    if (type.block_elems > 1 && (a.head_k % type.block_elems || a.head_v % type.block_elems))
        throw NotKnown{"a " + std::string(type.name) + " cache needs heads of a multiple of " +
                       std::to_string(type.block_elems) + " elements; this model's are " + std::to_string(a.head_k) +
                       " (K) and " + std::to_string(a.head_v) + " (V)"};
}

// Sliding-window layers: a pattern n (layer il has a window when il % n < n - 1; 0: all), or one
// flag per layer. Sets kv's window and swa_layers.
void sliding_windows(const GgufFile& f, KvCache& kv, Attention& a) {
    if (a.arch->swa != Swa::None) {
        const std::optional<uint64_t> window = f.get_uint(a.prefix + "attention.sliding_window");
        kv.window = window ? *window : a.arch->swa == Swa::Gemma2 ? 4096 : 0;
        if (kv.window > 0) {
            a.swa = per_layer_or_throw(f, a.prefix + "attention.sliding_window_pattern", kv.layers);
            if (!a.swa->present()) a.swa->one = a.arch->swa == Swa::Gemma2 ? 2 : 6;
        }
    }
    if (a.swa && a.swa->one) {  // counted, not walked: block_count is any number a file says
        const uint64_t n = *a.swa->one;
        kv.swa_layers = n == 0 ? kv.layers : kv.layers / n * (n - 1) + std::min(kv.layers % n, n - 1);
    } else if (a.swa) {
        const auto& each = a.swa->each;
        kv.swa_layers = static_cast<uint64_t>(std::count_if(each.begin(), each.end(), [](uint64_t v) { return v; }));
    }
    if (kv.swa_layers == 0) kv.window = 0;
}

bool is_swa(const Attention& a, uint64_t il) {
    if (!a.swa) return false;
    if (!a.swa->one) return a.swa->each[il] != 0;
    const uint64_t n = *a.swa->one;
    return n == 0 || il % n < n - 1;
}

void count_cells(KvCache& kv, uint64_t n_ctx, const KvLayout& layout) {
    if (!round_up(n_ctx, layout.pad, kv.cells)) throw NotKnown{kTooLarge};
    if (kv.swa_layers) {
        uint64_t held = 0;
        if (!add(kv.window, layout.ubatch, held) || !round_up(held, layout.pad, held)) held = UINT64_MAX;
        kv.swa_cells = layout.swa_full ? kv.cells : std::min(kv.cells, held);
    }
}

// Adds to `sum` the bytes of a layer's rows of head x n_heads elements for `cells` cells; n is a
// whole number of blocks (head_widths checked). False on overflow.
bool add_layer(const TypeInfo& type, uint64_t head, uint64_t n_heads, uint64_t cells, uint64_t& sum) {
    uint64_t n = 0, row = 0, b = 0;
    return mul(head, n_heads, n) && mul(n / type.block_elems, type.block_bytes, row) && mul(row, cells, b) &&
           add(sum, b, sum);
}

// One KV head count for all layers: the full and the sliding-window layers counted, not walked.
void count_bytes_uniform(KvCache& kv, const Attention& a, const TypeInfo& type) {
    const uint64_t full = kv.layers - kv.swa_layers, n_heads = *a.heads_kv.one;
    for (auto [head, out, swa_out] : {std::tuple{a.head_k, &kv.k_bytes, &kv.swa_k_bytes},
                                      std::tuple{a.head_v, &kv.v_bytes, &kv.swa_v_bytes}}) {
        uint64_t per_full = 0;
        if (!add_layer(type, head, n_heads, kv.cells, per_full) ||
            !add_layer(type, head, n_heads, kv.swa_cells, *swa_out) || !mul(per_full, full, per_full) ||
            !mul(*swa_out, kv.swa_layers, *swa_out) || !add(per_full, *swa_out, *out))
            throw NotKnown{kTooLarge};
    }
}

// One count per layer: as many items as layers, all in the file.
void count_bytes_per_layer(KvCache& kv, const Attention& a, const TypeInfo& type) {
    for (uint64_t il = 0; il < kv.layers; ++il) {
        const bool w = is_swa(a, il);
        const uint64_t cells = w ? kv.swa_cells : kv.cells, n_heads = a.heads_kv.at(il);
        if (!add_layer(type, a.head_k, n_heads, cells, kv.k_bytes) ||
            !add_layer(type, a.head_v, n_heads, cells, kv.v_bytes) ||
            (w && (!add_layer(type, a.head_k, n_heads, cells, kv.swa_k_bytes) ||
                   !add_layer(type, a.head_v, n_heads, cells, kv.swa_v_bytes))))
            throw NotKnown{kTooLarge};
    }
}

}  // namespace

const TypeInfo* kv_cache_type(std::string_view name) {
    const TypeInfo* t = find_type(name);
    if (!t) return nullptr;
    for (std::string_view ok : {"F32", "F16", "BF16", "Q8_0", "Q4_0"})
        if (t->name == ok) return t;
    return nullptr;
}

KvCache kv_cache(const GgufFile& f, uint64_t n_ctx, const TypeInfo& type, const KvLayout& layout) {
    KvCache kv;
    try {
        Attention a;
        a.arch = &architecture(f, kv, a.prefix);
        head_counts(f, kv, a);
        head_widths(f, kv, type, a);
        sliding_windows(f, kv, a);
        count_cells(kv, n_ctx, layout);
        if (a.heads_kv.one) count_bytes_uniform(kv, a, type);
        else count_bytes_per_layer(kv, a, type);
        if (uint64_t total = 0; !add(kv.k_bytes, kv.v_bytes, total)) throw NotKnown{kTooLarge};
    } catch (const NotKnown& e) {
        return unknown(kv, e.why);
    }
    return kv;
}

}  // namespace gguftk
