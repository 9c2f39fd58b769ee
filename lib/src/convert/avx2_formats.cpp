// Hand-written AVX2 paths for every type but three: each is decode_part of its format restated
// 8 lanes at a time, the same integer quant and the same float operations in the same order (no
// FMA), so the same bits, held to decode_blocks by tests/test_cpu_loop.cpp on random blocks and
// by the decode fuzzer. They write F16, BF16 or F32 straight from registers instead of through a
// float buffer. Q8_K and TQ2_0, whose decode_part GCC vectorizes well, and F64 take cpu_loop.cpp's
// generic loop.
#if defined(__x86_64__) || defined(__i386__)
#include <type_traits>

#include "convert/avx2.h"
#include "formats/all.h"

namespace gguftk {
namespace {

using namespace formats;

// 8 bytes widened to 8 int32 lanes.
GGUFTK_AVX2 inline __m256i load8_u8(const uint8_t* p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

// 8 lanes of (p[k] >> shift) & mask: a field of 8 consecutive bytes.
GGUFTK_AVX2 inline __m256i field8(const uint8_t* p, int shift, int mask) {
    return _mm256_and_si256(_mm256_srli_epi32(load8_u8(p), shift), _mm256_set1_epi32(mask));
}

// 8 lanes of (word >> (first + width * k)) & (2^width - 1): fields of a 32-bit word.
template <int Width = 1>
GGUFTK_AVX2 inline __m256i bits8(uint32_t word, int first) {
    const __m256i shifts = _mm256_add_epi32(_mm256_setr_epi32(0, Width, 2 * Width, 3 * Width, 4 * Width, 5 * Width,
                                                              6 * Width, 7 * Width), _mm256_set1_epi32(first));
    return _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(int(word)), shifts), _mm256_set1_epi32((1 << Width) - 1));
}

// 8 lanes of book[(p[k] >> shift) & 0xF], a 16-entry int8 code book (kvalues_iq4nl, kvalues_fp4).
GGUFTK_AVX2 inline __m256i lookup8(__m128i book, const uint8_t* p, int shift) {
    const __m128i codes = _mm_and_si128(_mm_srli_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)), shift),
                                        _mm_set1_epi8(0xF));
    return _mm256_cvtepi8_epi32(_mm_shuffle_epi8(book, codes));
}

template <class T>
GGUFTK_AVX2 inline __m128i book(const T& table) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(table.v));
}

GGUFTK_AVX2 inline __m256 times(__m256i q, __m256 d) { return _mm256_mul_ps(_mm256_cvtepi32_ps(q), d); }

