#pragma once
// The table of every ggml storage type: gguf-py's name, elements per block, bytes per block.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace gguftk {

// Numeric ids as stored in GGUF tensor infos (ggml.h's enum ggml_type).
enum class GgmlType : uint32_t {
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
    IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
    IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
    TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39, NVFP4 = 40, Q1_0 = 41, Q2_0 = 42,
};

enum class TypeClass : uint8_t { Float, Integer, Quantized };

struct TypeInfo {
    GgmlType type;
    std::string_view name;   // gguf-py's spelling: "Q4_K", "IQ2_XXS", "BF16"
    uint32_t block_elems;    // elements per block (1 for plain types)
    uint32_t block_bytes;    // bytes per block
    TypeClass cls;

    double bits_per_weight() const { return 8.0 * block_bytes / block_elems; }
};

// Equal but for ASCII case: how every type or target name a user gives is matched ("q4_k",
// "Q4_K"; "F16", "f16"), so that no tool is stricter than another.
bool iequal(std::string_view a, std::string_view b) noexcept;

// nullptr for ids that are not (or no longer) storage types.
const TypeInfo* find_type(uint32_t id) noexcept;
const TypeInfo& type_info(GgmlType t);  // every enumerator is in the table
// Case-insensitive lookup by gguf-py name ("q4_k" finds Q4_K).
const TypeInfo* find_type(std::string_view name) noexcept;
// ggml ids that once were types and were removed (Q4_2, Q4_3, Q4_0_4_4, ...): their old name.
std::optional<std::string_view> removed_type_name(uint32_t id) noexcept;
std::span<const TypeInfo> all_types() noexcept;

}  // namespace gguftk
