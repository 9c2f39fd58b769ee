#pragma once
// Decoding whole blocks of any ggml type to F32, F16 or BF16 on the CPU (the reference path).
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "formats/types.h"

namespace gguftk {

enum class OutType : uint8_t { F32, F16, BF16 };
// Every OutType, in the order the tools list them (the default, f16, first).
std::span<const OutType> all_out_types() noexcept;
std::string_view out_type_name(OutType t) noexcept;            // "f32", "f16", "bf16"
std::optional<OutType> parse_out_type(std::string_view s) noexcept;  // any case: "F16" too
constexpr uint32_t out_type_size(OutType t) noexcept { return t == OutType::F32 ? 4 : 2; }
GgmlType out_ggml_type(OutType t) noexcept;                     // F32, F16, BF16

// True when `t` has a decoder (every float and quantized type; never the integer types).
bool has_decoder(GgmlType t) noexcept;

// Decodes `n_blocks` consecutive blocks at `src` (n_blocks * block_bytes bytes) into
// n_blocks * block_elems values of `out` at `dst`. Values are ggml's float32 results,
// rounded to F16 / BF16 to nearest-even. Throws Error if `t` has no decoder.
void decode_blocks(GgmlType t, const uint8_t* src, uint64_t n_blocks, OutType out, void* dst);

}  // namespace gguftk
