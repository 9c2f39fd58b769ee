#pragma once
// Plain element types as the other formats name them (NumPy dtypes and descrs, safetensors'
// dtypes, --dtype), and their values as doubles: what gguf-compare reads outside GGUF.
#include <array>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>

#include "formats/float_bits.h"
#include "formats/decode.h"
#include "formats/types.h"

namespace gguftk {

enum class Element : uint8_t { F16, F32, BF16, F64, I8, I16, I32, I64, U8 };

struct ElementInfo {
    Element e;
    uint8_t size;
    std::array<std::string_view, 4> names;  // ours first, then NumPy's dtype and descr, safetensors'
};

inline constexpr ElementInfo kElements[] = {
    {Element::F16, 2, {"f16", "float16", "<f2", "F16"}},
    {Element::F32, 4, {"f32", "float32", "<f4", "F32"}},
    {Element::BF16, 2, {"bf16", "bfloat16", "", "BF16"}},
    {Element::F64, 8, {"f64", "float64", "<f8", "F64"}},
    {Element::I8, 1, {"i8", "int8", "|i1", "I8"}},
    {Element::I16, 2, {"i16", "int16", "<i2", "I16"}},
    {Element::I32, 4, {"i32", "int32", "<i4", "I32"}},
    {Element::I64, 8, {"i64", "int64", "<i8", "I64"}},
    {Element::U8, 1, {"u8", "uint8", "|u1", "U8"}},
};

static_assert([] {
    for (size_t i = 0; i < std::size(kElements); ++i)
        if (kElements[i].e != Element(i)) return false;
    return true;
}(), "kElements is indexed by Element");

inline const ElementInfo& element_info(Element e) { return kElements[size_t(e)]; }
inline size_t element_size(Element e) { return element_info(e).size; }
inline std::string_view element_name(Element e) { return element_info(e).names[0]; }

inline std::optional<Element> parse_element(std::string_view s) {
    for (const ElementInfo& i : kElements)
        for (std::string_view n : i.names)
            if (!n.empty() && n == s) return i.e;
    return std::nullopt;
}

// The GGUF types stored as plain elements (read without a decoder).
inline std::optional<Element> plain_element(GgmlType t) {
    switch (t) {
        case GgmlType::F16: return Element::F16;
        case GgmlType::F32: return Element::F32;
        case GgmlType::BF16: return Element::BF16;
        case GgmlType::F64: return Element::F64;
        case GgmlType::I8: return Element::I8;
        case GgmlType::I16: return Element::I16;
        case GgmlType::I32: return Element::I32;
        case GgmlType::I64: return Element::I64;
        default: return std::nullopt;
    }
}

template <class T>
T load_le(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);  // little-endian hosts only, as the rest of gguftk
    return v;
}

// `out.size()` little-endian elements at `src`, as doubles (exactly: every element type here
// is a subset of double, but for 64-bit integers beyond 2^53, which round). elements.cpp.
void to_doubles(Element e, const uint8_t* src, std::span<double> out);

// Values rounded to `as` (ggml's rounding); a no-op for elements that type already holds.
inline void round_to(Element e, OutType as, std::span<double> v) {
    const bool exact = (as == OutType::F32 && (e == Element::F16 || e == Element::BF16 || e == Element::F32)) ||
                       (as == OutType::F16 && e == Element::F16) || (as == OutType::BF16 && e == Element::BF16);
    if (exact) return;
    for (double& x : v) {
        const float f = float(x);
        x = as == OutType::F32   ? f
            : as == OutType::F16 ? formats::fp16_to_f32(formats::f32_to_fp16(f))
                                 : formats::bf16_to_f32(formats::f32_to_bf16(f));
    }
}

}  // namespace gguftk
