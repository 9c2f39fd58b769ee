// The KV cache from a model's metadata (model/memory.h), on headers built here: the sizes worked
// out by hand for each way the metadata can say it (one KV head count or one per layer, head
// widths given or derived, sliding-window patterns by number or by flags), llama.cpp's layout,
// and every way the metadata can fail to say it. tests/cli/test_kv_cache.py compares the same
// function with what llama.cpp itself allocates.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "gguf_builder.h"
#include "container/gguf.h"
#include "model/memory.h"

using namespace gguftk;
using namespace gguftk::test;

namespace {

// A header with no tensors and the given entries, each written by its own call.
struct Kv {
    std::string key;
    std::function<void(GgufBuilder&)> write;
};
Kv u32(std::string key, uint32_t v) { return {key, [=](GgufBuilder& b) { b.kv_u32(key, v); }}; }
Kv str(std::string key, std::string v) { return {key, [=](GgufBuilder& b) { b.kv_str(key, v); }}; }
Kv u32s(std::string key, std::vector<uint32_t> v) {
    return {key, [=](GgufBuilder& b) {
                b.kv(key, vt::ARRAY).array(vt::UINT32, v.size());
                for (uint32_t x : v) b.u32(x);
            }};
}
Kv bools(std::string key, std::vector<bool> v) {
    return {key, [=](GgufBuilder& b) {
                b.kv(key, vt::ARRAY).array(vt::BOOL, v.size());
                for (bool x : v) b.u8(x);
            }};
}

std::vector<uint8_t> header(const std::vector<Kv>& kvs) {
    GgufBuilder b;
    b.header(3, 0, kvs.size());
    for (const Kv& kv : kvs) kv.write(b);
    return b.bytes();
}

KvCache kv_of(const std::vector<Kv>& kvs, uint64_t n_ctx, const char* type = "F16", KvLayout layout = {}) {
    const std::vector<uint8_t> bytes = header(kvs);
    const GgufFile f = GgufFile::parse(bytes);
    return kv_cache(f, n_ctx, *kv_cache_type(type), layout);
}

// llama-like: 4 layers, 896 wide, 14 heads (64 wide), 2 KV heads: Qwen2.5-0.5B's shape.
std::vector<Kv> qwen(std::string arch = "qwen2") {
    return {str("general.architecture", arch), u32(arch + ".block_count", 4), u32(arch + ".embedding_length", 896),
            u32(arch + ".attention.head_count", 14), u32(arch + ".attention.head_count_kv", 2)};
}

}  // namespace

TEST_CASE("a cell per token per layer: K and V rows of head width x KV heads") {
    for (const char* arch : {"llama", "mistral3", "qwen2", "qwen3", "phi3"}) {
        CAPTURE(arch);
        const KvCache kv = kv_of(qwen(arch), 1000);
        REQUIRE(kv.known());
        CHECK(kv.layers == 4);
        CHECK(kv.cells == 1000);
        CHECK(kv.swa_layers == 0);
        CHECK(kv.k_bytes == 4ull * 1000 * 64 * 2 * 2);  // layers x tokens x (64 x 2 heads) x 2 bytes
        CHECK(kv.v_bytes == kv.k_bytes);
        CHECK(kv.bytes() == 2'048'000);
    }
}

TEST_CASE("every KV type: whole blocks per row") {
    const uint64_t per_row = 64 * 2;  // elements of a K row
    CHECK(kv_of(qwen(), 10, "F32").k_bytes == 4 * 10 * per_row * 4);
    CHECK(kv_of(qwen(), 10, "bf16").k_bytes == 4 * 10 * per_row * 2);
    CHECK(kv_of(qwen(), 10, "Q8_0").k_bytes == 4 * 10 * (per_row / 32 * 34));
    CHECK(kv_of(qwen(), 10, "q4_0").k_bytes == 4 * 10 * (per_row / 32 * 18));
    CHECK(kv_cache_type("Q4_K") == nullptr);
    CHECK(kv_cache_type("f16") != nullptr);
}

TEST_CASE("head widths from key_length and value_length when given") {
    std::vector<Kv> m = qwen("llama");
    m.push_back(u32("llama.attention.key_length", 128));
    m.push_back(u32("llama.attention.value_length", 96));
    const KvCache kv = kv_of(m, 7);
    CHECK(kv.k_bytes == 4 * 7 * 128 * 2 * 2);
    CHECK(kv.v_bytes == 4 * 7 * 96 * 2 * 2);
    // A quantized cache needs heads of whole blocks, as llama.cpp does.
    m[m.size() - 1] = u32("llama.attention.value_length", 48);
    const KvCache q = kv_of(m, 7, "Q8_0");
    CHECK_FALSE(q.known());
    CHECK(q.unknown.find("Q8_0 cache needs heads of a multiple of 32") != std::string::npos);
}

TEST_CASE("one KV head count per layer") {
    std::vector<Kv> m = qwen("llama");
    m[4] = u32s("llama.attention.head_count_kv", {2, 0, 4, 1});
    const KvCache kv = kv_of(m, 100);
    REQUIRE(kv.known());
    CHECK(kv.k_bytes == 100ull * 64 * (2 + 0 + 4 + 1) * 2);
    m[4] = u32s("llama.attention.head_count_kv", {2, 2, 2});
    CHECK(kv_of(m, 100).unknown == "llama.attention.head_count_kv holds 3 UINT32 items for 4 layers");
    // No KV head count: as many as heads.
    m.erase(m.begin() + 4);
    CHECK(kv_of(m, 100).k_bytes == 4 * 100 * 64 * 14 * 2);
}

