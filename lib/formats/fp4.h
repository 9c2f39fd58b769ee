#pragma once
// MXFP4, NVFP4: E2M1 4-bit floats with shared E8M0 / UE4M3 scales.
//
// Each element is an E2M1 float (sign, 2 exponent bits, 1 mantissa bit: 0, 0.5, 1, 1.5, 2, 3,
// 4, 6 and their negatives) times a scale shared by a small group. ggml keeps the code book
// doubled, as integers (kvalues_fp4 = 2 * E2M1: 0, 1, 2, 3, 4, 6, 8, 12, ...), and halves the
// scale instead; both halvings are exact, so the products are the true values. We do the same
// to have ggml's operations: y = float(kvalue) * (scale / 2).
//
// MXFP4 (OCP microscaling): 32 elements share an E8M0 scale, a bare power of two 2^(e - 127).
// NVFP4: 16 elements share an unsigned E4M3 float8 scale; a block holds four such groups.
#include "formats/float_bits.h"
#include "formats/format.h"
#include "formats/tables.h"

namespace gguftk::formats {

namespace fp4 {
// 2^(e - 127) / 2 as ggml's ggml_e8m0_to_fp32_half builds it: straight into the bits, with
// e = 0 and 1 giving the subnormals 2^-128 and 2^-127 and e = 255 the finite 2^127 (the
// E8M0 NaN code is not treated specially).
GGUFTK_HD float e8m0_to_f32_half(uint8_t e) {
    const uint32_t bits = e < 2 ? 0x00200000u << e : uint32_t(e - 1) << 23;
    return f32_from_bits(bits);
}

// An unsigned E4M3 scale (bias 7, no sign; bit 7 ignored), halved, as ggml_ue4m3_to_fp32:
// codes 0x00 and 0x7F (E4M3's NaN) give 0. ggml computes ldexpf(1 + man/8, exp - 7) * 0.5f;
// every step is exact, so building (8 + man) * 2^(exp - 11) directly gives the same bits.
GGUFTK_HD float ue4m3_to_f32_half(uint8_t x) {
    if (x == 0 || x == 0x7F) return 0.0f;
    const int exp = (x >> 3) & 0xF;
    const int man = x & 0x7;
    if (exp == 0) return float(man) * 0x1p-10f;  // subnormal: man * 2^-9, halved
    return float(8 + man) * f32_from_bits(uint32_t(exp - 11 + 127) << 23);
}
}  // namespace fp4

// MXFP4 (17 bytes / 32 elements: 4.25 bits per weight)
//
//   0   1                                17
//   +---+--------------------------------+
//   | e | qs[16]: lo nibble = y[j]       |
//   |   |         hi nibble = y[j+16]    |
//   +---+--------------------------------+
//   y = kvalues_fp4[code] * 2^(e - 128)
struct MXFP4 {
    static constexpr GgmlType type = GgmlType::MXFP4;
    static constexpr std::string_view name = "MXFP4";
    static constexpr int block_elems = 32, block_bytes = 17, part_elems = 16;
    static constexpr Field fields[] = {
        {"e", 0, 1, FieldKind::E8M0, "shared scale 2^(e - 127)"},
        {"qs", 1, 16, FieldKind::Nibbles, "E2M1 codes: byte j holds y[j] (low) and y[j+16] (high)"},
    };
    static constexpr int at_e = offset_of(fields, "e"), at_qs = offset_of(fields, "qs");
    static constexpr const char* formula = "y = e2m1(q) * 2^(e - 127)";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp4::e8m0_to_f32_half(b[at_e]);
        const uint8_t* qs = b + at_qs;
        const int shift = 4 * part;
        for (int j = 0; j < 16; ++j) y[j] = float(tables::kvalues_fp4()[(qs[j] >> shift) & 0xf]) * d;
    }
};

// NVFP4 (36 bytes / 64 elements: 4.5 bits per weight)
//
//   0      4                                                   36
//   +------+---------------------------------------------------+
//   | d[4] | qs[32]: 8 bytes per 16-element group s:           |
//   |UE4M3 |   byte 8s+j holds y[16s+j] (low), y[16s+j+8] (hi) |
//   +------+---------------------------------------------------+
struct NVFP4 {
    static constexpr GgmlType type = GgmlType::NVFP4;
    static constexpr std::string_view name = "NVFP4";
    static constexpr int block_elems = 64, block_bytes = 36, part_elems = 16;
    static constexpr Field fields[] = {
        {"d", 0, 4, FieldKind::UE4M3, "one unsigned E4M3 scale per 16 elements"},
        {"qs", 4, 32, FieldKind::Nibbles,
         "E2M1 codes, 8 bytes per 16 elements: byte j holds element j (low) and j+8 (high) of its group"},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_qs = offset_of(fields, "qs");
    static constexpr const char* formula = "y = e2m1(q) * ue4m3(d[s])";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp4::ue4m3_to_f32_half(b[at_d + part]);
        const uint8_t* qs = b + at_qs + 8 * part;
        for (int j = 0; j < 8; ++j) {
            y[j + 0] = float(tables::kvalues_fp4()[qs[j] & 0x0F]) * d;
            y[j + 8] = float(tables::kvalues_fp4()[qs[j] >> 4]) * d;
        }
    }
};

using Fp4Formats = FormatList<MXFP4, NVFP4>;

}  // namespace gguftk::formats
