#pragma once
// IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ4_NL, IQ4_XS: lattice grids and
// non-uniform code books.
//
// The "i-quants" do not store one small integer per element. The grid formats (IQ1, IQ2, IQ3)
// quantize groups of 8 (or 4) elements together: an index picks a point of a fixed lattice
// (tables.h), whose byte lanes are the magnitudes, and 8 sign bits (or, for IQ1, one shared
// shift) complete it. A 7-bit sign index expands to 8 signs with even parity through
// ksigns_iq2xs, the eighth sign being implied. A 4-bit (IQ1: 3-bit) scale per 32 elements
// multiplies the block's fp16 d. IQ4_NL and IQ4_XS instead map each 4-bit code through a
// 16-entry non-uniform code book.
//
// A part is one lattice point (8 elements) for the grid formats and 16 elements for the code
// book ones; each part recomputes its sub-block scale, which is a couple of integer operations.
// Arithmetic mirrors ggml's dequantize_row_*: the sub-block scale db is rounded to float exactly
// as ggml groups it (d * (0.5f + s) * 0.25f is two roundings), then y = db * grid * sign.
#include "formats/float_bits.h"
#include "formats/format.h"
#include "formats/tables.h"

namespace gguftk::formats {

namespace iq {
// Lane j of a packed grid entry: the magnitude of element j.
GGUFTK_HD uint8_t lane(uint64_t g, int j) {
#if defined(__CUDA_ARCH__)
    // One byte permute (the byte, zeros above it) where a 64-bit shift and a mask took two.
    return uint8_t(__byte_perm(uint32_t(g >> (j & 4 ? 32 : 0)), 0, 0x4440u | unsigned(j & 3)));
#else
    return uint8_t(g >> (8 * j));
#endif
}
// Lane j of an iq1s_grid entry, whose bytes are signed (nvcc makes this the one byte permute
// and a signed conversion by itself).
GGUFTK_HD int8_t signed_lane(uint64_t g, int j) { return int8_t(g >> (8 * j)); }
// ggml multiplies by -1.f or 1.f; so do we (it is exact, but "same operations" is the rule).
// ggml tests bit j through kmask_iq2xs[j], which is 1 << j; the shift spares a table load.
GGUFTK_HD float sign(uint8_t signs, int j) { return negated_if(1.f, uint32_t(signs >> j & 1)); }
}  // namespace iq

// IQ2_XXS (66 bytes / 256 elements: 2.0625 bits per weight)
//
//   0      2                                                     66
//   +------+-----------------------------------------------------+
//   |  d   | qs: 8 groups of 8 bytes, one per 32 elements:       |
//   | fp16 |   4 grid indices (bytes) | u32: 4 x 7 sign bits, s  |
//   +------+-----------------------------------------------------+
//   u32 bits 7l..7l+6: sign index of point l; bits 28..31: scale s
struct IQ2_XXS {
    static constexpr GgmlType type = GgmlType::IQ2_XXS;
    static constexpr std::string_view name = "IQ2_XXS";
    static constexpr int block_elems = 256, block_bytes = 66, part_elems = 8;
    static constexpr Packing qs_packing{8, {{"grid", 8, 4}, {"sign_index", 7, 4}, {"scale", 4}}};
    static constexpr Field fields[] = {
        {"d", 0, 2, FieldKind::Fp16, "super-block scale"},
        {"qs", 2, 64, FieldKind::GridIndex,
         "per 32 elements: 4 iq2xxs_grid indices, then a u32 of 4 seven-bit sign indices and a 4-bit scale (bits 28-31)",
         &qs_packing},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_qs = offset_of(fields, "qs");
    static constexpr const char* formula = "y = d * (0.5 + s) * 0.25 * grid[q] * sign";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const uint8_t* q = b + at_qs + 8 * (part >> 2);
        const int l = part & 3;
        const uint32_t aux = load_u32(q + 4);
        const float db = d * (0.5f + float(aux >> 28)) * 0.25f;
        const uint64_t g = tables::iq2xxs_grid()[q[l]];
        const uint8_t signs = tables::ksigns_iq2xs()[(aux >> (7 * l)) & 127];
        for (int j = 0; j < 8; ++j) y[j] = db * float(iq::lane(g, j)) * iq::sign(signs, j);
    }
};

// IQ2_XS (74 bytes / 256 elements: 2.3125 bits per weight)
//
//   0      2                                 66          74
//   +------+---------------------------------+-----------+
//   |  d   | qs[32] u16: 9-bit grid index,   | scales[8] |
//   |      |   7-bit sign index (top)        |           |
//   +------+---------------------------------+-----------+
//   scales[i]: low nibble for elements 32i..32i+15, high nibble for 32i+16..32i+31
struct IQ2_XS {
    static constexpr GgmlType type = GgmlType::IQ2_XS;
    static constexpr std::string_view name = "IQ2_XS";
    static constexpr int block_elems = 256, block_bytes = 74, part_elems = 8;
    static constexpr Packing qs_packing{2, {{"grid", 9}, {"sign_index", 7}}};
    static constexpr Field fields[] = {
        {"d", 0, 2, FieldKind::Fp16, "super-block scale"},
        {"qs", 2, 64, FieldKind::GridIndex,
         "one little-endian u16 per 8 elements: iq2xs_grid index (bits 0-8), sign index (bits 9-15)", &qs_packing},
        {"scales", 66, 8, FieldKind::Scales4, "4-bit scales, two per 32 elements (low nibble first)"},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_qs = offset_of(fields, "qs"),
                         at_scales = offset_of(fields, "scales");
    static constexpr const char* formula = "y = d * (0.5 + s) * 0.25 * grid[q] * sign";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const uint8_t sc = b[at_scales + (part >> 2)];
        const int s = (part & 2) ? sc >> 4 : sc & 0xf;
        const float db = d * (0.5f + float(s)) * 0.25f;
        const uint16_t q = load_u16(b + at_qs + 2 * part);
        const uint64_t g = tables::iq2xs_grid()[q & 511];
        const uint8_t signs = tables::ksigns_iq2xs()[q >> 9];
        for (int j = 0; j < 8; ++j) y[j] = db * float(iq::lane(g, j)) * iq::sign(signs, j);
    }
};

// IQ2_S (82 bytes / 256 elements: 2.5625 bits per weight)
//
//   0      2          34          66      74          82
//   +------+----------+-----------+-------+-----------+
//   |  d   | qs[32]   | signs[32] | qh[8] | scales[8] |
//   +------+----------+-----------+-------+-----------+
//   point p (8 elements): grid index qs[p] | (qh[p/4] >> 2*(p%4) & 3) << 8, signs[p] plain bits
//   (ggml's struct calls qs and signs together qs[64])
struct IQ2_S {
    static constexpr GgmlType type = GgmlType::IQ2_S;
    static constexpr std::string_view name = "IQ2_S";
    static constexpr int block_elems = 256, block_bytes = 82, part_elems = 8;
    static constexpr Packing qs_packing{1, {{"grid_low8", 8}}};
    static constexpr Packing signs_packing{1, {{"signs", 1, 8, false, false}}};
    static constexpr Packing qh_packing{1, {{"grid_high2", 2, 4}}};
    static constexpr Field fields[] = {
        {"d", 0, 2, FieldKind::Fp16, "super-block scale"},
        {"qs", 2, 32, FieldKind::GridIndex, "low 8 bits of the iq2s_grid index, one per 8 elements", &qs_packing},
        {"signs", 34, 32, FieldKind::Signs, "8 sign bits per 8 elements (ggml: qs[32..63])", &signs_packing},
        {"qh", 66, 8, FieldKind::GridIndex, "high 2 bits of the 4 grid indices of each 32 elements", &qh_packing},
        {"scales", 74, 8, FieldKind::Scales4, "4-bit scales, two per 32 elements (low nibble first)"},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_qs = offset_of(fields, "qs"),
                         at_signs = offset_of(fields, "signs"), at_qh = offset_of(fields, "qh"),
                         at_scales = offset_of(fields, "scales");
    static constexpr const char* formula = "y = d * (0.5 + s) * 0.25 * grid[q] * sign, q = qs | qh << 8";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const int ib32 = part >> 2, l = part & 3;
        const uint8_t sc = b[at_scales + ib32];
        const int s = (l & 2) ? sc >> 4 : sc & 0xf;
        const float dl = d * (0.5f + float(s)) * 0.25f;
        const int idx = b[at_qs + part] | ((b[at_qh + ib32] << (8 - 2 * l)) & 0x300);
        const uint64_t g = tables::iq2s_grid()[idx];
        const uint8_t signs = b[at_signs + part];
        for (int j = 0; j < 8; ++j) y[j] = dl * float(iq::lane(g, j)) * iq::sign(signs, j);
    }
};

// IQ3_XXS (98 bytes / 256 elements: 3.0625 bits per weight)
//
//   0      2                    66                          98
//   +------+--------------------+---------------------------+
//   |  d   | qs[64]: grid index | scales_and_signs: 8 x u32 |
//   |      | per 4 elements     | 4 x 7 sign bits, scale s  |
//   +------+--------------------+---------------------------+
struct IQ3_XXS {
    static constexpr GgmlType type = GgmlType::IQ3_XXS;
    static constexpr std::string_view name = "IQ3_XXS";
    static constexpr int block_elems = 256, block_bytes = 98, part_elems = 8;
    static constexpr Packing qs_packing{1, {{"grid", 8}}};
    static constexpr Packing scales_and_signs_packing{4, {{"sign_index", 7, 4}, {"scale", 4}}};
    static constexpr Field fields[] = {
        {"d", 0, 2, FieldKind::Fp16, "super-block scale"},
        {"qs", 2, 64, FieldKind::GridIndex, "iq3xxs_grid indices, one per 4 elements", &qs_packing},
        {"scales_and_signs", 66, 32, FieldKind::Signs,
         "one u32 per 32 elements: 4 seven-bit sign indices (one per 8 elements), 4-bit scale in bits 28-31 (ggml: qs[64..95])",
         &scales_and_signs_packing},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_qs = offset_of(fields, "qs"),
                         at_scales_and_signs = offset_of(fields, "scales_and_signs");
    static constexpr const char* formula = "y = d * (0.5 + s) * 0.5 * grid[q] * sign";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const int ib32 = part >> 2, l = part & 3;
        const uint32_t aux = load_u32(b + at_scales_and_signs + 4 * ib32);
        const float db = d * (0.5f + float(aux >> 28)) * 0.5f;
        const uint8_t signs = tables::ksigns_iq2xs()[(aux >> (7 * l)) & 127];
        const uint32_t g1 = tables::iq3xxs_grid()[b[at_qs + 2 * part]];
        const uint32_t g2 = tables::iq3xxs_grid()[b[at_qs + 1 + 2 * part]];
        for (int j = 0; j < 4; ++j) {
            y[j + 0] = db * float(iq::lane(g1, j)) * iq::sign(signs, j + 0);
            y[j + 4] = db * float(iq::lane(g2, j)) * iq::sign(signs, j + 4);
        }
    }
};

// IQ3_S (110 bytes / 256 elements: 3.4375 bits per weight)
//
//   0      2          66      74          106         110
//   +------+----------+-------+-----------+-----------+
//   |  d   | qs[64]   | qh[8] | signs[32] | scales[4] |
//   +------+----------+-------+-----------+-----------+
//   grid index of 4 elements: qs[i] | bit (i%8) of qh[i/8] << 8; signs: plain bits, 8 per byte
//   scales[i]: low nibble for elements 64i..64i+31, high nibble for the next 32
struct IQ3_S {
    static constexpr GgmlType type = GgmlType::IQ3_S;
    static constexpr std::string_view name = "IQ3_S";
    static constexpr int block_elems = 256, block_bytes = 110, part_elems = 8;
    static constexpr Packing qs_packing{1, {{"grid_low8", 8}}};
    static constexpr Packing qh_packing{1, {{"grid_bit8", 1, 8}}};
    static constexpr Packing signs_packing{1, {{"signs", 1, 8, false, false}}};
    static constexpr Field fields[] = {
        {"d", 0, 2, FieldKind::Fp16, "super-block scale"},
        {"qs", 2, 64, FieldKind::GridIndex, "low 8 bits of the iq3s_grid index, one per 4 elements", &qs_packing},
        {"qh", 66, 8, FieldKind::GridIndex, "ninth bit of the grid indices: byte per 32 elements, bit per 4",
         &qh_packing},
        {"signs", 74, 32, FieldKind::Signs, "one sign bit per element", &signs_packing},
        {"scales", 106, 4, FieldKind::Scales4, "4-bit scales, one per 32 elements (low nibble first)"},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_qs = offset_of(fields, "qs"),
                         at_qh = offset_of(fields, "qh"), at_signs = offset_of(fields, "signs"),
                         at_scales = offset_of(fields, "scales");
    static constexpr const char* formula = "y = d * (1 + 2 * s) * grid[q] * sign, q = qs | qh << 8";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const int ib32 = part >> 2, l = part & 3;
        const uint8_t sc = b[at_scales + (ib32 >> 1)];
        const float db = d * float(1 + 2 * ((ib32 & 1) ? sc >> 4 : sc & 0xf));
        const int qh = b[at_qh + ib32];
        const uint8_t* qs = b + at_qs + 2 * part;
        const uint32_t g1 = tables::iq3s_grid()[qs[0] | ((qh << (8 - 2 * l)) & 256)];
        const uint32_t g2 = tables::iq3s_grid()[qs[1] | ((qh << (7 - 2 * l)) & 256)];
        const uint8_t signs = b[at_signs + part];
        for (int j = 0; j < 4; ++j) {
            y[j + 0] = db * float(iq::lane(g1, j)) * iq::sign(signs, j + 0);
            y[j + 4] = db * float(iq::lane(g2, j)) * iq::sign(signs, j + 4);
        }
    }
};

// IQ1_S (50 bytes / 256 elements: 1.5625 bits per weight)
//
//   0      2                  34                        50
//   +------+------------------+-------------------------+
//   |  d   | qs[32]: low 8    | qh[8] u16, per 32 elems:|
//   |      | bits of indices  | 4 x 3 index bits, s, sgn|
//   +------+------------------+-------------------------+
//   qh bits 3l..3l+2: high bits of point l's iq1s_grid index; 12..14: scale s; 15: delta sign
struct IQ1_S {
    static constexpr GgmlType type = GgmlType::IQ1_S;
    static constexpr std::string_view name = "IQ1_S";
    static constexpr int block_elems = 256, block_bytes = 50, part_elems = 8;
    static constexpr Packing qs_packing{1, {{"grid_low8", 8}}};
    static constexpr Packing qh_packing{2, {{"grid_high3", 3, 4}, {"scale", 3}, {"delta_sign", 1}}};
    static constexpr Field fields[] = {
        {"d", 0, 2, FieldKind::Fp16, "super-block scale"},
        {"qs", 2, 32, FieldKind::GridIndex, "low 8 bits of the iq1s_grid index, one per 8 elements", &qs_packing},
        {"qh", 34, 16, FieldKind::Raw,
         "one u16 per 32 elements: 3 high index bits per 8 elements (bits 0-11), scale (12-14), sign of the shift (15)",
         &qh_packing},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_qs = offset_of(fields, "qs"),
                         at_qh = offset_of(fields, "qh");
    static constexpr const char* formula = "y = d * (2 * s + 1) * (grid[q] +/- 0.125), q = qs | grid_high3 << 8";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const int ib = part >> 2, l = part & 3;
        const uint16_t qh = load_u16(b + at_qh + 2 * ib);
        const float dl = d * float(2 * ((qh >> 12) & 7) + 1);
        const float delta = (qh & 0x8000) ? -tables::iq1s_delta : tables::iq1s_delta;
        const uint64_t g = tables::iq1s_grid()[b[at_qs + part] | (((qh >> (3 * l)) & 7) << 8)];
        for (int j = 0; j < 8; ++j) y[j] = dl * (float(iq::signed_lane(g, j)) + delta);
    }
};

// IQ1_M (56 bytes / 256 elements: 1.75 bits per weight)
//
//   0                  32                      48           56
//   +------------------+-----------------------+------------+
//   | qs[32]: low 8    | qh[16]: per 8 elems   | scales[8]  |
//   | bits of indices  | 3 index bits + sign   | 4 x u16    |
//   +------------------+-----------------------+------------+
//   qh byte k: low nibble for point 2k, high nibble for 2k+1 (bits 0-2 index, bit 3 shift sign)
//   scales as 4 u16: 3-bit scales, 4 per u16 (one per 16 elements); the top nibbles of the
//   four u16 together are the fp16 super-block scale d
struct IQ1_M {
    static constexpr GgmlType type = GgmlType::IQ1_M;
    static constexpr std::string_view name = "IQ1_M";
    static constexpr int block_elems = 256, block_bytes = 56, part_elems = 8;
    static constexpr Packing qs_packing{1, {{"grid_low8", 8}}};
    static constexpr Packing qh_packing{
        1, {{"grid_high3", 3}, {"delta_sign", 1}, {"grid_high3", 3}, {"delta_sign", 1}}};
    static constexpr Packing scales_packing{2, {{"scales", 3, 4}, {"d_nibble", 4, 1, false, false}}, {"d_nibble", "d"}};
    static constexpr Field fields[] = {
        {"qs", 0, 32, FieldKind::GridIndex, "low 8 bits of the iq1s_grid index, one per 8 elements", &qs_packing},
        {"qh", 32, 16, FieldKind::Raw, "a nibble per 8 elements: 3 high index bits, sign of the shift (bit 3)",
         &qh_packing},
        {"scales", 48, 8, FieldKind::Raw,
         "4 u16: 3-bit scales, one per 16 elements (bits 0-11); the top nibbles form the fp16 d", &scales_packing},
    };
    static constexpr int at_qs = offset_of(fields, "qs"), at_qh = offset_of(fields, "qh"),
                         at_scales = offset_of(fields, "scales");
    static constexpr const char* formula = "y = d * (2 * s + 1) * (grid[q] +/- 0.125), q = qs | grid_high3 << 8";
    // The fp16 super-block scale: nibble k of its bits is the top nibble of scales u16 k.
    GGUFTK_HD static uint16_t d_bits(const uint8_t* b) {
        uint16_t bits = 0;
        for (int k = 0; k < 4; ++k) bits |= uint16_t(load_u16(b + at_scales + 2 * k) >> 12) << (4 * k);
        return bits;
    }
    // Stores d's bits in those nibbles, keeping the 3-bit scales (for tools that build blocks).
    static void set_d_bits(uint8_t* b, uint16_t bits) {
        for (int k = 0; k < 4; ++k) {
            uint8_t* p = b + at_scales + 2 * k;
            const uint16_t sc = uint16_t((load_u16(p) & 0x0fff) | ((bits >> (4 * k)) & 0xf) << 12);
            p[0] = uint8_t(sc), p[1] = uint8_t(sc >> 8);
        }
    }
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const uint8_t* scales = b + at_scales;
        const float d = fp16_to_f32(d_bits(b));
        const int ib = part >> 2, l = part & 3;
        const uint16_t sc = load_u16(scales + 2 * (ib >> 1));
        const int shift = 6 * (ib & 1) + 3 * (l >> 1);  // points 0,1 share dl1; 2,3 share dl2
        const float dl = d * float(2 * ((sc >> shift) & 0x7) + 1);
        const uint8_t qh = b[at_qh + 2 * ib + (l >> 1)];
        const int hi = (l & 1) ? (qh << 4) & 0x700 : (qh << 8) & 0x700;
        const uint8_t neg = (l & 1) ? qh & 0x80 : qh & 0x08;
        const float delta = neg ? -tables::iq1s_delta : tables::iq1s_delta;
        const uint64_t g = tables::iq1s_grid()[b[at_qs + part] | hi];
        for (int j = 0; j < 8; ++j) y[j] = dl * (float(iq::signed_lane(g, j)) + delta);
    }
};

