// to_doubles: the loops are written once and built twice, for AVX2 and for any x86-64, so the
// half and bfloat16 conversions (branch-free, float_bits.h) run eight at a time where they can.
#include "compare/elements.h"
#include "convert/cpu_loop.h"

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
[[gnu::target("avx2")]] void convert_avx2(Element e, const uint8_t* src, double* out, size_t n) { convert(e, src, out, n); }
#else
void convert_avx2(Element e, const uint8_t* src, double* out, size_t n) { convert(e, src, out, n); }
#endif

}  // namespace

void to_doubles(Element e, const uint8_t* src, std::span<double> out) {
    if (cpu_has_avx2()) convert_avx2(e, src, out.data(), out.size());
    else convert(e, src, out.data(), out.size());
}

}  // namespace gguftk
