// The CPU engine's inner loop: decode_blocks' own loop (formats/decode_loop.h), compiled for
// AVX2 + F16C when the CPU has them, and plain decode_blocks when it does not.
//
// The AVX2 build gets its speed from the compiler vectorizing decode_part inlined into the loop
// over many blocks, and from F16C's vcvtps2ph, which rounds to nearest-even, overflows to
// infinity, keeps subnormals and quiets NaN keeping the payload's top bits: exactly
// float_bits.h's f32_to_fp16, verified for every float class in the tests.
#include "cpu_loop.h"

#include <cmath>
#include <cstring>

#include "formats/all.h"
#include "formats/decode_loop.h"
#include "container/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define GGUFTK_X86 1
#endif

namespace gguftk {
namespace {

using namespace formats;

#ifdef GGUFTK_X86
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

GGUFTK_AVX2 void round_avx2(OutType o, const float* v, int n, uint8_t* dst) {
    int i = 0;
    if (o == OutType::F16) {
        for (; i + 8 <= n; i += 8) {
            const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(v + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 2 * i), h);
        }
    } else if (o == OutType::BF16) {
        for (; i + 16 <= n; i += 16) {
            __m256i r[2];
            for (int k = 0; k < 2; ++k) r[k] = bf16x8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + i + 8 * k)));
            // packus works per 128-bit lane: fix the order with a permute.
            const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r[0], r[1]), 0xd8);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 2 * i), packed);
        }
    } else {
        memcpy(dst, v, size_t(n) * 4);
        return;
    }
    if (i < n) round_values(o, v + i, n - i, dst + 2 * size_t(i));
}

// The one block loop of decode_loop.h, compiled here for AVX2: decode_part inlined into it
// vectorizes, and the rounding is F16C's.
template <class F>
GGUFTK_AVX2 void convert_avx2(const uint8_t* src, uint64_t n_blocks, OutType o, uint8_t* dst) {
    decode_loop<F>(src, n_blocks, o, dst, round_avx2);
}

// Hand-written paths for the types that dominate real models (Q4_K_M files are mostly Q5_0,
// Q8_0, Q4_K and Q6_K). Each is decode_part of its format restated 8 lanes at a time: the same
// integer quant, the same float operations in the same order (no FMA), so the same bits. They
// write F16, BF16 or F32 straight from registers instead of through the float buffer.
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

