// The CPU engine's inner loop: a hand-written AVX2 path where avx2_formats.cpp has one for the
// type, else decode_blocks' own loop (formats/decode_loop.h) compiled for AVX2 + F16C when the
// CPU has them, and plain decode_blocks when it does not.
//
// The AVX2 build of the loop gets its speed from the compiler vectorizing decode_part inlined
// into it over many blocks (where it can), and from F16C's vcvtps2ph, which rounds to
// nearest-even, overflows to infinity, keeps subnormals and quiets NaN keeping the payload's
// top bits: exactly float_bits.h's f32_to_fp16, verified for every float class in the tests.
#include "cpu_loop.h"

#include <cmath>
#include <cstring>

#include "formats/all.h"
#include "formats/decode_loop.h"
#include "container/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

#include "convert/avx2.h"
#define GGUFTK_X86 1
#endif

namespace gguftk {
namespace {

using namespace formats;

#ifdef GGUFTK_X86
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
// vectorizes, and the rounding is F16C's. Flattened, because a template the loop calls and does
// not inline is one out-of-line instance shared with decode_blocks (the same template
// arguments), built for the baseline CPU: the AVX2 loop then ran SSE2 code.
template <class F>
[[gnu::flatten]] GGUFTK_AVX2 void convert_avx2(const uint8_t* src, uint64_t n_blocks, OutType o, uint8_t* dst) {
    decode_loop<F>(src, n_blocks, o, dst, round_avx2);
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
        if (avx2_convert(t, src, n_blocks, out, dst)) return;
        if (!visit_format(t, [&]<class F>() { convert_avx2<F>(src, n_blocks, out, dst); }))
            throw Error("no decoder for type " + std::string(type_info(t).name));
        return;
    }
#endif
    decode_blocks(t, src, n_blocks, out, dst);  // the portable loop is the reference itself
}

}  // namespace gguftk
