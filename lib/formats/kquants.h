#pragma once
// Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K: 256-element super-blocks with quantized sub-block scales.
//
// A super-block holds one or two fp16 scales (d, dmin) and, per sub-block of 16 or 32
// elements, a small integer scale (and min) that d (and dmin) multiply. The quants are packed
// so that SIMD code can unpack 32 consecutive bytes at once: the 2-bit formats take element
// e from byte 32*(e/128) + e%32, bits 2*((e%128)/32); the 4-bit ones take it from byte
// 32*(e/64) + e%32, low nibble for the first 32 of each 64, high nibble for the second.
//
// A part is one sub-block (the elements sharing one integer scale), so a part reads its
// scale once and then runs over contiguous elements with one multiply (and one subtract).
// Arithmetic mirrors ggml's dequantize_row_*: the sub-block factors are rounded to float
// first (d1 = d * sc, m1 = dmin * m), then y = d1 * q - m1 with two roundings.
#include "formats/float_bits.h"
#include "formats/format.h"

namespace gguftk::formats {

// Q2_K (84 bytes / 256 elements, 16 sub-blocks of 16)
//
//   0            16                    80     82     84
//   +------------+---------------------+------+------+
//   | scales[16] | qs[64]: 2-bit quants|  d   | dmin |
//   +------------+---------------------+------+------+
//   scales[i]: low nibble = scale of sub-block i, high nibble = its min
//   element e: qs[32*(e/128) + e%32] >> 2*((e%128)/32) & 3
struct Q2_K {
    static constexpr GgmlType type = GgmlType::Q2_K;
    static constexpr std::string_view name = "Q2_K";
    static constexpr int block_elems = 256, block_bytes = 84, part_elems = 16;
    static constexpr Field fields[] = {
        {"scales", 0, 16, FieldKind::Scales4Min4, "per 16 elements: low nibble scale, high nibble min"},
        {"qs", 16, 64, FieldKind::Crumbs, "2-bit quants, four per byte, in 32-byte groups of 128 elements"},
        {"d", 80, 2, FieldKind::Fp16, "super-block scale for the sub-block scales"},
        {"dmin", 82, 2, FieldKind::Fp16, "super-block scale for the sub-block mins"},
    };
    static constexpr int at_scales = offset_of(fields, "scales"), at_qs = offset_of(fields, "qs"),
                         at_d = offset_of(fields, "d"), at_dmin = offset_of(fields, "dmin");
    static constexpr const char* formula = "y = (d * sc) * q - (dmin * m)";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const float dmin = fp16_to_f32(load_u16(b + at_dmin));
        const uint8_t sc = b[at_scales + part];
        const float dl = d * float(sc & 0xF);
        const float ml = dmin * float(sc >> 4);
        const uint8_t* q = b + at_qs + 32 * (part >> 3) + 16 * (part & 1);
        const int shift = 2 * ((part & 7) >> 1);
        for (int l = 0; l < 16; ++l) y[l] = dl * float((q[l] >> shift) & 3) - ml;
    }
};

// Q3_K (110 bytes / 256 elements, 16 sub-blocks of 16)
//
//   0           32                  96            108    110
//   +-----------+-------------------+-------------+------+
//   | hmask[32] | qs[64]: low 2 bits| scales[12]  |  d   |
//   +-----------+-------------------+-------------+------+
//   element e: low bits as in Q2_K; high bit = hmask[e%32] bit e/32 (set means +4, i.e. no -4)
//   scale i (6 bits, stored +32): low 4 bits in scales[i%8] (low nibble for i<8, high for i>=8),
//   high 2 bits in scales[8 + i%4] at bit 2*(i/4)
struct Q3_K {
    static constexpr GgmlType type = GgmlType::Q3_K;
    static constexpr std::string_view name = "Q3_K";
    static constexpr int block_elems = 256, block_bytes = 110, part_elems = 16;
    static constexpr Field fields[] = {
        {"hmask", 0, 32, FieldKind::Bits, "third bit of each quant: byte e%32, bit e/32"},
        {"qs", 32, 64, FieldKind::Crumbs, "low 2 bits of each quant, four per byte"},
        {"scales", 96, 12, FieldKind::Scales6Q3, "16 six-bit sub-block scales sc, each the signed scale + 32"},
        {"d", 108, 2, FieldKind::Fp16, "super-block scale for the sub-block scales"},
    };
    static constexpr int at_hmask = offset_of(fields, "hmask"), at_qs = offset_of(fields, "qs"),
                         at_scales = offset_of(fields, "scales"), at_d = offset_of(fields, "d");
    static constexpr const char* formula = "y = (d * (sc - 32)) * (q - 4), q = qs | hmask << 2";
    // Scale i as stored (0..63): what gguf-hexdump shows, so that the formula above reads it.
    GGUFTK_HD static int stored_scale(const uint8_t* scales, int i) {
        const int lo = (scales[i & 7] >> (4 * (i >> 3))) & 0xF;
        const int hi = (scales[8 + (i & 3)] >> (2 * (i >> 2))) & 3;
        return lo | hi << 4;
    }
    GGUFTK_HD static int scale(const uint8_t* scales, int i) { return stored_scale(scales, i) - 32; }
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const float dl = d * float(scale(b + at_scales, part));
        const int lo = 16 * (part & 1);                  // first or second 16 of a 32-byte group
        uint32_t hm[4], q[4];
        load_words(b + at_hmask + lo, hm);
        load_words(b + at_qs + 32 * (part >> 3) + lo, q);
        const int shift = 2 * ((part & 7) >> 1);
        const int hbit = part >> 1;                      // which bit of hmask: the 32-element group
        // Four quants a word: each byte of t is the low bits | the high bit << 2, which is the
        // quant + 4 (ggml: q - (high bit ? 0 : 4)).
        for (int w = 0; w < 4; ++w) {
            const uint32_t t = ((q[w] >> shift) & 0x03030303u) | ((hm[w] >> hbit << 2) & 0x04040404u);
            for (int k = 0; k < 4; ++k) y[4 * w + k] = dl * byte_minus<4>(t, k);
        }
    }
};