// 8 bytes widened to 8 int32 lanes.
GGUFTK_AVX2 inline __m256i load8_u8(const uint8_t* p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

template <OutType O>
GGUFTK_AVX2 void fast_q8_0(const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    constexpr size_t osz = out_type_size(O);
    for (uint64_t i = 0; i < n_blocks; ++i, src += 34, dst += 32 * osz) {
        const __m256 d = _mm256_set1_ps(fp16_to_f32(load_u16(src)));
        for (int g = 0; g < 4; ++g) {
            const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + 2 + 8 * g)));
            emit8<O>(_mm256_mul_ps(_mm256_cvtepi32_ps(q), d), dst + 8 * g * osz);
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_q5_0(const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    constexpr size_t osz = out_type_size(O);
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i low4 = _mm256_set1_epi32(0xF), one = _mm256_set1_epi32(1), sixteen = _mm256_set1_epi32(16);
    for (uint64_t i = 0; i < n_blocks; ++i, src += 22, dst += 32 * osz) {
        const __m256 d = _mm256_set1_ps(fp16_to_f32(load_u16(src)));
        const __m256i qh = _mm256_set1_epi32(int(load_u32(src + 2)));
        const uint8_t* qs = src + 6;
        for (int g = 0; g < 4; ++g) {  // elements 8g..8g+7: nibbles of qs[8(g&1)..], high nibbles from g=2
            __m256i q = load8_u8(qs + 8 * (g & 1));
            if (g >= 2) q = _mm256_srli_epi32(q, 4);
            q = _mm256_and_si256(q, low4);
            const __m256i hbit = _mm256_and_si256(_mm256_srlv_epi32(qh, _mm256_add_epi32(lanes, _mm256_set1_epi32(8 * g))), one);
            q = _mm256_sub_epi32(_mm256_or_si256(q, _mm256_slli_epi32(hbit, 4)), sixteen);
            emit8<O>(_mm256_mul_ps(_mm256_cvtepi32_ps(q), d), dst + 8 * g * osz);
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_q4_k(const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    constexpr size_t osz = out_type_size(O);
    const __m256i low4 = _mm256_set1_epi32(0xF);
    for (uint64_t i = 0; i < n_blocks; ++i, src += 144, dst += 256 * osz) {
        const float d = fp16_to_f32(load_u16(src));
        const float dmin = fp16_to_f32(load_u16(src + 2));
        for (int p = 0; p < 8; ++p) {
            int sc, m;
            k4_scale_min(src + 4, p, sc, m);
            const __m256 d1 = _mm256_set1_ps(d * float(sc));
            const __m256 m1 = _mm256_set1_ps(dmin * float(m));
            const uint8_t* q = src + 16 + 32 * (p >> 1);
            const int shift = 4 * (p & 1);
            for (int g = 0; g < 4; ++g) {
                const __m256i v = _mm256_and_si256(_mm256_srli_epi32(load8_u8(q + 8 * g), shift), low4);
                const __m256 y = _mm256_sub_ps(_mm256_mul_ps(d1, _mm256_cvtepi32_ps(v)), m1);
                emit8<O>(y, dst + (32 * p + 8 * g) * osz);
            }
        }
    }
}

template <OutType O>
GGUFTK_AVX2 void fast_q6_k(const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    constexpr size_t osz = out_type_size(O);
    const __m256i low4 = _mm256_set1_epi32(0xF), low2 = _mm256_set1_epi32(3), bias = _mm256_set1_epi32(32);
    for (uint64_t i = 0; i < n_blocks; ++i, src += 210, dst += 256 * osz) {
        const float d = fp16_to_f32(load_u16(src + 208));
        for (int p = 0; p < 16; ++p) {  // Q6_K::decode_part's indexing, 16 elements per part
            const __m256 ds = _mm256_set1_ps(d * float(int8_t(src[192 + p])));
            const int h = p >> 3, g = (p & 7) >> 1, l0 = 16 * (p & 1);
            const uint8_t* ql = src + 64 * h + 32 * (g & 1) + l0;
            const uint8_t* qh = src + 128 + 32 * h + l0;
            const int lshift = 4 * (g >> 1), hshift = 2 * g;
            for (int k = 0; k < 2; ++k) {
                const __m256i lo = _mm256_and_si256(_mm256_srli_epi32(load8_u8(ql + 8 * k), lshift), low4);
                const __m256i hi = _mm256_and_si256(_mm256_srli_epi32(load8_u8(qh + 8 * k), hshift), low2);
                const __m256i v = _mm256_sub_epi32(_mm256_or_si256(lo, _mm256_slli_epi32(hi, 4)), bias);
                emit8<O>(_mm256_mul_ps(ds, _mm256_cvtepi32_ps(v)), dst + (16 * p + 8 * k) * osz);
            }
        }
    }
}

// The plain floats, 8 values at a time (a block is one value; the tail through decode_part).
// F16C widens a signaling NaN half to a quiet float, where fp16_to_f32 keeps it signaling (as
// ggml's own conversion does): its quiet bit is cleared again.
GGUFTK_AVX2 inline __m256 widen8_f16(const uint8_t* src) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
    const __m256i mag = _mm256_and_si256(_mm256_cvtepu16_epi32(h), _mm256_set1_epi32(0x7fff));
    const __m256i signaling = _mm256_and_si256(_mm256_cmpgt_epi32(mag, _mm256_set1_epi32(0x7c00)),
                                               _mm256_cmpgt_epi32(_mm256_set1_epi32(0x7e00), mag));
    const __m256i f = _mm256_castps_si256(_mm256_cvtph_ps(h));
    return _mm256_castsi256_ps(_mm256_andnot_si256(_mm256_and_si256(signaling, _mm256_set1_epi32(0x400000)), f));
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
    if (i < n) decode_loop<F>(src + i * isz, n - i, O, dst + i * osz, round_avx2);
}

GGUFTK_AVX2 inline __m256 load8_f32(const uint8_t* src) { return _mm256_loadu_ps(reinterpret_cast<const float*>(src)); }

template <OutType O>
GGUFTK_AVX2 bool fast_path(GgmlType t, const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    switch (t) {
        case GgmlType::Q8_0: fast_q8_0<O>(src, n_blocks, dst); return true;
        case GgmlType::Q5_0: fast_q5_0<O>(src, n_blocks, dst); return true;
        case GgmlType::Q4_K: fast_q4_k<O>(src, n_blocks, dst); return true;
        case GgmlType::Q6_K: fast_q6_k<O>(src, n_blocks, dst); return true;
        case GgmlType::F16: fast_floats<F16, O, widen8_f16>(src, n_blocks, dst); return true;
        case GgmlType::BF16: fast_floats<BF16, O, widen8_bf16>(src, n_blocks, dst); return true;
        case GgmlType::F32: fast_floats<F32, O, load8_f32>(src, n_blocks, dst); return true;
        default: return false;
    }
}

#endif

}  // namespace

#ifdef GGUFTK_X86
bool cpu_has_avx2() noexcept {
    // F16C is CPUID leaf 1, ECX bit 29: asked directly, as clang 14's __builtin_cpu_supports
    // does not know "f16c" (the asan preset and the fuzzers build with clang).
    static const bool yes = [] {
        unsigned a = 0, b = 0, c = 0, d = 0;
        return __builtin_cpu_supports("avx2") && __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
    }();
    return yes;
}
#else
bool cpu_has_avx2() noexcept { return false; }
#endif

bool convert_uses_simd() noexcept { return cpu_has_avx2(); }

void convert_blocks(GgmlType t, const uint8_t* src, uint64_t n_blocks, OutType out, uint8_t* dst) {
#ifdef GGUFTK_X86
    if (cpu_has_avx2()) {
        if (out == OutType::F16 && fast_path<OutType::F16>(t, src, n_blocks, dst)) return;
        if (out == OutType::F32 && fast_path<OutType::F32>(t, src, n_blocks, dst)) return;
        if (out == OutType::BF16 && fast_path<OutType::BF16>(t, src, n_blocks, dst)) return;
        if (!visit_format(t, [&]<class F>() { convert_avx2<F>(src, n_blocks, out, dst); }))
            throw Error("no decoder for type " + std::string(type_info(t).name));
        return;
    }
#endif
    decode_blocks(t, src, n_blocks, out, dst);  // the portable loop is the reference itself
}

void accumulate_stats(OutType out, const uint8_t* values, uint64_t n, TensorStats& s) {
    // Per-run partial sums in double, folded in once: cheap and no worse than one long sum.
    TensorStats part;
    for (uint64_t i = 0; i < n; ++i) {
        float v;
        if (out == OutType::F32) {
            memcpy(&v, values + 4 * i, 4);
        } else {
            uint16_t h;
            memcpy(&h, values + 2 * i, 2);
            v = out == OutType::F16 ? fp16_to_f32(h) : bf16_to_f32(h);
        }
        if (std::isnan(v)) ++part.nan;
        else if (std::isinf(v)) ++part.inf;
        else part.add(v);
    }
    s.merge(part);
}

}  // namespace gguftk
