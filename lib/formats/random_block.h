#pragma once
// Random blocks of any format, for the code that probes or tests the decoders (gguf-hexdump's
// map of which bits reach which element, the format contract test, the GPU tests): random
// bytes, except for the numbers the decoder multiplies by and the plain float types' values,
// which the caller sets to what it needs (moderate, small, NaN...). Which bytes those numbers
// are is format knowledge, so it is written here once: the float-kind fields of the field list,
// and a scale that is not a field of its own (IQ1_M's d, through its d_bits and set_d_bits).
//
// Host code only, plain C++20 that nvcc's host compiler accepts: the GPU tests include it.
#include <cstdint>

#include "formats/format.h"

namespace gguftk::formats {

// Bytes per number of a float kind, or 0 for the kinds that hold no scale or value.
constexpr int float_kind_bytes(FieldKind k) noexcept {
    switch (k) {
        case FieldKind::E8M0: case FieldKind::UE4M3: return 1;
        case FieldKind::Fp16: case FieldKind::Bf16: return 2;
        case FieldKind::Fp32: return 4;
        case FieldKind::Fp64: return 8;
        default: return 0;
    }
}

// A format whose block scale is spread over other fields' bits (IQ1_M's d).
template <class F>
concept HasSpreadScale = requires(uint8_t* b, const uint8_t* cb) {
    { F::d_bits(cb) } -> std::convertible_to<uint16_t>;
    F::set_d_bits(b, uint16_t{});
};

// Sets each number of block `b` of format F, in block order, to scale(kind, bits): `bits` is
// what the block holds there now (little-endian), the result is stored in its place. A spread
// scale comes last, as an Fp16.
template <class F, class Scale>
void set_scales(uint8_t* b, Scale&& scale) {
    for (const Field& f : F::fields) {
        const int w = float_kind_bytes(f.kind);
        for (int k = 0; w > 0 && k + w <= f.size; k += w) {
            uint8_t* p = b + f.offset + k;
            uint64_t bits = 0;
            for (int i = 0; i < w; ++i) bits |= uint64_t(p[i]) << (8 * i);
            bits = uint64_t(scale(f.kind, bits));
            for (int i = 0; i < w; ++i) p[i] = uint8_t(bits >> (8 * i));
        }
    }
    if constexpr (HasSpreadScale<F>) F::set_d_bits(b, uint16_t(scale(FieldKind::Fp16, uint64_t(F::d_bits(b)))));
}

// A scale's random bits made moderate, keeping some of them: 1 <= d < 2 for the floats,
// 2^(0..3) for E8M0. The plain wide floats' values (BF16, F64) are left as they came.
constexpr uint64_t moderate_scale(FieldKind kind, uint64_t bits) noexcept {
    switch (kind) {
        case FieldKind::Fp16: return (bits & 0x03ff) | 0x3c00;
        case FieldKind::Fp32: return (bits & 0x007fffff) | 0x3f800000;
        case FieldKind::E8M0: return 127 + (bits & 3);
        case FieldKind::UE4M3: return 0x38 | (bits & 7);
        default: return bits;
    }
}

// A random block: F::block_bytes bytes from next_byte(), then set_scales.
template <class F, class NextByte, class Scale>
void random_block(uint8_t* b, NextByte&& next_byte, Scale&& scale) {
    for (int i = 0; i < F::block_bytes; ++i) b[i] = uint8_t(next_byte());
    set_scales<F>(b, scale);
}

}  // namespace gguftk::formats
