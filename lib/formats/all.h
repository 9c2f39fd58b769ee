#pragma once
// Every format, in one list, and one visitor from a runtime type id to its compile-time
// description:
//
//   visit_format(GgmlType::Q4_K, [&]<class F>() { ... F::decode_part(...) ... });
//
// returns false for types with no decoder (the integer types). The type table (types.cpp), the
// CPU loop, the CUDA kernels and gguf-hexdump all go through AllFormats, so a format added to
// its family's list is added everywhere; what it must satisfy is checked here, when this compiles.
#include "formats/floats.h"
#include "formats/fp4.h"
#include "formats/iquants.h"
#include "formats/kquants.h"
#include "formats/legacy.h"
#include "formats/ternary.h"

namespace gguftk::formats {

namespace detail {
template <class... Lists>
struct Join;
template <class... A>
struct Join<FormatList<A...>> {
    using type = FormatList<A...>;
};
template <class... A, class... B, class... Rest>
struct Join<FormatList<A...>, FormatList<B...>, Rest...> : Join<FormatList<A..., B...>, Rest...> {};
}  // namespace detail

// The families, each its own list (the CUDA kernels build one file per family), and all of them.
template <class... Lists>
struct FamilyList {};
using AllFamilies =
    FamilyList<FloatFormats, LegacyFormats, KQuantFormats, IQuantFormats, TernaryFormats, Fp4Formats>;

template <class... Lists>
constexpr auto join(FamilyList<Lists...>) -> typename detail::Join<Lists...>::type {
    return {};
}
using AllFormats = decltype(join(AllFamilies{}));

template <class... F, class Fn>
bool visit_formats(FormatList<F...>, GgmlType t, Fn&& fn) {
    return ((t == F::type ? (fn.template operator()<F>(), true) : false) || ...);
}

template <class Fn>
bool visit_format(GgmlType t, Fn&& fn) {
    return visit_formats(AllFormats{}, t, fn);
}

// --- the contract of format.h, checked for every format when this header compiles ---------

namespace detail {
// The fields tile the block in order: each starts where the one before ended, none is empty,
// the last ends at block_bytes. Scales of a fixed width fill whole values.
template <class F>
constexpr bool fields_tile_block() {
    int at = 0;
    for (const Field& f : F::fields) {
        if (f.offset != at || f.size == 0 || !*f.name || !*f.meaning) return false;
        if ((f.kind == FieldKind::Fp16 || f.kind == FieldKind::Int16) && f.size % 2) return false;
        if (f.kind == FieldKind::Fp32 && f.size % 4) return false;
        if (f.packing && f.size % f.packing->record_bytes) return false;
        at += f.size;
    }
    return at == F::block_bytes;
}

template <class F>
struct Checked {
    static_assert(BlockFormat<F>);
    static_assert(F::block_elems > 0 && F::part_elems > 0 && F::block_elems % F::part_elems == 0,
                  "parts must divide the block");
    static_assert(fields_tile_block<F>(), "the fields must tile the block, in order, every byte once");
    static_assert(*F::formula, "every format states its formula");
    static constexpr bool ok = true;
};

template <class... F>
constexpr bool all_checked(FormatList<F...>) {
    return (Checked<F>::ok && ...);
}

// No type id twice.
template <class... F>
constexpr bool ids_distinct(FormatList<F...>) {
    const GgmlType ids[] = {F::type...};
    for (size_t i = 0; i < sizeof...(F); ++i)
        for (size_t j = i + 1; j < sizeof...(F); ++j)
            if (ids[i] == ids[j]) return false;
    return true;
}
}  // namespace detail

static_assert(detail::all_checked(AllFormats{}));
static_assert(detail::ids_distinct(AllFormats{}), "a type id is listed twice");

}  // namespace gguftk::formats
