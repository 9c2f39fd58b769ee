#pragma once
// Random blocks of any format, with sane or special scales, and what NaN payloads the CPU and
// the GPU may disagree on. No CUDA: the GPU tests and the kernel's host emulation share it.
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "formats/all.h"
#include "formats/random_block.h"
#include "formats/decode.h"
#include "formats/types.h"

namespace gguftk::test {

// How random blocks' scales are drawn.
enum class Scales {
    Sane,     // finite, moderate: every value a real model could hold
    Special,  // also NaN (with payloads), infinities, subnormals, zero, the largest halves
};

inline uint16_t half_bits(float f) { return formats::f32_to_fp16(f); }

// Where `a` and `b` (values of type `out`) both hold a NaN, copies b's NaN into `a`, and
// returns how many such pairs there were; every other value is left to bitwise comparison.
//
// The sign and payload of a NaN that arithmetic creates belong to the processor, not to the
// format: x86 creates 0xffc00000 (and propagates an operand's payload, choosing between two
// NaN operands by the order the compiler happened to give them), NVIDIA GPUs always create
// 0x7fffffff. So decoding a block whose scale is NaN or infinite agrees between CPU and GPU
// in where the NaNs are, never in their bits. (ggml's quantizers never write such scales;
// NaNs that are only moved, as in the float types, keep their bits and are compared bitwise.)
inline uint64_t unify_nans(uint8_t* a, const uint8_t* b, uint64_t n_values, OutType out) {
    uint64_t n = 0;
    for (uint64_t i = 0; i < n_values; ++i) {
        if (out == OutType::F32) {
            uint32_t x, y;
            std::memcpy(&x, a + 4 * i, 4);
            std::memcpy(&y, b + 4 * i, 4);
            if ((x & 0x7fffffffu) > 0x7f800000u && (y & 0x7fffffffu) > 0x7f800000u && x != y) {
                std::memcpy(a + 4 * i, &y, 4);
                ++n;
            }
        } else {
            const uint16_t inf = out == OutType::F16 ? 0x7c00 : 0x7f80;
            uint16_t x, y;
            std::memcpy(&x, a + 2 * i, 2);
            std::memcpy(&y, b + 2 * i, 2);
            if ((x & 0x7fff) > inf && (y & 0x7fff) > inf && x != y) {
                std::memcpy(a + 2 * i, &y, 2);
                ++n;
            }
        }
    }
    return n;
}

// `n` random blocks of format F: random quant bytes, scales drawn as `how` says (where the
// scales are is formats::set_scales's to say). All the bytes are drawn first, then the scales
// block by block: the order the GPU tests' blocks have always been drawn in.
template <class F>
std::vector<uint8_t> random_blocks(uint64_t n, Scales how, std::mt19937_64& rng) {
    std::vector<uint8_t> v(n * F::block_bytes);
    for (auto& b : v) b = uint8_t(rng());
    std::uniform_real_distribution<float> mag(-6.0f, 0.0f);  // scale = +-10^mag
    auto sane = [&] { return (rng() & 1 ? -1.0f : 1.0f) * std::pow(10.0f, mag(rng)); };
    auto special_half = [&]() -> uint16_t {
        switch (rng() % 8) {
            case 0: return uint16_t(0x7c01 | (rng() & 0x3ff) | (rng() & 1) << 15);  // NaN, some payload
            case 1: return uint16_t(0x7c00 | (rng() & 1) << 15);                       // +-inf
            case 2: return uint16_t(rng() & 0x83ff);                                   // subnormal or zero
            case 3: return uint16_t(0x7bff | (rng() & 1) << 15);                       // +-65504
            default: return half_bits(sane());
        }
    };
    for (uint64_t i = 0; i < n; ++i) {
        uint8_t* b = v.data() + i * F::block_bytes;
        // At most one NaN or infinite scale per block. Where two different NaNs meet in one
        // operation (d * q + m with both NaN, or a NaN and an inf * 0), either payload may come
        // out, as the compiler ordered the operands: two builds of the same decoder on the same
        // CPU can disagree. With one, every NaN's bits are determined by the code and the data.
        bool special_spent = false;
        auto special_once = [&]() -> uint16_t {
            const uint16_t h = special_spent ? half_bits(sane()) : special_half();
            special_spent = special_spent || (h & 0x7c00) == 0x7c00;
            return h;
        };
        formats::set_scales<F>(b, [&](formats::FieldKind kind, uint64_t bits) -> uint64_t {
            using formats::FieldKind;
            const bool sane_only = how == Scales::Sane;
            if constexpr (F::block_elems == 1) {  // a plain float type's value, larger than a scale
                switch (kind) {
                    case FieldKind::Fp32: return sane_only ? std::bit_cast<uint32_t>(sane() * 1000.0f) : uint32_t(rng());
                    case FieldKind::Fp64: return sane_only ? std::bit_cast<uint64_t>(double(sane()) * 1e3) : rng();
                    case FieldKind::Fp16: return sane_only ? half_bits(sane() * 1000.0f) : uint16_t(rng());
                    case FieldKind::Bf16: return sane_only ? uint16_t(std::bit_cast<uint32_t>(sane()) >> 16) : uint16_t(rng());
                    default: return bits;
                }
            }
            switch (kind) {
                case FieldKind::Fp16: return sane_only ? half_bits(sane()) : special_once();
                case FieldKind::Fp32: return sane_only ? std::bit_cast<uint32_t>(sane()) : uint32_t(rng());
                case FieldKind::E8M0: return sane_only ? uint8_t(107 + rng() % 20) : bits;  // 2^-20 .. 2^-1
                default: return bits;
            }
        });
    }
    return v;
}

}  // namespace gguftk::test
