#pragma once
// The memory a model needs beside its weights: the KV cache for a context of N tokens, from the
// architecture's metadata (block_count, attention.head_count_kv as one number or one per layer,
// attention.key_length / value_length or embedding_length / head_count, and the layers with a
// sliding window where the architecture has them).
//
//   const KvCache kv = kv_cache(f, 8192, *kv_cache_type("q8_0"));
//   if (kv.known()) use(kv.bytes());   // else kv.unknown says why
#include <cstdint>
#include <string>
#include <string_view>

#include "container/gguf.h"
#include "formats/types.h"

namespace gguftk {

// How an engine lays its cache out. The defaults are what the model needs: a cell per token, and
// in a sliding-window layer a cell per token of its window. llama.cpp (compared in
// tests/cli/test_kv_cache.py) pads the context to a multiple of 256 cells and, in sliding-window
// layers, keeps the whole context (swa_full: its library's default, llama-cpp-python's too) or
// the window plus a micro-batch (ubatch 512: llama-server's and llama-cli's default).
struct KvLayout {
    uint64_t pad = 1;       // cells are the context rounded up to a multiple of this
    bool swa_full = false;  // sliding-window layers keep as many cells as the others
    uint64_t ubatch = 0;    // cells a sliding-window layer keeps beyond its window
};

struct KvCache {
    std::string unknown;          // why the size is not known ("not known for architecture 'bert'"); empty if it is
    std::string architecture;
    uint64_t layers = 0;          // block_count
    uint64_t swa_layers = 0;      // of them, the ones with a sliding window
    uint64_t window = 0;          // their window, in tokens (0: no such layers)
    uint64_t cells = 0;           // cells of a layer that sees the whole context
    uint64_t swa_cells = 0;       // cells of a sliding-window layer
    uint64_t k_bytes = 0, v_bytes = 0;          // all layers
    uint64_t swa_k_bytes = 0, swa_v_bytes = 0;  // of them, the sliding-window layers'
    bool known() const { return unknown.empty(); }
    uint64_t bytes() const { return k_bytes + v_bytes; }
};

// The KV cache of `f`'s model for `n_ctx` tokens stored as `type` (one of kv_cache_type's).
// Architectures known: llama (Mistral's 7B, Nemo and Small GGUFs are llama too), mistral3,
// qwen2, qwen3, gemma2, gemma3 and phi3 (whose sliding window llama.cpp leaves unused, and so
// does this). For any other, metadata that is missing or does not add up, or a size past 2^64,
// the result is not known() and says why.
KvCache kv_cache(const GgufFile& f, uint64_t n_ctx, const TypeInfo& type, const KvLayout& layout = {});

// The types a KV cache may be stored as: F32, F16, BF16, Q8_0, Q4_0 (case-insensitive); null otherwise.
const TypeInfo* kv_cache_type(std::string_view name);

}  // namespace gguftk
