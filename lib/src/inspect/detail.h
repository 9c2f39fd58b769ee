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
// "Memory (a context of 4096 tokens, KV cache F16)"
std::string memory_title(const Memory& m);

}  // namespace gguftk::inspect_detail
