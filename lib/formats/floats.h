#pragma once
// Plain floating-point storage types: one element per "block", no scale.
// They pass through the same machinery as the quantized formats so `--all` and the hexdump
// need no special case.
#include "formats/float_bits.h"
#include "formats/format.h"

namespace gguftk::formats {

struct F32 {
    static constexpr GgmlType type = GgmlType::F32;
    static constexpr int block_elems = 1, block_bytes = 4, part_elems = 1;
    static constexpr Field fields[] = {{"value", 0, 4, FieldKind::Fp32, "IEEE binary32"}};
    static constexpr const char* formula = "y = x";
    GGUFTK_HD static void decode_part(const uint8_t* b, int, float* y) { *y = f32_from_bits(load_u32(b)); }
};

struct F16 {
    static constexpr GgmlType type = GgmlType::F16;
    static constexpr int block_elems = 1, block_bytes = 2, part_elems = 1;
    static constexpr Field fields[] = {{"value", 0, 2, FieldKind::Fp16, "IEEE binary16"}};
    static constexpr const char* formula = "y = float(x)";
    GGUFTK_HD static void decode_part(const uint8_t* b, int, float* y) { *y = fp16_to_f32(load_u16(b)); }
};

struct BF16 {
    static constexpr GgmlType type = GgmlType::BF16;
    static constexpr int block_elems = 1, block_bytes = 2, part_elems = 1;
    static constexpr Field fields[] = {{"value", 0, 2, FieldKind::Raw, "bfloat16: the top half of a binary32"}};
    static constexpr const char* formula = "y = float(x << 16)";
    GGUFTK_HD static void decode_part(const uint8_t* b, int, float* y) { *y = bf16_to_f32(load_u16(b)); }
};

struct F64 {
    static constexpr GgmlType type = GgmlType::F64;
    static constexpr int block_elems = 1, block_bytes = 8, part_elems = 1;
    static constexpr Field fields[] = {{"value", 0, 8, FieldKind::Raw, "IEEE binary64"}};
    static constexpr const char* formula = "y = float(x), rounded to nearest";
    GGUFTK_HD static void decode_part(const uint8_t* b, int, float* y) {
        const uint64_t u = uint64_t(load_u32(b)) | (uint64_t(load_u32(b + 4)) << 32);
        double d;
        memcpy(&d, &u, 8);
        // A NaN keeps its sign and the top of its payload, made quiet: what x86 (cvtsd2ss) and
        // Arm (fcvt) give, written out because the GPU's conversion writes one canonical NaN.
        *y = d == d ? float(d) : f32_from_bits(uint32_t(u >> 32 & 0x80000000u) | 0x7fc00000u | uint32_t(u >> 29 & 0x3fffffu));
    }
};

template <class Fn>
bool visit_floats(GgmlType t, Fn&& fn) {
    switch (t) {
        case GgmlType::F32: fn.template operator()<F32>(); return true;
        case GgmlType::F16: fn.template operator()<F16>(); return true;
        case GgmlType::BF16: fn.template operator()<BF16>(); return true;
        case GgmlType::F64: fn.template operator()<F64>(); return true;
        default: return false;
    }
}

}  // namespace gguftk::formats
