// to_doubles: the loops are written once and built twice, for AVX2 and for any x86-64, so the
// half and bfloat16 conversions (branch-free, float_bits.h) run eight at a time where they can.
#include "compare/elements.h"
#include "convert/cpu_loop.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace gguftk {
namespace {

[[gnu::always_inline]] inline void convert(Element e, const uint8_t* src, double* out, size_t n) {
    switch (e) {
        case Element::F16: for (size_t i = 0; i < n; ++i) out[i] = formats::fp16_to_f32(load_le<uint16_t>(src + 2 * i)); break;
        case Element::BF16: for (size_t i = 0; i < n; ++i) out[i] = formats::bf16_to_f32(load_le<uint16_t>(src + 2 * i)); break;
        case Element::F32: for (size_t i = 0; i < n; ++i) out[i] = load_le<float>(src + 4 * i); break;
        case Element::F64: for (size_t i = 0; i < n; ++i) out[i] = load_le<double>(src + 8 * i); break;
        case Element::I8: for (size_t i = 0; i < n; ++i) out[i] = double(int8_t(src[i])); break;
        case Element::U8: for (size_t i = 0; i < n; ++i) out[i] = double(src[i]); break;
        case Element::I16: for (size_t i = 0; i < n; ++i) out[i] = load_le<int16_t>(src + 2 * i); break;
        case Element::I32: for (size_t i = 0; i < n; ++i) out[i] = load_le<int32_t>(src + 4 * i); break;
        case Element::I64: for (size_t i = 0; i < n; ++i) out[i] = double(load_le<int64_t>(src + 8 * i)); break;
    }
}

#if defined(__x86_64__) || defined(__i386__)
// Halves through F16C, eight to an instruction: exact for every half, and a NaN's double is what
// the portable path's float gives once widened (both set the quiet bit and keep the payload;
// test_compare_elements checks all 65536). cpu_has_avx2() includes F16C.
[[gnu::target("avx2,f16c")]] void halves_to_doubles(const uint8_t* src, double* out, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 f = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i)));
        _mm256_storeu_pd(out + i, _mm256_cvtps_pd(_mm256_castps256_ps128(f)));
        _mm256_storeu_pd(out + i + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(f, 1)));
    }
    convert(Element::F16, src + 2 * i, out + i, n - i);
}

[[gnu::target("avx2")]] void convert_avx2(Element e, const uint8_t* src, double* out, size_t n) {
    if (e == Element::F16) return halves_to_doubles(src, out, n);
    convert(e, src, out, n);
}
#else
void convert_avx2(Element e, const uint8_t* src, double* out, size_t n) { convert(e, src, out, n); }
#endif

}  // namespace

void to_doubles(Element e, const uint8_t* src, std::span<double> out) {
    if (cpu_has_avx2()) convert_avx2(e, src, out.data(), out.size());
    else convert(e, src, out.data(), out.size());
}

}  // namespace gguftk
