#pragma once
// Comparing decoded values bit for bit, with a message that says where and how they differ.
#include <cstdint>
#include <span>
#include <string>

namespace gguftk::test {

// Element width of the values compared: 4 (f32) or 2 (f16, bf16).
// Returns "" when `got` and `want` hold the same bytes; otherwise a line naming the element
// count of each, or the first differing element index with both bit patterns (and their
// values, for f32) and how many elements differ in all.
std::string first_mismatch(std::span<const uint8_t> got, std::span<const uint8_t> want, int elem_bytes);

}  // namespace gguftk::test

namespace gguftk::test {

// float -> bfloat16, round to nearest, ties to even, from the definition (the nearer of the
// two neighbouring bfloat16 values by exact distance; past the largest finite one, infinity).
// Shares no code with float_bits.h. NaN maps to the quiet NaN with the same sign and top bits.
uint16_t bf16_by_definition(float f);

}  // namespace gguftk::test
