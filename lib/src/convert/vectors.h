#pragma once
// The GCC/Clang vector types the CPU's summing loops are written in (check/values.cpp,
// convert/stats.cpp, compare/compare.cpp): IEEE operations lane by lane, so a loop built once
// for AVX2 and once for any x86-64 gives the same bits in both. Internal: they never cross an
// ABI boundary by value.
#include <cstdint>
#include <cstring>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"  // inlined into each caller: no vector crosses an ABI boundary

namespace gguftk::vec {

using f32x8 = float __attribute__((vector_size(32)));
using i32x8 = int32_t __attribute__((vector_size(32)));
using f64x4 = double __attribute__((vector_size(32)));
using i64x4 = int64_t __attribute__((vector_size(32)));

// sizeof(V) / 4 floats from p, any alignment.
template <class V>
[[gnu::always_inline]] inline V load(const float* p) {
    V x;
    std::memcpy(&x, p, sizeof x);
    return x;
}

// Four floats widened to doubles, element by element, which GCC 12 makes one vcvtps2pd:
// __builtin_convertvector of an f32x4 it widens in two halves through the stack.
[[gnu::always_inline]] inline f64x4 load4d(const float* p) { return f64x4{p[0], p[1], p[2], p[3]}; }

}  // namespace gguftk::vec

#pragma GCC diagnostic pop
