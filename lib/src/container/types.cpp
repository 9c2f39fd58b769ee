#include "gguftk/types.h"

#include "formats/all.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace gguftk {
namespace {

using enum GgmlType;

// Every format of lib/formats gives its id, name and block; the integer types, which have no
// decoder and so no format, are added by hand. Sorted by id.
template <class... F>
constexpr auto make_table(formats::FormatList<F...>) {
    constexpr auto I = TypeClass::Integer;
    std::array table = {
        TypeInfo{F::type, F::name, uint32_t(F::block_elems), uint32_t(F::block_bytes),
                 F::block_elems == 1 ? TypeClass::Float : TypeClass::Quantized}...,
        TypeInfo{I8, "I8", 1, 1, I}, TypeInfo{I16, "I16", 1, 2, I},
        TypeInfo{I32, "I32", 1, 4, I}, TypeInfo{I64, "I64", 1, 8, I},
    };
    std::ranges::sort(table, {}, [](const TypeInfo& t) { return static_cast<uint32_t>(t.type); });
    return table;
}

constexpr auto kTypes = make_table(formats::AllFormats{});
static_assert(kTypes.size() == 35, "ggml has 35 storage types today");
static_assert(std::ranges::adjacent_find(kTypes, {}, &TypeInfo::type) == kTypes.end(), "an id twice");

struct Removed { uint32_t id; std::string_view name; };
constexpr std::array kRemoved = {
    Removed{4, "Q4_2"}, Removed{5, "Q4_3"}, Removed{31, "Q4_0_4_4"}, Removed{32, "Q4_0_4_8"},
    Removed{33, "Q4_0_8_8"}, Removed{36, "IQ4_NL_4_4"}, Removed{37, "IQ4_NL_4_8"},
    Removed{38, "IQ4_NL_8_8"},
};

}  // namespace

bool iequal(std::string_view a, std::string_view b) noexcept {
    return std::ranges::equal(a, b, [](char x, char y) {
        return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
    });
}

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
