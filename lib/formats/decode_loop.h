#pragma once
// The one CPU loop over whole blocks: each format's decode_part into a small float buffer, then
// rounding to the output type. decode_blocks (the reference, decode.cpp) runs it with
// float_bits.h's scalar rounding; the CPU engine (src/convert/cpu_loop.cpp) runs the very same
// loop compiled for AVX2 + F16C with a vector rounding of the same bits, and keeps hand-vectorized
// paths for most formats beside it (src/convert/avx2_formats.cpp), all held to decode_blocks by
// tests/test_cpu_loop.cpp.
#include <cstdint>
#include <cstring>

#include "formats/float_bits.h"
#include "formats/format.h"
#include "formats/decode.h"

namespace gguftk::formats {

// Values per round: the buffer and the blocks it came from stay in L1, and the dispatch is
// amortized over many blocks.
inline constexpr int kLoopValues = 2048;

template <class F>
inline constexpr int blocks_per_round = F::block_elems >= kLoopValues ? 1 : kLoopValues / F::block_elems;

// float_bits.h's rounding of `n` values to `o`, stored at `dst` (no alignment needed).
inline void round_values(OutType o, const float* v, int n, uint8_t* dst) {
    if (o == OutType::F32) {
        std::memcpy(dst, v, size_t(n) * 4);
        return;
    }
    for (int i = 0; i < n; ++i) {
        const uint16_t h = o == OutType::F16 ? f32_to_fp16(v[i]) : f32_to_bf16(v[i]);
        std::memcpy(dst + 2 * size_t(i), &h, 2);
    }
}

// Decodes `n_blocks` blocks of F at `src` into `o` at `dst`; `round(o, values, n, dst)` stores
// the F16/BF16 results. F32 results are decoded straight into an aligned `dst`.
template <class F, class Round>
inline void decode_loop(const uint8_t* src, uint64_t n_blocks, OutType o, uint8_t* dst, Round&& round) {
    alignas(64) float buf[blocks_per_round<F> * F::block_elems];
    const size_t osz = out_type_size(o);
    const bool direct = o == OutType::F32 && reinterpret_cast<uintptr_t>(dst) % alignof(float) == 0;
    while (n_blocks > 0) {
        const int nb = n_blocks < uint64_t(blocks_per_round<F>) ? int(n_blocks) : blocks_per_round<F>;
        float* y = direct ? reinterpret_cast<float*>(dst) : buf;
        for (int b = 0; b < nb; ++b) decode_block<F>(src + size_t(b) * F::block_bytes, y + b * F::block_elems);
        if (!direct) round(o, static_cast<const float*>(buf), nb * F::block_elems, dst);
        src += size_t(nb) * F::block_bytes;
        dst += size_t(nb) * F::block_elems * osz;
        n_blocks -= uint64_t(nb);
    }
}

}  // namespace gguftk::formats