// Q8_0 and Q8_1 (whose sum s, between d and the quants, the values do not use): y = q * d.
template <OutType O, class F>
GGUFTK_AVX2 void fast_q8(const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    constexpr size_t osz = out_type_size(O);
    for (uint64_t i = 0; i < n_blocks; ++i, src += F::block_bytes, dst += 32 * osz) {
        const __m256 d = _mm256_set1_ps(fp16_to_f32(load_u16(src + F::at_d)));
        for (int g = 0; g < 4; ++g) {
            const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + F::at_qs + 8 * g)));
            emit8<O>(times(q, d), dst + 8 * g * osz);
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_q5_0(const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    using F = Q5_0;
    constexpr size_t osz = out_type_size(O);
    const __m256i sixteen = _mm256_set1_epi32(16);
    for (uint64_t i = 0; i < n_blocks; ++i, src += F::block_bytes, dst += 32 * osz) {
        const __m256 d = _mm256_set1_ps(fp16_to_f32(load_u16(src + F::at_d)));
        const uint32_t qh = load_u32(src + F::at_qh);
        for (int g = 0; g < 4; ++g) {  // elements 8g..8g+7: low nibbles of qs[8(g&1)..], high from g=2
            const __m256i low = field8(src + F::at_qs + 8 * (g & 1), 4 * (g >> 1), 0xF);
            const __m256i q = _mm256_sub_epi32(_mm256_or_si256(low, _mm256_slli_epi32(bits8(qh, 8 * g), 4)), sixteen);
            emit8<O>(times(q, d), dst + 8 * g * osz);
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_q4_k(const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    using F = Q4_K;
    constexpr size_t osz = out_type_size(O);
    for (uint64_t i = 0; i < n_blocks; ++i, src += F::block_bytes, dst += 256 * osz) {
        const float d = fp16_to_f32(load_u16(src + F::at_d)), dmin = fp16_to_f32(load_u16(src + F::at_dmin));
        for (int p = 0; p < 8; ++p) {
            int sc, m;
            k4_scale_min(src + F::at_scales, p, sc, m);
            const __m256 d1 = _mm256_set1_ps(d * float(sc)), m1 = _mm256_set1_ps(dmin * float(m));
            for (int g = 0; g < 4; ++g) {
                const __m256i q = field8(src + F::at_qs + 32 * (p >> 1) + 8 * g, 4 * (p & 1), 0xF);
                emit8<O>(_mm256_sub_ps(times(q, d1), m1), dst + (32 * p + 8 * g) * osz);
            }
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_q6_k(const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    using F = Q6_K;
    constexpr size_t osz = out_type_size(O);
    const __m256i bias = _mm256_set1_epi32(32);
    for (uint64_t i = 0; i < n_blocks; ++i, src += F::block_bytes, dst += 256 * osz) {
        const float d = fp16_to_f32(load_u16(src + F::at_d));
        for (int p = 0; p < 16; ++p) {  // Q6_K::decode_part's indexing, 16 elements per part
            const __m256 ds = _mm256_set1_ps(d * float(int8_t(src[F::at_scales + p])));
            const int h = p >> 3, g = (p & 7) >> 1, l0 = 16 * (p & 1);
            const uint8_t* ql = src + F::at_ql + 64 * h + 32 * (g & 1) + l0;
            const uint8_t* qh = src + F::at_qh + 32 * h + l0;
            for (int k = 0; k < 2; ++k) {
                const __m256i lo = field8(ql + 8 * k, 4 * (g >> 1), 0xF), hi = field8(qh + 8 * k, 2 * g, 3);
                const __m256i q = _mm256_sub_epi32(_mm256_or_si256(lo, _mm256_slli_epi32(hi, 4)), bias);
                emit8<O>(times(q, ds), dst + (16 * p + 8 * k) * osz);
            }
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_q4_0(const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    using F = Q4_0;
    constexpr size_t osz = out_type_size(O);
    const __m256i eight = _mm256_set1_epi32(8);
    for (uint64_t i = 0; i < n_blocks; ++i, src += F::block_bytes, dst += 32 * osz) {
        const __m256 d = _mm256_set1_ps(fp16_to_f32(load_u16(src + F::at_d)));
        for (int g = 0; g < 4; ++g)  // elements 8g..8g+7: low nibbles of qs[8(g&1)..], high from g=2
            emit8<O>(times(_mm256_sub_epi32(field8(src + F::at_qs + 8 * (g & 1), 4 * (g >> 1), 0xF), eight), d), dst + 8 * g * osz);
    }
}

// Q4_1 and Q5_1: y = q * d + m, the fifth bit of Q5_1's quants from the word qh.
template <OutType O, class F>
GGUFTK_AVX2 void fast_q4_1_q5_1(const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    constexpr size_t osz = out_type_size(O);
    for (uint64_t i = 0; i < n_blocks; ++i, src += F::block_bytes, dst += 32 * osz) {
        const __m256 d = _mm256_set1_ps(fp16_to_f32(load_u16(src + F::at_d)));
        const __m256 m = _mm256_set1_ps(fp16_to_f32(load_u16(src + F::at_m)));
        for (int g = 0; g < 4; ++g) {
            __m256i q = field8(src + F::at_qs + 8 * (g & 1), 4 * (g >> 1), 0xF);
            if constexpr (std::is_same_v<F, Q5_1>) q = _mm256_or_si256(q, _mm256_slli_epi32(bits8(load_u32(src + F::at_qh), 8 * g), 4));
            const __m256 p = times(q, d);  // its NaN, if any, is the sum's (add_keeping_first_nan)
            emit8<O>(_mm256_blendv_ps(_mm256_add_ps(p, m), p, _mm256_cmp_ps(p, p, _CMP_UNORD_Q)), dst + 8 * g * osz);
        }
    }
}

// IQ4_NL and MXFP4: y = book[q] * d (ggml's order of the factors differs; the product does not).
template <OutType O, class F>
GGUFTK_AVX2 void fast_book_32(const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    constexpr size_t osz = out_type_size(O);
    constexpr bool mx = std::is_same_v<F, MXFP4>;
    const __m128i codes = book(mx ? tables::kvalues_fp4() : tables::kvalues_iq4nl());
    for (uint64_t i = 0; i < n_blocks; ++i, src += F::block_bytes, dst += 32 * osz) {
        float d_scalar;
        if constexpr (mx) d_scalar = fp4::e8m0_to_f32_half(src[F::at_e]);
        else d_scalar = fp16_to_f32(load_u16(src + F::at_d));
        const __m256 d = _mm256_set1_ps(d_scalar);
        const uint8_t* qs = src + F::at_qs;
        for (int g = 0; g < 4; ++g) emit8<O>(times(lookup8(codes, qs + 8 * (g & 1), 4 * (g >> 1)), d), dst + 8 * g * osz);
    }
}

// NVFP4: four groups of 16 values a block, each with its UE4M3 scale; a group's byte j holds
// its values j (low nibble) and j + 8 (high).
template <OutType O>
GGUFTK_AVX2 void fast_nvfp4(const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    using F = NVFP4;
    constexpr size_t osz = out_type_size(O);
    const __m128i codes = book(tables::kvalues_fp4());
    for (uint64_t i = 0; i < n_blocks; ++i, src += F::block_bytes) {
        for (int s = 0; s < 4; ++s, dst += 16 * osz) {
            const __m256 d = _mm256_set1_ps(fp4::ue4m3_to_f32_half(src[F::at_d + s]));
            for (int h = 0; h < 2; ++h) emit8<O>(times(lookup8(codes, src + F::at_qs + 8 * s, 4 * h), d), dst + 8 * h * osz);
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_iq4_xs(const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    using F = IQ4_XS;
    constexpr size_t osz = out_type_size(O);
    const __m128i codes = book(tables::kvalues_iq4nl());
    for (uint64_t i = 0; i < n_blocks; ++i, src += F::block_bytes, dst += 256 * osz) {
        const float d = fp16_to_f32(load_u16(src + F::at_d));
        const uint16_t scales_h = load_u16(src + F::at_scales_h);
        for (int ib = 0; ib < 8; ++ib) {
            const int ls = ((src[F::at_scales_l + (ib >> 1)] >> (4 * (ib & 1))) & 0xf) | (((scales_h >> (2 * ib)) & 3) << 4);
            const __m256 dl = _mm256_set1_ps(d * float(ls - 32));
            for (int g = 0; g < 4; ++g)
                emit8<O>(times(lookup8(codes, src + F::at_qs + 16 * ib + 8 * (g & 1), 4 * (g >> 1)), dl), dst + (32 * ib + 8 * g) * osz);
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_q2_k(const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    using F = Q2_K;
    constexpr size_t osz = out_type_size(O);
    for (uint64_t i = 0; i < n_blocks; ++i, src += F::block_bytes, dst += 256 * osz) {
        const float d = fp16_to_f32(load_u16(src + F::at_d)), dmin = fp16_to_f32(load_u16(src + F::at_dmin));
        for (int p = 0; p < 16; ++p) {
            const uint8_t sc = src[F::at_scales + p];
            const __m256 dl = _mm256_set1_ps(d * float(sc & 0xF)), ml = _mm256_set1_ps(dmin * float(sc >> 4));
            const uint8_t* q = src + F::at_qs + 32 * (p >> 3) + 16 * (p & 1);
            for (int k = 0; k < 2; ++k)
                emit8<O>(_mm256_sub_ps(times(field8(q + 8 * k, 2 * ((p & 7) >> 1), 3), dl), ml), dst + (16 * p + 8 * k) * osz);
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_q3_k(const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    using F = Q3_K;
    constexpr size_t osz = out_type_size(O);
    const __m256i four = _mm256_set1_epi32(4);
    for (uint64_t i = 0; i < n_blocks; ++i, src += F::block_bytes, dst += 256 * osz) {
        const float d = fp16_to_f32(load_u16(src + F::at_d));
        for (int p = 0; p < 16; ++p) {
            const __m256 dl = _mm256_set1_ps(d * float(F::scale(src + F::at_scales, p)));
            const int lo = 16 * (p & 1);
            for (int k = 0; k < 2; ++k) {
                const __m256i low = field8(src + F::at_qs + 32 * (p >> 3) + lo + 8 * k, 2 * ((p & 7) >> 1), 3);
                const __m256i high = field8(src + F::at_hmask + lo + 8 * k, p >> 1, 1);
                const __m256i q = _mm256_sub_epi32(_mm256_or_si256(low, _mm256_slli_epi32(high, 2)), four);
                emit8<O>(times(q, dl), dst + (16 * p + 8 * k) * osz);
            }
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_q5_k(const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    using F = Q5_K;
    constexpr size_t osz = out_type_size(O);
    for (uint64_t i = 0; i < n_blocks; ++i, src += F::block_bytes, dst += 256 * osz) {
        const float d = fp16_to_f32(load_u16(src + F::at_d)), dmin = fp16_to_f32(load_u16(src + F::at_dmin));
        for (int p = 0; p < 8; ++p) {
            int sc, m;
            k4_scale_min(src + F::at_scales, p, sc, m);
            const __m256 d1 = _mm256_set1_ps(d * float(sc)), m1 = _mm256_set1_ps(dmin * float(m));
            for (int g = 0; g < 4; ++g) {
                const __m256i low = field8(src + F::at_qs + 32 * (p >> 1) + 8 * g, 4 * (p & 1), 0xF);
                const __m256i q = _mm256_or_si256(low, _mm256_slli_epi32(field8(src + F::at_qh + 8 * g, p, 1), 4));
                emit8<O>(_mm256_sub_ps(times(q, d1), m1), dst + (32 * p + 8 * g) * osz);
            }
        }
    }
}

// The ternary and binary formats: y = (q - 1) * d, or +-d by a bit for Q1_0.

// Trit n of each TQ1_0 byte, given pow3 = 3^n in each lane: (((b * 3^n) mod 256) * 3 >> 8) - 1.
GGUFTK_AVX2 inline __m256i trits8(__m256i bytes, __m256i pow3) {
    const __m256i q = _mm256_and_si256(_mm256_mullo_epi32(bytes, pow3), _mm256_set1_epi32(0xFF));
    return _mm256_sub_epi32(_mm256_srli_epi32(_mm256_mullo_epi32(q, _mm256_set1_epi32(3)), 8), _mm256_set1_epi32(1));
}

template <OutType O>
GGUFTK_AVX2 void fast_tq1_0(const uint8_t* b, uint64_t n_blocks, uint8_t* dst) {
    using F = TQ1_0;
    constexpr size_t osz = out_type_size(O);
    constexpr int pow3[5] = {1, 3, 9, 27, 81};
    for (uint64_t i = 0; i < n_blocks; ++i, b += F::block_bytes, dst += 256 * osz) {
        const __m256 d = _mm256_set1_ps(fp16_to_f32(load_u16(b + F::at_d)));
        for (int n = 0; n < 5; ++n) {  // elements 32n + m: trit n of qs[m]; 160 + 16n + m: of qs[32 + m]
            const __m256i p = _mm256_set1_epi32(pow3[n]);
            for (int g = 0; g < 4; ++g) emit8<O>(times(trits8(load8_u8(b + F::at_qs + 8 * g), p), d), dst + (32 * n + 8 * g) * osz);
            for (int g = 0; g < 2; ++g)
                emit8<O>(times(trits8(load8_u8(b + F::at_qs + 32 + 8 * g), p), d), dst + (160 + 16 * n + 8 * g) * osz);
        }
        const uint8_t* qh = b + F::at_qh;  // elements 240 + 4n + m: trit n of qh[m]
        const __m256i bytes = _mm256_setr_epi32(qh[0], qh[1], qh[2], qh[3], qh[0], qh[1], qh[2], qh[3]);
        for (int h = 0; h < 2; ++h) {
            const __m256i p = _mm256_setr_epi32(pow3[2 * h], pow3[2 * h], pow3[2 * h], pow3[2 * h], pow3[2 * h + 1],
                                                pow3[2 * h + 1], pow3[2 * h + 1], pow3[2 * h + 1]);
            emit8<O>(times(trits8(bytes, p), d), dst + (240 + 8 * h) * osz);
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_q1_0(const uint8_t* b, uint64_t n_blocks, uint8_t* dst) {
    using F = Q1_0;
    constexpr size_t osz = out_type_size(O);
    for (uint64_t i = 0; i < n_blocks; ++i, b += F::block_bytes) {
        const __m256i d = _mm256_set1_epi32(int(f32_bits(fp16_to_f32(load_u16(b + F::at_d)))));
        for (int g = 0; g < 16; ++g, dst += 8 * osz) {  // a clear bit negates d (negated_if)
            const __m256i neg = _mm256_slli_epi32(bits8(~uint32_t(b[F::at_qs + g]), 0), 31);
            emit8<O>(_mm256_castsi256_ps(_mm256_xor_si256(d, neg)), dst);
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_q2_0(const uint8_t* b, uint64_t n_blocks, uint8_t* dst) {
    using F = Q2_0;
    constexpr size_t osz = out_type_size(O);
    const __m256i one = _mm256_set1_epi32(1);
    for (uint64_t i = 0; i < n_blocks; ++i, b += F::block_bytes) {
        const __m256 d = _mm256_set1_ps(fp16_to_f32(load_u16(b + F::at_d)));
        for (int g = 0; g < 8; ++g, dst += 8 * osz)  // elements 8g..8g+7: the crumbs of bytes 2g, 2g+1
            emit8<O>(times(_mm256_sub_epi32(bits8<2>(load_u16(b + F::at_qs + 2 * g), 0), one), d), dst);
    }
}

// The grid formats, a lattice point (8 values) at a time: y = (db * grid) * sign for IQ2 and
// IQ3, y = dl * (grid + delta) for IQ1, the same operations as their decode_part.

// Lane j: -1.0f where bit j of `signs` is set, else 1.0f (what iq::sign gives).
GGUFTK_AVX2 inline __m256 signs8(uint32_t signs) {
    const __m256i bit = _mm256_sllv_epi32(_mm256_set1_epi32(int(signs)), _mm256_setr_epi32(31, 30, 29, 28, 27, 26, 25, 24));
    return _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bit, _mm256_set1_epi32(int(0x80000000u))),
                                               _mm256_set1_epi32(0x3f800000)));
}

// The 8 byte lanes of a grid point as floats: unsigned magnitudes (IQ2, IQ3: two 4-byte
// halves) or signed values (IQ1).
GGUFTK_AVX2 inline __m256 grid8(uint64_t g) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(int64_t(g)))); }
GGUFTK_AVX2 inline __m256 grid8(uint32_t g1, uint32_t g2) { return grid8(uint64_t(g1) | uint64_t(g2) << 32); }
GGUFTK_AVX2 inline __m256 signed_grid8(uint64_t g) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(int64_t(g))));
}

template <OutType O>
GGUFTK_AVX2 inline void emit_point(float db, __m256 grid, uint32_t signs, uint8_t* dst) {
    emit8<O>(_mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(db), grid), signs8(signs)), dst);
}

template <OutType O>
GGUFTK_AVX2 inline void emit_point_delta(float dl, __m256 grid, float delta, uint8_t* dst) {
    emit8<O>(_mm256_mul_ps(_mm256_set1_ps(dl), _mm256_add_ps(grid, _mm256_set1_ps(delta))), dst);
}

template <OutType O>
GGUFTK_AVX2 void fast_iq2_xxs(const uint8_t* b, uint64_t n_blocks, uint8_t* dst) {
    using F = IQ2_XXS;
    constexpr size_t osz = out_type_size(O);
    for (uint64_t i = 0; i < n_blocks; ++i, b += F::block_bytes) {
        const float d = fp16_to_f32(load_u16(b + F::at_d));
        for (int ib = 0; ib < 8; ++ib) {
            const uint8_t* q = b + F::at_qs + 8 * ib;
            const uint32_t aux = load_u32(q + 4);
            const float db = d * (0.5f + float(aux >> 28)) * 0.25f;
            for (int l = 0; l < 4; ++l, dst += 8 * osz)
                emit_point<O>(db, grid8(tables::iq2xxs_grid()[q[l]]), tables::ksigns_iq2xs()[(aux >> (7 * l)) & 127], dst);
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_iq2_xs(const uint8_t* b, uint64_t n_blocks, uint8_t* dst) {
    using F = IQ2_XS;
    constexpr size_t osz = out_type_size(O);
    for (uint64_t i = 0; i < n_blocks; ++i, b += F::block_bytes) {
        const float d = fp16_to_f32(load_u16(b + F::at_d));
        for (int p = 0; p < 32; ++p, dst += 8 * osz) {
            const uint8_t sc = b[F::at_scales + (p >> 2)];
            const float db = d * (0.5f + float((p & 2) ? sc >> 4 : sc & 0xf)) * 0.25f;
            const uint16_t q = load_u16(b + F::at_qs + 2 * p);
            emit_point<O>(db, grid8(tables::iq2xs_grid()[q & 511]), tables::ksigns_iq2xs()[q >> 9], dst);
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_iq2_s(const uint8_t* b, uint64_t n_blocks, uint8_t* dst) {
    using F = IQ2_S;
    constexpr size_t osz = out_type_size(O);
    for (uint64_t i = 0; i < n_blocks; ++i, b += F::block_bytes) {
        const float d = fp16_to_f32(load_u16(b + F::at_d));
        for (int p = 0; p < 32; ++p, dst += 8 * osz) {
            const int ib32 = p >> 2, l = p & 3;
            const uint8_t sc = b[F::at_scales + ib32];
            const float dl = d * (0.5f + float((l & 2) ? sc >> 4 : sc & 0xf)) * 0.25f;
            const int idx = b[F::at_qs + p] | ((b[F::at_qh + ib32] << (8 - 2 * l)) & 0x300);
            emit_point<O>(dl, grid8(tables::iq2s_grid()[idx]), b[F::at_signs + p], dst);
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_iq3_xxs(const uint8_t* b, uint64_t n_blocks, uint8_t* dst) {
    using F = IQ3_XXS;
    constexpr size_t osz = out_type_size(O);
    for (uint64_t i = 0; i < n_blocks; ++i, b += F::block_bytes) {
        const float d = fp16_to_f32(load_u16(b + F::at_d));
        for (int ib = 0; ib < 8; ++ib) {
            const uint32_t aux = load_u32(b + F::at_scales_and_signs + 4 * ib);
            const float db = d * (0.5f + float(aux >> 28)) * 0.5f;
            for (int l = 0; l < 4; ++l, dst += 8 * osz) {
                const uint8_t* q = b + F::at_qs + 8 * ib + 2 * l;
                emit_point<O>(db, grid8(tables::iq3xxs_grid()[q[0]], tables::iq3xxs_grid()[q[1]]),
                              tables::ksigns_iq2xs()[(aux >> (7 * l)) & 127], dst);
            }
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_iq3_s(const uint8_t* b, uint64_t n_blocks, uint8_t* dst) {
    using F = IQ3_S;
    constexpr size_t osz = out_type_size(O);
    for (uint64_t i = 0; i < n_blocks; ++i, b += F::block_bytes) {
        const float d = fp16_to_f32(load_u16(b + F::at_d));
        for (int ib32 = 0; ib32 < 8; ++ib32) {
            const uint8_t sc = b[F::at_scales + (ib32 >> 1)];
            const float db = d * float(1 + 2 * ((ib32 & 1) ? sc >> 4 : sc & 0xf));
            const int qh = b[F::at_qh + ib32];
            for (int l = 0; l < 4; ++l, dst += 8 * osz) {
                const uint8_t* qs = b + F::at_qs + 8 * ib32 + 2 * l;
                const uint32_t g1 = tables::iq3s_grid()[qs[0] | ((qh << (8 - 2 * l)) & 256)];
                const uint32_t g2 = tables::iq3s_grid()[qs[1] | ((qh << (7 - 2 * l)) & 256)];
                emit_point<O>(db, grid8(g1, g2), b[F::at_signs + 4 * ib32 + l], dst);
            }
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_iq1_s(const uint8_t* b, uint64_t n_blocks, uint8_t* dst) {
    using F = IQ1_S;
    constexpr size_t osz = out_type_size(O);
    for (uint64_t i = 0; i < n_blocks; ++i, b += F::block_bytes) {
        const float d = fp16_to_f32(load_u16(b + F::at_d));
        for (int ib = 0; ib < 8; ++ib) {
            const uint16_t qh = load_u16(b + F::at_qh + 2 * ib);
            const float dl = d * float(2 * ((qh >> 12) & 7) + 1);
            const float delta = negated_if(tables::iq1s_delta, uint32_t(qh >> 15));
            for (int l = 0; l < 4; ++l, dst += 8 * osz) {
                const uint64_t g = tables::iq1s_grid()[b[F::at_qs + 4 * ib + l] | (((qh >> (3 * l)) & 7) << 8)];
                emit_point_delta<O>(dl, signed_grid8(g), delta, dst);
            }
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_iq1_m(const uint8_t* b, uint64_t n_blocks, uint8_t* dst) {
    using F = IQ1_M;
    constexpr size_t osz = out_type_size(O);
    for (uint64_t i = 0; i < n_blocks; ++i, b += F::block_bytes) {
        const float d = fp16_to_f32(F::d_bits(b));
        for (int p = 0; p < 32; ++p, dst += 8 * osz) {
            const int ib = p >> 2, l = p & 3;
            const uint16_t sc = load_u16(b + F::at_scales + 2 * (ib >> 1));
            const float dl = d * float(2 * ((sc >> (6 * (ib & 1) + 3 * (l >> 1))) & 0x7) + 1);
            const uint8_t qh = b[F::at_qh + 2 * ib + (l >> 1)];
            const int hi = (l & 1) ? (qh << 4) & 0x700 : (qh << 8) & 0x700;
            const uint32_t neg = qh >> ((l & 1) ? 7 : 3) & 1;  // a random bit: no branch on it
            const uint64_t g = tables::iq1s_grid()[b[F::at_qs + p] | hi];
            emit_point_delta<O>(dl, signed_grid8(g), negated_if(tables::iq1s_delta, neg), dst);
        }
    }
}

// The plain floats, 8 values at a time (a block is one value; the tail through decode_blocks).
// F16C widens every half to the bits fp16_to_f32 gives, a signaling NaN made quiet as ggml does.
GGUFTK_AVX2 inline __m256 widen8_f16(const uint8_t* src) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src)));
}

GGUFTK_AVX2 inline __m256 widen8_bf16(const uint8_t* src) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

template <class F, OutType O, __m256 (*widen8)(const uint8_t*)>
GGUFTK_AVX2 void fast_floats(const uint8_t* src, uint64_t n, uint8_t* dst) {
    constexpr size_t isz = F::block_bytes, osz = out_type_size(O);
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) emit8<O>(widen8(src + i * isz), dst + i * osz);
    if (i < n) decode_blocks(F::type, src + i * isz, n - i, O, dst + i * osz);  // at most 7
}

GGUFTK_AVX2 inline __m256 load8_f32(const uint8_t* src) { return _mm256_loadu_ps(reinterpret_cast<const float*>(src)); }

template <OutType O>
GGUFTK_AVX2 bool path_to(GgmlType t, const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    switch (t) {
        case GgmlType::Q8_0: fast_q8<O, Q8_0>(src, n_blocks, dst); return true;
        case GgmlType::Q8_1: fast_q8<O, Q8_1>(src, n_blocks, dst); return true;
        case GgmlType::Q5_0: fast_q5_0<O>(src, n_blocks, dst); return true;
        case GgmlType::Q4_K: fast_q4_k<O>(src, n_blocks, dst); return true;
        case GgmlType::Q6_K: fast_q6_k<O>(src, n_blocks, dst); return true;
        case GgmlType::Q4_0: fast_q4_0<O>(src, n_blocks, dst); return true;
        case GgmlType::Q4_1: fast_q4_1_q5_1<O, Q4_1>(src, n_blocks, dst); return true;
        case GgmlType::Q5_1: fast_q4_1_q5_1<O, Q5_1>(src, n_blocks, dst); return true;
        case GgmlType::Q2_K: fast_q2_k<O>(src, n_blocks, dst); return true;
        case GgmlType::Q3_K: fast_q3_k<O>(src, n_blocks, dst); return true;
        case GgmlType::Q5_K: fast_q5_k<O>(src, n_blocks, dst); return true;
        case GgmlType::IQ4_NL: fast_book_32<O, IQ4_NL>(src, n_blocks, dst); return true;
        case GgmlType::MXFP4: fast_book_32<O, MXFP4>(src, n_blocks, dst); return true;
        case GgmlType::NVFP4: fast_nvfp4<O>(src, n_blocks, dst); return true;
        case GgmlType::TQ1_0: fast_tq1_0<O>(src, n_blocks, dst); return true;
        case GgmlType::Q1_0: fast_q1_0<O>(src, n_blocks, dst); return true;
        case GgmlType::Q2_0: fast_q2_0<O>(src, n_blocks, dst); return true;
        case GgmlType::IQ4_XS: fast_iq4_xs<O>(src, n_blocks, dst); return true;
        case GgmlType::IQ2_XXS: fast_iq2_xxs<O>(src, n_blocks, dst); return true;
        case GgmlType::IQ2_XS: fast_iq2_xs<O>(src, n_blocks, dst); return true;
        case GgmlType::IQ2_S: fast_iq2_s<O>(src, n_blocks, dst); return true;
        case GgmlType::IQ3_XXS: fast_iq3_xxs<O>(src, n_blocks, dst); return true;
        case GgmlType::IQ3_S: fast_iq3_s<O>(src, n_blocks, dst); return true;
        case GgmlType::IQ1_S: fast_iq1_s<O>(src, n_blocks, dst); return true;
        case GgmlType::IQ1_M: fast_iq1_m<O>(src, n_blocks, dst); return true;
        case GgmlType::F16: fast_floats<F16, O, widen8_f16>(src, n_blocks, dst); return true;
        case GgmlType::BF16: fast_floats<BF16, O, widen8_bf16>(src, n_blocks, dst); return true;
        case GgmlType::F32: fast_floats<F32, O, load8_f32>(src, n_blocks, dst); return true;
        default: return false;
    }
}

}  // namespace

bool avx2_convert(GgmlType t, const uint8_t* src, uint64_t n_blocks, OutType o, uint8_t* dst) {
    switch (o) {
        case OutType::F16: return path_to<OutType::F16>(t, src, n_blocks, dst);
        case OutType::F32: return path_to<OutType::F32>(t, src, n_blocks, dst);
        case OutType::BF16: return path_to<OutType::BF16>(t, src, n_blocks, dst);
    }
    return false;
}

}  // namespace gguftk
#endif