// The 6-bit scales and mins of Q4_K and Q5_K, 8 of each in 12 bytes:
//
//   bytes 0-3:  sc[0..3] in bits 0-5;  bits 6-7 = high bits of sc[4..7]
//   bytes 4-7:  m[0..3]  in bits 0-5;  bits 6-7 = high bits of m[4..7]
//   bytes 8-11: low nibble = low 4 bits of sc[4..7], high nibble = low 4 bits of m[4..7]
GGUFTK_HD void k4_scale_min(const uint8_t* s, int i, int& sc, int& m) {
    if (i < 4) {
        sc = s[i] & 63;
        m = s[i + 4] & 63;
    } else {
        sc = (s[i + 4] & 0xF) | ((s[i - 4] >> 6) << 4);
        m = (s[i + 4] >> 4) | ((s[i] >> 6) << 4);
    }
}

// Q4_K (144 bytes / 256 elements, 8 sub-blocks of 32)
//
//   0      2      4            16                               144
//   +------+------+------------+--------------------------------+
//   |  d   | dmin | scales[12] | qs[128]: 4-bit quants          |
//   +------+------+------------+--------------------------------+
//   sub-block s: qs[32*(s/2) .. +32], low nibbles for even s, high nibbles for odd s
struct Q4_K {
    static constexpr GgmlType type = GgmlType::Q4_K;
    static constexpr std::string_view name = "Q4_K";
    static constexpr int block_elems = 256, block_bytes = 144, part_elems = 32;
    static constexpr Field fields[] = {
        {"d", 0, 2, FieldKind::Fp16, "super-block scale for the sub-block scales"},
        {"dmin", 2, 2, FieldKind::Fp16, "super-block scale for the sub-block mins"},
        {"scales", 4, 12, FieldKind::Scales6, "8 scales and 8 mins, 6 bits each"},
        {"qs", 16, 128, FieldKind::Nibbles, "4-bit quants: 32-byte groups, low nibbles then high nibbles"},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_dmin = offset_of(fields, "dmin"),
                         at_scales = offset_of(fields, "scales"), at_qs = offset_of(fields, "qs");
    static constexpr const char* formula = "y = (d * sc) * q - (dmin * m)";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const float dmin = fp16_to_f32(load_u16(b + at_dmin));
        int sc, m;
        k4_scale_min(b + at_scales, part, sc, m);
        const float d1 = d * float(sc);
        const float m1 = dmin * float(m);
        const uint8_t* q = b + at_qs + 32 * (part >> 1);
        const int shift = 4 * (part & 1);
        for (int l = 0; l < 32; ++l) y[l] = d1 * float((q[l] >> shift) & 0xF) - m1;
    }
};

