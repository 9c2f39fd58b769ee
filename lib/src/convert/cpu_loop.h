#pragma once
// The CPU engine's inner loops: decode + round a run of whole blocks, and fold values into stats.
//
// convert_blocks produces exactly the bytes of decode_blocks (the reference: decode_part, then
// float_bits.h's rounding); it is only faster, using AVX2/F16C when the CPU has them.
// tests/test_cpu_loop.cpp holds it to that, byte for byte, for every type.
#include <cstdint>

#include "convert/convert.h"

namespace gguftk {

void convert_blocks(GgmlType t, const uint8_t* src, uint64_t n_blocks, OutType out, uint8_t* dst);

// Folds `n` values of type `out` into `s` (see TensorStats for what is counted). stats.cpp.
void accumulate_stats(OutType out, const uint8_t* values, uint64_t n, TensorStats& s);

// Whether convert_blocks uses the AVX2/F16C path on this CPU (for the benchmark's table).
bool convert_uses_simd() noexcept;
// Whether the CPU has AVX2 and F16C: the test before any loop built for them is called (here,
// and the vector loops of check/ and compare/).
bool cpu_has_avx2() noexcept;

}  // namespace gguftk
