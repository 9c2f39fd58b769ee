#pragma once
// TQ1_0, TQ2_0, Q1_0, Q2_0: ternary and binary weights with one scale per block.
//
// Formats for models trained with (almost) one-bit weights (BitNet b1.58 and the like): every
// element is -d, 0 or +d (TQ1_0, TQ2_0), -d or +d (Q1_0), or -d, 0, +d, +2d (Q2_0).
//
// TQ1_0 packs five ternary digits into one byte as a fixed-point fraction: the byte is
// ceil(t * 256 / 243) for t = sum of trit_n * 3^(4-n), so trit n is recovered by multiplying
// by 3^n modulo 256 (which drops the digits before it) and taking the top digit,
// (q * 3) >> 8. No division, and the same integer steps on every machine.
//
// Arithmetic mirrors ggml's dequantize_row_*: y = float(q - 1) * d, one rounding.
#include "formats/float_bits.h"
#include "formats/format.h"

namespace gguftk::formats {

namespace ternary {
// Digit n (0 = most significant) of a TQ1_0 byte, as -1, 0 or +1.
GGUFTK_HD int trit(uint8_t packed, int n) {
    // 3^n for n = 0..4 (1, 3, 9, 27, 81) as the bytes of one constant: a local array indexed
    // at run time lands in GPU local memory, which made the CUDA kernel 15x slower.
    const uint8_t pow3 = uint8_t(0x51'1B'09'03'01ull >> (8 * n));
    const uint8_t q = uint8_t(packed * pow3);  // modulo 256, as ggml's uint8_t product
    return int((uint16_t(q) * 3) >> 8) - 1;
}
}  // namespace ternary

// TQ1_0 (54 bytes / 256 elements: 1.6875 bits per weight)
//
//   0                     32            48      52     54
//   +---------------------+-------------+-------+------+
//   | qs[0..31]: 5 trits  | qs[32..47]: | qh[4]:|  d   |
//   | each, 160 elements  | 5 trits, 80 | 4 each| fp16 |
//   +---------------------+-------------+-------+------+
//   element 32n+m (m < 32) is trit n of qs[m]; 160+16n+m is trit n of qs[32+m];
//   240+4n+m is trit n of qh[m]
struct TQ1_0 {
    static constexpr GgmlType type = GgmlType::TQ1_0;
    static constexpr std::string_view name = "TQ1_0";
    static constexpr int block_elems = 256, block_bytes = 54, part_elems = 16;
    static constexpr Field fields[] = {
        {"qs", 0, 48, FieldKind::Trits5, "five trits per byte (base 3, first trit most significant), 240 elements"},
        {"qh", 48, 4, FieldKind::Trits4, "four trits per byte, the last 16 elements"},
        {"d", 52, 2, FieldKind::Fp16, "block scale"},
    };
    static constexpr int at_qs = offset_of(fields, "qs"), at_qh = offset_of(fields, "qh"),
                         at_d = offset_of(fields, "d");
    static constexpr const char* formula = "y = d * t, t in {-1, 0, 1}";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        if (part < 10) {  // qs[0..31]: part covers bytes 16*(part%2).. of trit part/2
            const uint8_t* q = b + at_qs + 16 * (part & 1);
            const int n = part >> 1;
            for (int m = 0; m < 16; ++m) y[m] = float(ternary::trit(q[m], n)) * d;
        } else if (part < 15) {  // qs[32..47]: trit part-10 of all 16 bytes
            const int n = part - 10;
            for (int m = 0; m < 16; ++m) y[m] = float(ternary::trit(b[at_qs + 32 + m], n)) * d;
        } else {  // qh: four trits of four bytes
            for (int n = 0; n < 4; ++n)
                for (int m = 0; m < 4; ++m) y[4 * n + m] = float(ternary::trit(b[at_qh + m], n)) * d;
        }
    }
};

// TQ2_0 (66 bytes / 256 elements: 2.0625 bits per weight)
//
//   0                                                  64     66
//   +--------------------------------------------------+------+
//   | qs[64]: 2-bit codes (q - 1 = -1, 0, 1)            |  d   |
//   +--------------------------------------------------+------+
//   element 128h + 32l + m: qs[32h + m] >> 2l & 3
struct TQ2_0 {
    static constexpr GgmlType type = GgmlType::TQ2_0;
    static constexpr std::string_view name = "TQ2_0";
    static constexpr int block_elems = 256, block_bytes = 66, part_elems = 32;
    static constexpr Field fields[] = {
        {"qs", 0, 64, FieldKind::Crumbs, "2-bit codes q (y = (q - 1) * d), four per byte, in 32-byte groups of 128 elements"},
        {"d", 64, 2, FieldKind::Fp16, "block scale"},
    };
    static constexpr int at_qs = offset_of(fields, "qs"), at_d = offset_of(fields, "d");
    static constexpr const char* formula = "y = d * (q - 1)";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const uint8_t* q = b + at_qs + 32 * (part >> 2);
        const int shift = 2 * (part & 3);
        for (int m = 0; m < 32; ++m) y[m] = float(((q[m] >> shift) & 3) - 1) * d;
    }
};

// Q1_0 (18 bytes / 128 elements: 1.125 bits per weight)
//
//   0      2                                18
//   +------+--------------------------------+
//   |  d   | qs[16]: bit j%8 of byte j/8    |
//   | fp16 |   set: y[j] = d, clear: -d     |
//   +------+--------------------------------+
struct Q1_0 {
    static constexpr GgmlType type = GgmlType::Q1_0;
    static constexpr std::string_view name = "Q1_0";
    static constexpr int block_elems = 128, block_bytes = 18, part_elems = 32;
    static constexpr Field fields[] = {
        {"d", 0, 2, FieldKind::Fp16, "block scale (the mean absolute weight)"},
        {"qs", 2, 16, FieldKind::Bits, "one sign bit per element, least significant bit first: 1 is +d, 0 is -d"},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_qs = offset_of(fields, "qs");
    static constexpr const char* formula = "y = bit ? d : -d";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const uint8_t* qs = b + at_qs + 4 * part;
        for (int j = 0; j < 32; ++j) y[j] = negated_if(d, uint32_t(~qs[j >> 3] >> (j & 7) & 1));
    }
};

// Q2_0 (18 bytes / 64 elements: 2.25 bits per weight)
//
//   0      2                                18
//   +------+--------------------------------+
//   |  d   | qs[16]: 2-bit codes, element j |
//   | fp16 |   at bits 2*(j%4) of byte j/4  |
//   +------+--------------------------------+
//   codes 0, 1, 2, 3 mean -d, 0, +d, +2d
struct Q2_0 {
    static constexpr GgmlType type = GgmlType::Q2_0;
    static constexpr std::string_view name = "Q2_0";
    static constexpr int block_elems = 64, block_bytes = 18, part_elems = 16;
    static constexpr Field fields[] = {
        {"d", 0, 2, FieldKind::Fp16, "block scale (the largest absolute weight)"},
        {"qs", 2, 16, FieldKind::Crumbs, "2-bit codes q (y = (q - 1) * d), four per byte, lowest bits first"},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_qs = offset_of(fields, "qs");
    static constexpr const char* formula = "y = d * (q - 1)";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const uint8_t* qs = b + at_qs + 4 * part;
        for (int j = 0; j < 16; ++j) y[j] = float(((qs[j >> 2] >> (2 * (j & 3))) & 3) - 1) * d;
    }
};

using TernaryFormats = FormatList<TQ1_0, TQ2_0, Q1_0, Q2_0>;

}  // namespace gguftk::formats
