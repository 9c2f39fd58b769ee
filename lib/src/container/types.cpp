#include "gguftk/types.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace gguftk {
namespace {

using enum GgmlType;
constexpr auto F = TypeClass::Float;
constexpr auto I = TypeClass::Integer;
constexpr auto Q = TypeClass::Quantized;

constexpr std::array kTypes = {
    TypeInfo{F32, "F32", 1, 4, F},          TypeInfo{F16, "F16", 1, 2, F},
    TypeInfo{Q4_0, "Q4_0", 32, 18, Q},      TypeInfo{Q4_1, "Q4_1", 32, 20, Q},
    TypeInfo{Q5_0, "Q5_0", 32, 22, Q},      TypeInfo{Q5_1, "Q5_1", 32, 24, Q},
    TypeInfo{Q8_0, "Q8_0", 32, 34, Q},      TypeInfo{Q8_1, "Q8_1", 32, 36, Q},
    TypeInfo{Q2_K, "Q2_K", 256, 84, Q},     TypeInfo{Q3_K, "Q3_K", 256, 110, Q},
    TypeInfo{Q4_K, "Q4_K", 256, 144, Q},    TypeInfo{Q5_K, "Q5_K", 256, 176, Q},
    TypeInfo{Q6_K, "Q6_K", 256, 210, Q},    TypeInfo{Q8_K, "Q8_K", 256, 292, Q},
    TypeInfo{IQ2_XXS, "IQ2_XXS", 256, 66, Q}, TypeInfo{IQ2_XS, "IQ2_XS", 256, 74, Q},
    TypeInfo{IQ3_XXS, "IQ3_XXS", 256, 98, Q}, TypeInfo{IQ1_S, "IQ1_S", 256, 50, Q},
    TypeInfo{IQ4_NL, "IQ4_NL", 32, 18, Q},  TypeInfo{IQ3_S, "IQ3_S", 256, 110, Q},
    TypeInfo{IQ2_S, "IQ2_S", 256, 82, Q},   TypeInfo{IQ4_XS, "IQ4_XS", 256, 136, Q},
    TypeInfo{I8, "I8", 1, 1, I},            TypeInfo{I16, "I16", 1, 2, I},
    TypeInfo{I32, "I32", 1, 4, I},          TypeInfo{I64, "I64", 1, 8, I},
    TypeInfo{F64, "F64", 1, 8, F},          TypeInfo{IQ1_M, "IQ1_M", 256, 56, Q},
    TypeInfo{BF16, "BF16", 1, 2, F},        TypeInfo{TQ1_0, "TQ1_0", 256, 54, Q},
    TypeInfo{TQ2_0, "TQ2_0", 256, 66, Q},   TypeInfo{MXFP4, "MXFP4", 32, 17, Q},
    TypeInfo{NVFP4, "NVFP4", 64, 36, Q},    TypeInfo{Q1_0, "Q1_0", 128, 18, Q},
    TypeInfo{Q2_0, "Q2_0", 64, 18, Q},
};

struct Removed { uint32_t id; std::string_view name; };
constexpr std::array kRemoved = {
    Removed{4, "Q4_2"}, Removed{5, "Q4_3"}, Removed{31, "Q4_0_4_4"}, Removed{32, "Q4_0_4_8"},
    Removed{33, "Q4_0_8_8"}, Removed{36, "IQ4_NL_4_4"}, Removed{37, "IQ4_NL_4_8"},
    Removed{38, "IQ4_NL_8_8"},
};

bool iequal(std::string_view a, std::string_view b) {
    return std::ranges::equal(a, b, [](char x, char y) {
        return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
    });
}

}  // namespace

const TypeInfo* find_type(uint32_t id) noexcept {
    for (const auto& t : kTypes)
        if (static_cast<uint32_t>(t.type) == id) return &t;
    return nullptr;
}

const TypeInfo& type_info(GgmlType t) { return *find_type(static_cast<uint32_t>(t)); }

const TypeInfo* find_type(std::string_view name) noexcept {
    for (const auto& t : kTypes)
        if (iequal(t.name, name)) return &t;
    return nullptr;
}

std::optional<std::string_view> removed_type_name(uint32_t id) noexcept {
    for (const auto& r : kRemoved)
        if (r.id == id) return r.name;
    return std::nullopt;
}

std::span<const TypeInfo> all_types() noexcept { return kTypes; }

}  // namespace gguftk
