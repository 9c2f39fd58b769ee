// The CPU engine's inner loop, twice: portable, and compiled for AVX2 + F16C.
//
// Both run the one decode definition of each format (decode_part) over a small float buffer,
// then round. The AVX2 clone gets its speed from the compiler vectorizing decode_part inlined
// into a loop over many blocks, and from F16C's vcvtps2ph, which rounds to nearest-even,
// overflows to infinity, keeps subnormals and quiets NaN keeping the payload's top bits:
// exactly float_bits.h's f32_to_fp16, verified for every float class in the tests.
#include "convert_kernels.h"

#include <cmath>
#include <cstring>

#include "formats/all.h"
#include "gguftk/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define GGUFTK_X86 1
#endif

namespace gguftk {
namespace {

using namespace formats;

// Values per inner round: fits L1 with the source blocks, amortizes the dispatch.
constexpr int kBuf = 2048;

template <class F>
constexpr int blocks_per_round = F::block_elems >= kBuf ? 1 : kBuf / F::block_elems;

template <class F>
inline void decode_run(const uint8_t* src, int nb, float* y) {
    for (int b = 0; b < nb; ++b) decode_block<F>(src + size_t(b) * F::block_bytes, y + b * F::block_elems);
}

inline void round_scalar(OutType o, const float* v, int n, uint8_t* dst) {
    if (o == OutType::F32) {
        memcpy(dst, v, size_t(n) * 4);
        return;
    }
    uint16_t* h = reinterpret_cast<uint16_t*>(dst);  // dst is the engine's aligned buffer
    if (o == OutType::F16)
        for (int i = 0; i < n; ++i) h[i] = f32_to_fp16(v[i]);
    else
        for (int i = 0; i < n; ++i) h[i] = f32_to_bf16(v[i]);
}

template <class F>
void convert_portable(const uint8_t* src, uint64_t n_blocks, OutType o, uint8_t* dst) {
    alignas(64) float buf[blocks_per_round<F> * F::block_elems];
    const size_t osz = out_type_size(o);
    while (n_blocks > 0) {
        const int nb = n_blocks < uint64_t(blocks_per_round<F>) ? int(n_blocks) : blocks_per_round<F>;
        decode_run<F>(src, nb, buf);
        round_scalar(o, buf, nb * F::block_elems, dst);
        src += size_t(nb) * F::block_bytes;
        dst += size_t(nb) * F::block_elems * osz;
        n_blocks -= uint64_t(nb);
    }
}

#ifdef GGUFTK_X86
#define GGUFTK_AVX2 __attribute__((target("avx2,f16c")))

GGUFTK_AVX2 void round_avx2(OutType o, const float* v, int n, uint8_t* dst) {
    int i = 0;
    if (o == OutType::F16) {
        for (; i + 8 <= n; i += 8) {
            const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(v + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 2 * i), h);
        }
    } else if (o == OutType::BF16) {
        // f32_to_bf16 in 8 lanes: add 0x7fff plus the kept lowest bit, keep the top half;
        // NaN instead keeps its top half with the quiet bit set.
        const __m256i one = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7fff);
        const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
        const __m256i quiet = _mm256_set1_epi32(0x400000);
        for (; i + 16 <= n; i += 16) {
            __m256i r[2];
            for (int k = 0; k < 2; ++k) {
                const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + i + 8 * k));
                const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), one);
                const __m256i rounded = _mm256_add_epi32(x, _mm256_add_epi32(bias, lsb));
                const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, abs_mask), inf);
                const __m256i y = _mm256_blendv_epi8(rounded, _mm256_or_si256(x, quiet), nan);
                r[k] = _mm256_srli_epi32(y, 16);
            }
            // packus works per 128-bit lane: fix the order with a permute.
            const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r[0], r[1]), 0xd8);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 2 * i), packed);
        }
    } else {
        memcpy(dst, v, size_t(n) * 4);
        return;
    }
    if (i < n) round_scalar(o, v + i, n - i, dst + 2 * size_t(i));
}

template <class F>
GGUFTK_AVX2 void convert_avx2(const uint8_t* src, uint64_t n_blocks, OutType o, uint8_t* dst) {
    alignas(64) float buf[blocks_per_round<F> * F::block_elems];
    const size_t osz = out_type_size(o);
    while (n_blocks > 0) {
        const int nb = n_blocks < uint64_t(blocks_per_round<F>) ? int(n_blocks) : blocks_per_round<F>;
        // F32 output: decode straight into the destination, no second pass.
        float* y = o == OutType::F32 ? reinterpret_cast<float*>(dst) : buf;
        decode_run<F>(src, nb, y);
        if (o != OutType::F32) round_avx2(o, buf, nb * F::block_elems, dst);
        src += size_t(nb) * F::block_bytes;
        dst += size_t(nb) * F::block_elems * osz;
        n_blocks -= uint64_t(nb);
    }
}

bool cpu_has_avx2() noexcept {
    static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
    return yes;
}
#else
bool cpu_has_avx2() noexcept { return false; }
#endif

}  // namespace

bool convert_uses_simd() noexcept { return cpu_has_avx2(); }

void convert_blocks(GgmlType t, const uint8_t* src, uint64_t n_blocks, OutType out, uint8_t* dst) {
    const bool simd = cpu_has_avx2();
    const bool ok = visit_format(t, [&]<class F>() {
#ifdef GGUFTK_X86
        if (simd) return convert_avx2<F>(src, n_blocks, out, dst);
#endif
        (void)simd;
        convert_portable<F>(src, n_blocks, out, dst);
    });
    if (!ok) throw Error("no decoder for type " + std::string(type_info(t).name));
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
