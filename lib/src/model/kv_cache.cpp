// The KV cache of a model, from its metadata, as llama.cpp lays it out (llama_kv_cache, and
// llama_kv_cache_iswa for sliding-window layers): per layer, one K row of key_length x
// head_count_kv elements and one V row of value_length x head_count_kv elements per cell, rows
// stored in the cache type (whole blocks for Q8_0 and Q4_0). Layers that see the whole context
// have a cell per token; sliding-window layers (gemma2, gemma3) a cell per token of their window.
#include "gguftk/memory.h"

#include "gguftk/escape.h"

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
    const std::optional<std::string> arch_name = f.get_string("general.architecture");
    if (!arch_name) return unknown(kv, "general.architecture missing");
    kv.architecture = *arch_name;
    const auto arch = std::find_if(kArchs.begin(), kArchs.end(), [&](const Arch& a) { return a.name == *arch_name; });
    if (arch == kArchs.end()) return unknown(kv, "not known for architecture " + quoted_name(*arch_name));
    const std::string prefix = *arch_name + ".";

    const std::optional<uint64_t> n_layer = f.get_uint(prefix + "block_count");
    if (!n_layer) return unknown(kv, prefix + "block_count missing");
    kv.layers = *n_layer;
    std::string why;
    const auto heads = per_layer(f, prefix + "attention.head_count", kv.layers, why);
    if (!heads) return unknown(kv, why);
    auto heads_kv = per_layer(f, prefix + "attention.head_count_kv", kv.layers, why);
    if (!heads_kv) return unknown(kv, why);
    if (!heads_kv->present()) heads_kv = heads;  // llama.cpp: as many KV heads as heads
    if (!heads_kv->present()) return unknown(kv, prefix + "attention.head_count missing");

    // A head's width: key_length / value_length, else embedding_length / head_count (layer 0's).
    std::optional<uint64_t> head_k = f.get_uint(prefix + "attention.key_length");
    std::optional<uint64_t> head_v = f.get_uint(prefix + "attention.value_length");
    if (!head_k || !head_v) {
        const std::optional<uint64_t> n_embd = f.get_uint(prefix + "embedding_length");
        if (!n_embd) return unknown(kv, prefix + "embedding_length missing");
        if (!heads->present() || kv.layers == 0 || heads->at(0) == 0)
            return unknown(kv, prefix + "attention.head_count missing or 0");
        if (!head_k) head_k = *n_embd / heads->at(0);
        if (!head_v) head_v = *n_embd / heads->at(0);
    }
    if (type.block_elems > 1 && (*head_k % type.block_elems || *head_v % type.block_elems))
        return unknown(kv, "a " + std::string(type.name) + " cache needs heads of a multiple of " +
                               std::to_string(type.block_elems) + " elements; this model's are " +
                               std::to_string(*head_k) + " (K) and " + std::to_string(*head_v) + " (V)");

    // Sliding-window layers: a pattern n (layer il has a window when il % n < n - 1; 0: all),
    // or one flag per layer.
    std::optional<PerLayer> swa;
    if (arch->swa != Swa::None) {
        const std::optional<uint64_t> window = f.get_uint(prefix + "attention.sliding_window");
        kv.window = window ? *window : arch->swa == Swa::Gemma2 ? 4096 : 0;
        if (kv.window > 0) {
            swa = per_layer(f, prefix + "attention.sliding_window_pattern", kv.layers, why);
            if (!swa) return unknown(kv, why);
            if (!swa->present()) swa->one = arch->swa == Swa::Gemma2 ? 2 : 6;
        }
    }
    const auto is_swa = [&](uint64_t il) {
        if (!swa) return false;
        if (!swa->one) return swa->each[il] != 0;
        const uint64_t n = *swa->one;
        return n == 0 || il % n < n - 1;
    };
    if (swa && swa->one) {  // counted, not walked: block_count is any number a file says
        const uint64_t n = *swa->one;
        kv.swa_layers = n == 0 ? kv.layers : kv.layers / n * (n - 1) + std::min(kv.layers % n, n - 1);
    } else if (swa) {
        kv.swa_layers = static_cast<uint64_t>(std::count_if(swa->each.begin(), swa->each.end(), [](uint64_t v) { return v; }));
    }
    if (kv.swa_layers == 0) kv.window = 0;

    const std::string too_large = "the KV cache would take more than 2^64 bytes";
    if (!round_up(n_ctx, layout.pad, kv.cells)) return unknown(kv, too_large);
    if (kv.swa_layers) {
        uint64_t held = 0;
        if (!add(kv.window, layout.ubatch, held) || !round_up(held, layout.pad, held)) held = UINT64_MAX;
        kv.swa_cells = layout.swa_full ? kv.cells : std::min(kv.cells, held);
    }

    // Bytes of a row of n elements; n is a whole number of blocks (checked above per head).
    const auto row = [&](uint64_t head, uint64_t n_heads, uint64_t& r) {
        uint64_t n = 0;
        return mul(head, n_heads, n) && mul(n / type.block_elems, type.block_bytes, r);
    };
    const auto layer_bytes = [&](uint64_t head, uint64_t n_heads, uint64_t cells, uint64_t& sum) {
        uint64_t r = 0, b = 0;
        return row(head, n_heads, r) && mul(r, cells, b) && add(sum, b, sum);
    };
    if (heads_kv->one) {
        const uint64_t full = kv.layers - kv.swa_layers;
        for (auto [head, out, swa_out] : {std::tuple{*head_k, &kv.k_bytes, &kv.swa_k_bytes},
                                          std::tuple{*head_v, &kv.v_bytes, &kv.swa_v_bytes}}) {
            uint64_t per_full = 0;
            if (!layer_bytes(head, *heads_kv->one, kv.cells, per_full) ||
                !layer_bytes(head, *heads_kv->one, kv.swa_cells, *swa_out) || !mul(per_full, full, per_full) ||
                !mul(*swa_out, kv.swa_layers, *swa_out) || !add(per_full, *swa_out, *out))
                return unknown(kv, too_large);
        }
    } else {  // one count per layer: as many items as layers, all in the file
        for (uint64_t il = 0; il < kv.layers; ++il) {
            const bool w = is_swa(il);
            const uint64_t cells = w ? kv.swa_cells : kv.cells;
            if (!layer_bytes(*head_k, heads_kv->at(il), cells, kv.k_bytes) ||
                !layer_bytes(*head_v, heads_kv->at(il), cells, kv.v_bytes) ||
                (w && (!layer_bytes(*head_k, heads_kv->at(il), cells, kv.swa_k_bytes) ||
                       !layer_bytes(*head_v, heads_kv->at(il), cells, kv.swa_v_bytes))))
                return unknown(kv, too_large);
        }
    }
    if (uint64_t total = 0; !add(kv.k_bytes, kv.v_bytes, total)) return unknown(kv, too_large);
    return kv;
}

}  // namespace gguftk
