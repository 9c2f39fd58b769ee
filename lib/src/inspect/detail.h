#pragma once
// What the views of gguf-inspect share beyond inspect/inspect.h.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "inspect/inspect.h"

namespace gguftk::inspect_detail {

// a + b, or 2^64 - 1 where that would wrap: a remote file's size is the server's word, so its
// element counts, and a split model's bytes, may pass 2^64 between them.
inline uint64_t saturating_add(uint64_t a, uint64_t b) {
    uint64_t r;
    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

// The memory section's rows, label and value: weights as stored, the KV cache (or why it is not
// known), and the two together.
std::vector<std::pair<std::string, std::string>> memory_rows(const Memory& m);
// The weights as gguf-dequant writes them to each output type, for the memory views.
std::array<std::pair<OutType, std::optional<uint64_t>>, 3> dequantized_weights(const Memory& m);
// " (Q4_K_M)" after general.file_type's value when it names a file type llama.cpp knows (see
// gguf-hexdump --describe Q4_K_M); "" for any other entry.
std::string file_type_note(const GgufFile& f, const KeyValue& kv);
// A tensor's bits per weight as the tables show it, "4.50" ("-" for a tensor of no elements).
std::string bpw_text(const TensorInfo& t);
// A type's share of the bytes of the files, "12.3%".
std::string share_text(const TypeTotal& tt, const Inspection& in);
// "Memory (a context of 4096 tokens, KV cache F16)"
std::string memory_title(const Memory& m);

// The sections of every view (text, Markdown, JSON), in the one order they all write them: a
// view is a class with a writer for each, which writes nothing where it has nothing to show.
template <class View>
void write_sections(View& view) {
    view.header();    // which file (text, Markdown: how it was read, which shard of a model)
    view.metadata();
    view.tensors();
    view.summary();   // totals by type and in all; what gguf-dequant would write
    view.memory();    // with --ctx: weights and KV cache
    view.end();       // JSON: how a remote file was read; then all hand on what is left
}

}  // namespace gguftk::inspect_detail
