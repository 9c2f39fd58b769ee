#include "formats/types.h"

#include "formats/all.h"
#include "text/ascii.h"

#include <algorithm>
#include <array>

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
static_assert(std::ranges::adjacent_find(kTypes, {}, &TypeInfo::type) == kTypes.end(), "an id twice");

struct Removed { uint32_t id; std::string_view name; };
constexpr std::array kRemoved = {
    Removed{4, "Q4_2"}, Removed{5, "Q4_3"}, Removed{31, "Q4_0_4_4"}, Removed{32, "Q4_0_4_8"},
    Removed{33, "Q4_0_8_8"}, Removed{36, "IQ4_NL_4_4"}, Removed{37, "IQ4_NL_4_8"},
    Removed{38, "IQ4_NL_8_8"},
};

// ggml numbers its types without gaps: each id up to the newest is a type or a removed one,
// exactly one of the two. A format missing from AllFormats (or an integer type from the
// table) leaves a hole, and this does not compile.
constexpr bool every_id_accounted_for() {
    for (uint32_t id = 0; id <= static_cast<uint32_t>(kTypes.back().type); ++id) {
        const auto n = std::ranges::count(kTypes, static_cast<GgmlType>(id), &TypeInfo::type) +
                       std::ranges::count(kRemoved, id, &Removed::id);
        if (n != 1) return false;
    }
    return true;
}
static_assert(every_id_accounted_for(), "a ggml type id is neither in the table nor among the removed ones");

}  // namespace

bool iequal(std::string_view a, std::string_view b) noexcept { return text::iequal(a, b); }

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
