#pragma once
// What the CPU engine's AVX2 + F16C code shares: the target attribute, and the stores of 8
// floats as F16, BF16 or F32 with float_bits.h's rounding, bit for bit (x86 only).
#include <immintrin.h>

#include <cstdint>

#include "convert/convert.h"

namespace gguftk {

#define GGUFTK_AVX2 __attribute__((target("avx2,f16c")))

// f32_to_bf16 in 8 lanes, each result in the low half of its 32-bit lane: add 0x7fff plus the
// kept lowest bit, keep the top half; NaN instead keeps its top half with the quiet bit set.
GGUFTK_AVX2 inline __m256i bf16x8(__m256i x) {
    const __m256i one = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7fff);
    const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
    const __m256i quiet = _mm256_set1_epi32(0x400000);
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), one);
    const __m256i rounded = _mm256_add_epi32(x, _mm256_add_epi32(bias, lsb));
    const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, abs_mask), inf);
    return _mm256_srli_epi32(_mm256_blendv_epi8(rounded, _mm256_or_si256(x, quiet), nan), 16);
}

// 8 values stored as O at dst (no alignment needed).
template <OutType O>
GGUFTK_AVX2 inline void emit8(__m256 v, uint8_t* dst) {
    if constexpr (O == OutType::F16) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    } else if constexpr (O == OutType::BF16) {
        const __m256i r = bf16x8(_mm256_castps_si256(v));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1)));
    } else {
        _mm256_storeu_ps(reinterpret_cast<float*>(dst), v);
    }
}

// Decodes n_blocks blocks of t at src into O at dst by a hand-written AVX2 path; false when t
// has none (avx2_formats.cpp). Only where cpu_has_avx2().
bool avx2_convert(GgmlType t, const uint8_t* src, uint64_t n_blocks, OutType o, uint8_t* dst);

}  // namespace gguftk