// Q5_K (176 bytes / 256 elements, 8 sub-blocks of 32)
//
//   0      2      4            16         48                          176
//   +------+------+------------+----------+---------------------------+
//   |  d   | dmin | scales[12] | qh[32]   | qs[128]: low 4 bits       |
//   +------+------+------------+----------+---------------------------+
//   sub-block s: low bits as in Q4_K; fifth bit = qh[l] bit s
struct Q5_K {
    static constexpr GgmlType type = GgmlType::Q5_K;
    static constexpr std::string_view name = "Q5_K";
    static constexpr int block_elems = 256, block_bytes = 176, part_elems = 32;
    static constexpr Field fields[] = {
        {"d", 0, 2, FieldKind::Fp16, "super-block scale for the sub-block scales"},
        {"dmin", 2, 2, FieldKind::Fp16, "super-block scale for the sub-block mins"},
        {"scales", 4, 12, FieldKind::Scales6, "8 scales and 8 mins, 6 bits each"},
        {"qh", 16, 32, FieldKind::Bits, "fifth bit of each quant: byte l, bit = sub-block"},
        {"qs", 48, 128, FieldKind::Nibbles, "low 4 bits: 32-byte groups, low nibbles then high nibbles"},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_dmin = offset_of(fields, "dmin"),
                         at_scales = offset_of(fields, "scales"), at_qh = offset_of(fields, "qh"),
                         at_qs = offset_of(fields, "qs");
    static constexpr const char* formula = "y = (d * sc) * q - (dmin * m), q = qs | qh << 4";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const float dmin = fp16_to_f32(load_u16(b + at_dmin));
        int sc, m;
        k4_scale_min(b + at_scales, part, sc, m);
        const float d1 = d * float(sc);
        const float m1 = dmin * float(m);
        const uint8_t* qh = b + at_qh;
        const uint8_t* q = b + at_qs + 32 * (part >> 1);
        const int shift = 4 * (part & 1);
        for (int l = 0; l < 32; ++l) {
            const int v = ((q[l] >> shift) & 0xF) | ((qh[l] >> part) & 1) << 4;
            y[l] = d1 * float(v) - m1;
        }
    }
};

// Q6_K (210 bytes / 256 elements, 16 sub-blocks of 16)
//
//   0                  128             192          208    210
//   +------------------+---------------+------------+------+
//   | ql[128]: low 4   | qh[64]: high 2| scales[16] |  d   |
//   +------------------+---------------+------------+------+
//   per 128-element half h, with g = (e%128)/32 and l = e%32:
//     low 4 bits  = ql[64h + l + 32*(g%2)], low nibble for g < 2, high nibble for g >= 2
//     high 2 bits = qh[32h + l] >> 2g
//   scales: int8, one per 16 elements
struct Q6_K {
    static constexpr GgmlType type = GgmlType::Q6_K;
    static constexpr std::string_view name = "Q6_K";
    static constexpr int block_elems = 256, block_bytes = 210, part_elems = 16;
    static constexpr Field fields[] = {
        {"ql", 0, 128, FieldKind::Nibbles, "low 4 bits of each quant"},
        {"qh", 128, 64, FieldKind::Crumbs, "high 2 bits of each quant"},
        {"scales", 192, 16, FieldKind::Int8, "signed 8-bit scale per 16 elements"},
        {"d", 208, 2, FieldKind::Fp16, "super-block scale for the sub-block scales"},
    };
    static constexpr int at_ql = offset_of(fields, "ql"), at_qh = offset_of(fields, "qh"),
                         at_scales = offset_of(fields, "scales"), at_d = offset_of(fields, "d");
    static constexpr const char* formula = "y = (d * sc) * (q - 32), q = ql | qh << 4";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = fp16_to_f32(load_u16(b + at_d));
        const float ds = d * float(int8_t(b[at_scales + part]));
        const int h = part >> 3, g = (part & 7) >> 1, l0 = 16 * (part & 1);
        const uint8_t* ql = b + at_ql + 64 * h + 32 * (g & 1) + l0;
        const uint8_t* qh = b + at_qh + 32 * h + l0;
        const int lshift = 4 * (g >> 1), hshift = 2 * g;
        for (int l = 0; l < 16; ++l) {
            const int v = (((ql[l] >> lshift) & 0xF) | ((qh[l] >> hshift) & 3) << 4) - 32;
            y[l] = ds * float(v);
        }
    }
};

// Q8_K (292 bytes / 256 elements): the activation format of k-quant dot products
//
//   0      4                          260                 292
//   +------+--------------------------+-------------------+
//   |  d   | qs[256]: int8            | bsums[16]: int16  |
//   | fp32 |                          | sums of 16 quants |
//   +------+--------------------------+-------------------+
struct Q8_K {
    static constexpr GgmlType type = GgmlType::Q8_K;
    static constexpr std::string_view name = "Q8_K";
    static constexpr int block_elems = 256, block_bytes = 292, part_elems = 32;
    static constexpr Field fields[] = {
        {"d", 0, 4, FieldKind::Fp32, "super-block scale"},
        {"qs", 4, 256, FieldKind::Int8, "signed 8-bit quants, one per element"},
        {"bsums", 260, 32, FieldKind::Int16, "sum of each 16 quants, for dot products; unused by decoding"},
    };
    static constexpr int at_d = offset_of(fields, "d"), at_qs = offset_of(fields, "qs"),
                         at_bsums = offset_of(fields, "bsums");
    static constexpr const char* formula = "y = d * q";
    GGUFTK_HD static void decode_part(const uint8_t* b, int part, float* y) {
        const float d = f32_from_bits(load_u32(b + at_d));
        const uint8_t* q = b + at_qs + 32 * part;
        for (int l = 0; l < 32; ++l) y[l] = d * float(int8_t(q[l]));
    }
};

using KQuantFormats = FormatList<Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K>;

}  // namespace gguftk::formats
