#pragma once
// Plain floating-point storage types: one element per "block", no scale.
// They pass through the same machinery as the quantized formats so `--all` and the hexdump
// need no special case.
#include "formats/float_bits.h"
#include "formats/format.h"

namespace gguftk::formats {

struct F32 {
    static constexpr GgmlType type = GgmlType::F32;
    static constexpr std::string_view name = "F32";
    static constexpr int block_elems = 1, block_bytes = 4, part_elems = 1;
    static constexpr Field fields[] = {{"value", 0, 4, FieldKind::Fp32, "IEEE binary32"}};
    static constexpr int at_value = offset_of(fields, "value");
    static constexpr const char* formula = "y = x";
    GGUFTK_HD static void decode_part(const uint8_t* b, int, float* y) {
        *y = f32_from_bits(load_u32(b + at_value));
    }
};

struct F16 {
    static constexpr GgmlType type = GgmlType::F16;
    static constexpr std::string_view name = "F16";
    static constexpr int block_elems = 1, block_bytes = 2, part_elems = 1;
    static constexpr Field fields[] = {{"value", 0, 2, FieldKind::Fp16, "IEEE binary16"}};
    static constexpr int at_value = offset_of(fields, "value");
    static constexpr const char* formula = "y = float(x)";
    GGUFTK_HD static void decode_part(const uint8_t* b, int, float* y) {
        *y = fp16_to_f32(load_u16(b + at_value));
    }
};

struct BF16 {
    static constexpr GgmlType type = GgmlType::BF16;
    static constexpr std::string_view name = "BF16";
    static constexpr int block_elems = 1, block_bytes = 2, part_elems = 1;
    static constexpr Field fields[] = {{"value", 0, 2, FieldKind::Bf16, "bfloat16: the top half of a binary32"}};
    static constexpr int at_value = offset_of(fields, "value");
    static constexpr const char* formula = "y = float(x << 16)";
    GGUFTK_HD static void decode_part(const uint8_t* b, int, float* y) {
        *y = bf16_to_f32(load_u16(b + at_value));
    }
};

struct F64 {
    static constexpr GgmlType type = GgmlType::F64;
    static constexpr std::string_view name = "F64";
    static constexpr int block_elems = 1, block_bytes = 8, part_elems = 1;
    static constexpr Field fields[] = {{"value", 0, 8, FieldKind::Fp64, "IEEE binary64"}};
    static constexpr int at_value = offset_of(fields, "value");
    static constexpr const char* formula = "y = float(x), rounded to nearest";
    GGUFTK_HD static void decode_part(const uint8_t* b, int, float* y) {
        const uint64_t u = uint64_t(load_u32(b + at_value)) | (uint64_t(load_u32(b + at_value + 4)) << 32);
        double d;
        memcpy(&d, &u, 8);
        // A NaN keeps its sign and the top of its payload, made quiet: what x86 (cvtsd2ss) and
        // Arm (fcvt) give, written out because the GPU's conversion writes one canonical NaN.
        *y = d == d ? float(d) : f32_from_bits(uint32_t(u >> 32 & 0x80000000u) | 0x7fc00000u | uint32_t(u >> 29 & 0x3fffffu));
    }
};

using FloatFormats = FormatList<F32, F16, BF16, F64>;

}  // namespace gguftk::formats
