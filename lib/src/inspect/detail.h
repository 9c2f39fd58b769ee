#pragma once
// What the text and Markdown views of gguf-inspect share beyond gguftk/inspect.h.
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gguftk/inspect.h"

namespace gguftk::inspect_detail {

// The memory section's rows, label and value: weights as stored, the KV cache (or why it is not
// known), and the two together.
std::vector<std::pair<std::string, std::string>> memory_rows(const Memory& m);
// The weights as gguf-dequant writes them to each output type, for the memory views.
std::array<std::pair<OutType, std::optional<uint64_t>>, 3> dequantized_weights(const Memory& m);
// " (Q4_K_M)" after general.file_type's value when it names a file type llama.cpp knows (see
// gguf-hexdump --describe Q4_K_M); "" for any other entry.
std::string file_type_note(const GgufFile& f, const KeyValue& kv);
// "Memory (a context of 4096 tokens, KV cache F16)"
std::string memory_title(const Memory& m);

}  // namespace gguftk::inspect_detail
