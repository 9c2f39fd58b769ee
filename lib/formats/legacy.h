#pragma once
// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1: one scale (and maybe a min) per 32 elements.
//
// The first quantization formats of ggml. A block is 32 consecutive elements of a row;
// the 4- and 5-bit ones store element j in the low nibble of qs[j] and element j+16 in the
// high nibble of the same byte, so a block splits into two 16-element halves that read the
// same 16 bytes: those halves are the parts here.
//
// Arithmetic mirrors ggml's dequantize_row_*: the integer quant is converted to float and
// multiplied by the scale (one rounding), then the min is added (a second rounding; the
// library is built with -ffp-contract=off so no fused multiply-add merges the two).
#include "formats/float_bits.h"
#include "formats/format.h"

namespace gguftk::formats {

// Q4_0 (18 bytes / 32 elements)
//
//   0      2                                18
//   +------+--------------------------------+
//   |  d   | qs[16]: lo nibble = y[j]       |
//   | fp16 |         hi nibble = y[j+16]    |
//   +------+--------------------------------+
struct Q4_0 {
    static constexpr GgmlType type = GgmlType::Q4_0;
    static constexpr std::string_view name = "Q4_0";
    static constexpr int block_elems = 32, block_bytes = 18, part_elems = 16;
    static constexpr Field fields[] = {
        {"d", 0, 2, FieldKind::Fp16, "block scale"},
        {"qs", 2, 16, FieldKind::Nibbles, "4-bit quants, offset by 8: byte j holds y[j] (low) and y[j+16] (high)"},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_qs = offset_of(fields, "qs");
    static constexpr const char* formula = "y = d * (q - 8)";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const uint8_t* qs = b + at_qs;
        const int shift = 4 * part;  // part 0: low nibbles, part 1: high nibbles
        for (int j = 0; j < 16; ++j) y[j] = float(((qs[j] >> shift) & 0xF) - 8) * d;
    }
};

// Q4_1 (20 bytes / 32 elements)
//
//   0      2      4                                20
//   +------+------+--------------------------------+
//   |  d   |  m   | qs[16]: lo = y[j], hi = y[j+16]|
//   +------+------+--------------------------------+
struct Q4_1 {
    static constexpr GgmlType type = GgmlType::Q4_1;
    static constexpr std::string_view name = "Q4_1";
    static constexpr int block_elems = 32, block_bytes = 20, part_elems = 16;
    static constexpr Field fields[] = {
        {"d", 0, 2, FieldKind::Fp16, "block scale"},
        {"m", 2, 2, FieldKind::Fp16, "block minimum, added to every element"},
        {"qs", 4, 16, FieldKind::Nibbles, "4-bit quants: byte j holds y[j] (low) and y[j+16] (high)"},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_m = offset_of(fields, "m"),
                         at_qs = offset_of(fields, "qs");
    static constexpr const char* formula = "y = d * q + m";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const float m = fp16_to_f32(load_u16(b + at_m));
        const uint8_t* qs = b + at_qs;
        const int shift = 4 * part;
        for (int j = 0; j < 16; ++j) y[j] = add_keeping_first_nan(float((qs[j] >> shift) & 0xF) * d, m);
    }
};

// Q5_0 (22 bytes / 32 elements)
//
//   0      2          6                                22
//   +------+----------+--------------------------------+
//   |  d   | qh (u32) | qs[16]: lo = y[j], hi = y[j+16]|
//   +------+----------+--------------------------------+
//   bit j of qh is the fifth bit of y[j] (j = 0..31)
struct Q5_0 {
    static constexpr GgmlType type = GgmlType::Q5_0;
    static constexpr std::string_view name = "Q5_0";
    static constexpr int block_elems = 32, block_bytes = 22, part_elems = 16;
    static constexpr Field fields[] = {
        {"d", 0, 2, FieldKind::Fp16, "block scale"},
        {"qh", 2, 4, FieldKind::Bits, "fifth bit of each quant: bit j (little-endian u32) belongs to y[j]"},
        {"qs", 6, 16, FieldKind::Nibbles, "low 4 bits: byte j holds y[j] (low) and y[j+16] (high)"},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_qh = offset_of(fields, "qh"),
                         at_qs = offset_of(fields, "qs");
    static constexpr const char* formula = "y = d * (q - 16), q = qs | qh << 4";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const uint32_t qh = load_u32(b + at_qh) >> (16 * part);
        const uint8_t* qs = b + at_qs;
        const int shift = 4 * part;
        for (int j = 0; j < 16; ++j) {
            const int q = ((qs[j] >> shift) & 0xF) | int((qh >> j) & 1u) << 4;
            y[j] = float(q - 16) * d;
        }
    }
};

// Q5_1 (24 bytes / 32 elements)
//
//   0      2      4          8                                24
//   +------+------+----------+--------------------------------+
//   |  d   |  m   | qh (u32) | qs[16]: lo = y[j], hi = y[j+16]|
//   +------+------+----------+--------------------------------+
struct Q5_1 {
    static constexpr GgmlType type = GgmlType::Q5_1;
    static constexpr std::string_view name = "Q5_1";
    static constexpr int block_elems = 32, block_bytes = 24, part_elems = 16;
    static constexpr Field fields[] = {
        {"d", 0, 2, FieldKind::Fp16, "block scale"},
        {"m", 2, 2, FieldKind::Fp16, "block minimum, added to every element"},
        {"qh", 4, 4, FieldKind::Bits, "fifth bit of each quant: bit j (little-endian u32) belongs to y[j]"},
        {"qs", 8, 16, FieldKind::Nibbles, "low 4 bits: byte j holds y[j] (low) and y[j+16] (high)"},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_m = offset_of(fields, "m"),
                         at_qh = offset_of(fields, "qh"), at_qs = offset_of(fields, "qs");
    static constexpr const char* formula = "y = d * q + m, q = qs | qh << 4";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const float m = fp16_to_f32(load_u16(b + at_m));
        const uint32_t qh = load_u32(b + at_qh) >> (16 * part);
        const uint8_t* qs = b + at_qs;
        const int shift = 4 * part;
        for (int j = 0; j < 16; ++j) {
            const int q = ((qs[j] >> shift) & 0xF) | int((qh >> j) & 1u) << 4;
            y[j] = add_keeping_first_nan(float(q) * d, m);
        }
    }
};

// Q8_0 (34 bytes / 32 elements)
//
//   0      2                                34
//   +------+--------------------------------+
//   |  d   | qs[32]: int8, y[j] from qs[j]  |
//   +------+--------------------------------+
struct Q8_0 {
    static constexpr GgmlType type = GgmlType::Q8_0;
    static constexpr std::string_view name = "Q8_0";
    static constexpr int block_elems = 32, block_bytes = 34, part_elems = 16;
    static constexpr Field fields[] = {
        {"d", 0, 2, FieldKind::Fp16, "block scale"},
        {"qs", 2, 32, FieldKind::Int8, "signed 8-bit quants, one per element"},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_qs = offset_of(fields, "qs");
    static constexpr const char* formula = "y = d * q";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const uint8_t* qs = b + at_qs + 16 * part;
        for (int j = 0; j < 16; ++j) y[j] = float(int8_t(qs[j])) * d;
    }
};

// Q8_1 (36 bytes / 32 elements): Q8_0 plus the block sum, for dot products
//
//   0      2      4                                36
//   +------+------+--------------------------------+
//   |  d   |  s   | qs[32]: int8, y[j] from qs[j]  |
//   +------+------+--------------------------------+
//
// ggml uses Q8_1 only for activations and has no dequantize_row_q8_1; y = d * q is the
// format's meaning (and what the reference fixture holds). s is not needed to decode.
// gguf-py's table still lists the old 40-byte layout with float32 d and s.
struct Q8_1 {
    static constexpr GgmlType type = GgmlType::Q8_1;
    static constexpr std::string_view name = "Q8_1";
    static constexpr int block_elems = 32, block_bytes = 36, part_elems = 16;
    static constexpr Field fields[] = {
        {"d", 0, 2, FieldKind::Fp16, "block scale"},
        {"s", 2, 2, FieldKind::Fp16, "d * sum(qs), precomputed for dot products; unused by decoding"},
        {"qs", 4, 32, FieldKind::Int8, "signed 8-bit quants, one per element"},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_s = offset_of(fields, "s"),
                         at_qs = offset_of(fields, "qs");
    static constexpr const char* formula = "y = d * q";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const uint8_t* qs = b + at_qs + 16 * part;
        for (int j = 0; j < 16; ++j) y[j] = float(int8_t(qs[j])) * d;
    }
};

using LegacyFormats = FormatList<Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1>;

}  // namespace gguftk::formats