TEST_CASE("gemma2 and gemma3: sliding-window layers keep their window") {
    // gemma2: every other layer (0, 2, ...) has a window, 4096 tokens unless the metadata says.
    std::vector<Kv> g2 = qwen("gemma2");
    g2[1] = u32("gemma2.block_count", 5);
    KvCache kv = kv_of(g2, 10000);
    CHECK(kv.swa_layers == 3);  // 0, 2, 4
    CHECK(kv.window == 4096);
    CHECK(kv.swa_cells == 4096);
    CHECK(kv.k_bytes == (2ull * 10000 + 3ull * 4096) * 128 * 2);
    CHECK(kv.swa_k_bytes == 3ull * 4096 * 128 * 2);
    CHECK(kv_of(g2, 100).swa_cells == 100);  // a context shorter than the window
    // gemma3: 5 of every 6 layers, with the window the metadata gives; none without one.
    std::vector<Kv> g3 = qwen("gemma3");
    g3[1] = u32("gemma3.block_count", 14);
    CHECK(kv_of(g3, 5000).swa_layers == 0);
    g3.push_back(u32("gemma3.attention.sliding_window", 1024));
    kv = kv_of(g3, 5000);
    CHECK(kv.swa_layers == 12);  // all but 5 and 11
    CHECK(kv.k_bytes == (2ull * 5000 + 12ull * 1024) * 128 * 2);
    // A pattern by number (il % n < n - 1: 0 means every layer) or by flags.
    g3.push_back(u32("gemma3.attention.sliding_window_pattern", 3));
    CHECK(kv_of(g3, 5000).swa_layers == 10);  // 0,1, 3,4, 6,7, 9,10, 12,13
    g3.back() = u32("gemma3.attention.sliding_window_pattern", 0);
    CHECK(kv_of(g3, 5000).swa_layers == 14);
    g3.back() = u32("gemma3.attention.sliding_window_pattern", 1);
    CHECK(kv_of(g3, 5000).swa_layers == 0);
    g3.back() = bools("gemma3.attention.sliding_window_pattern",
                      {true, false, true, true, false, false, true, false, false, false, false, false, false, true});
    kv = kv_of(g3, 5000);
    CHECK(kv.swa_layers == 5);
    CHECK(kv.swa_k_bytes == 5ull * 1024 * 128 * 2);
    g3.back() = bools("gemma3.attention.sliding_window_pattern", {true, false});
    CHECK_FALSE(kv_of(g3, 5000).known());
}

TEST_CASE("llama.cpp's layout: the context padded, windows plus a micro-batch, or full") {
    std::vector<Kv> g2 = qwen("gemma2");
    g2.push_back(u32("gemma2.attention.sliding_window", 256));
    KvCache kv = kv_of(g2, 1000, "F16", KvLayout{256, false, 512});
    CHECK(kv.cells == 1024);
    CHECK(kv.swa_cells == 768);  // 256 + 512, a multiple of 256
    kv = kv_of(g2, 300, "F16", KvLayout{256, false, 512});
    CHECK(kv.swa_cells == 512);  // no more than the others
    kv = kv_of(g2, 1000, "F16", KvLayout{256, true, 512});
    CHECK(kv.swa_cells == 1024);
    CHECK(kv.k_bytes == 4ull * 1024 * 128 * 2);
}

TEST_CASE("what is not known says why") {
    CHECK(kv_of({u32("x.block_count", 2)}, 10).unknown == "general.architecture missing");
    std::vector<Kv> bert = qwen("bert");
    CHECK(kv_of(bert, 10).unknown == "not known for architecture 'bert'");
    std::vector<Kv> m = qwen("llama");
    m.erase(m.begin() + 1);
    CHECK(kv_of(m, 10).unknown == "llama.block_count missing");
    m = qwen("llama");
    m[2] = u32("llama.attention.key_length", 64);  // no embedding_length, no value_length
    CHECK(kv_of(m, 10).unknown == "llama.embedding_length missing");
    m = qwen("llama");
    m[3] = u32("llama.attention.head_count", 0);
    m.erase(m.begin() + 4);
    CHECK(kv_of(m, 10).unknown == "llama.attention.head_count missing or 0");
    m = qwen("llama");
    m[4] = str("llama.attention.head_count_kv", "two");
    CHECK(kv_of(m, 10).unknown == "llama.attention.head_count_kv is not a whole number");
}

TEST_CASE("hostile numbers: sizes past 2^64 are not known, any block_count costs nothing") {
    std::vector<Kv> m = qwen("gemma3");
    m[1] = u32("gemma3.block_count", 0xffffffffu);
    m.push_back(u32("gemma3.attention.sliding_window", 512));
    KvCache kv = kv_of(m, 1u << 20);  // 4 billion layers: counted, not walked
    REQUIRE(kv.known());
    CHECK(kv.swa_layers == 0xffffffffull / 6 * 5 + 0xffffffffull % 6);  // 4294967295 % 6 = 3 < 5
    CHECK(kv_of(m, UINT64_MAX).unknown == "the KV cache would take more than 2^64 bytes");
    CHECK(kv_of(m, UINT64_MAX - 3, "F16", KvLayout{256, false, 512}).unknown ==
          "the KV cache would take more than 2^64 bytes");
}