// IQ4_NL (18 bytes / 32 elements: 4.5 bits per weight)
//
//   0      2                                18
//   +------+--------------------------------+
//   |  d   | qs[16]: lo nibble = y[j]       |
//   | fp16 |         hi nibble = y[j+16]    |
//   +------+--------------------------------+
//   y = d * kvalues_iq4nl[code]: Q4_0's layout with a non-uniform code book
struct IQ4_NL {
    static constexpr GgmlType type = GgmlType::IQ4_NL;
    static constexpr std::string_view name = "IQ4_NL";
    static constexpr int block_elems = 32, block_bytes = 18, part_elems = 16;
    static constexpr Field fields[] = {
        {"d", 0, 2, FieldKind::Fp16, "block scale"},
        {"qs", 2, 16, FieldKind::Nibbles, "kvalues_iq4nl codes: byte j holds y[j] (low) and y[j+16] (high)"},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_qs = offset_of(fields, "qs");
    static constexpr const char* formula = "y = d * kvalues_iq4nl[q]";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const uint8_t* qs = b + at_qs;
        const int shift = 4 * part;
        for (int j = 0; j < 16; ++j) y[j] = d * float(tables::kvalues_iq4nl()[(qs[j] >> shift) & 0xf]);
    }
};

// IQ4_XS (136 bytes / 256 elements: 4.25 bits per weight)
//
//   0      2          4             8                                  136
//   +------+----------+-------------+----------------------------------+
//   |  d   | scales_h | scales_l[4] | qs[128]: 8 x IQ4_NL-style 16 B   |
//   +------+----------+-------------+----------------------------------+
//   6-bit scale of sub-block i (32 elements), stored +32: low 4 bits in scales_l[i/2]
//   (low nibble for even i), high 2 bits in scales_h bits 2i..2i+1
struct IQ4_XS {
    static constexpr GgmlType type = GgmlType::IQ4_XS;
    static constexpr std::string_view name = "IQ4_XS";
    static constexpr int block_elems = 256, block_bytes = 136, part_elems = 16;
    static constexpr Packing scales_h_packing{2, {{"scales_high2", 2, 8}}};
    static constexpr Field fields[] = {
        {"d", 0, 2, FieldKind::Fp16, "super-block scale"},
        {"scales_h", 2, 2, FieldKind::Raw, "u16: high 2 bits of the eight 6-bit sub-block scales", &scales_h_packing},
        {"scales_l", 4, 4, FieldKind::Scales4, "low 4 bits of the sub-block scales, two per byte"},
        {"qs", 8, 128, FieldKind::Nibbles,
         "kvalues_iq4nl codes, 16 bytes per 32 elements: byte j holds y[j] (low) and y[j+16] (high)"},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_scales_h = offset_of(fields, "scales_h"),
                         at_scales_l = offset_of(fields, "scales_l"), at_qs = offset_of(fields, "qs");
    static constexpr const char* formula = "y = d * (ls - 32) * kvalues_iq4nl[q], ls = scales_l | scales_h << 4";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const int ib = part >> 1;
        const int ls = ((b[at_scales_l + (ib >> 1)] >> (4 * (ib & 1))) & 0xf) |
                       (((load_u16(b + at_scales_h) >> (2 * ib)) & 3) << 4);
        const float dl = d * float(ls - 32);
        const uint8_t* qs = b + at_qs + 16 * ib;
        const int shift = 4 * (part & 1);
        for (int j = 0; j < 16; ++j) y[j] = dl * float(tables::kvalues_iq4nl()[(qs[j] >> shift) & 0xf]);
    }
};

using IQuantFormats = FormatList<IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M, IQ4_NL, IQ4_XS>;

}  // namespace gguftk::formats
