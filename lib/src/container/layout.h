#pragma once
// The GGUF layout facts that the reader (gguf.cpp) and the header scan (header_scan.cpp) both
// follow: they must agree on where a header ends.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "container/gguf.h"

namespace gguftk::layout {

constexpr uint32_t kMaxDims = 4;
// ggml itself refuses nested arrays; gguf-py reads them recursively. Bound the recursion so a
// file of nested array headers cannot exhaust the stack.
constexpr int kMaxArrayDepth = 8;
// The fewest bytes one entry can occupy: used to reject counts before reserving anything.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;                 // empty key, type, one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, n_dims, one dim, type, offset
constexpr uint64_t kFixedHeaderBytes = 4 + 4 + 8 + 8;        // magic, version, tensor and metadata counts
constexpr uint32_t kNumValueTypes = 13;

// The fewest bytes one array element of type t takes (a string: its length; an array: type + count).
inline uint64_t min_elem_size(ValueType t) {
    if (t == ValueType::STRING) return 8;
    if (t == ValueType::ARRAY) return 12;
    return value_type_size(t);
}

// A big-endian file's fields, the right way round.
template <class T>
T byteswap(T v) {
    static_assert(std::is_unsigned_v<T>);
    T r = 0;
    for (size_t i = 0; i < sizeof(T); ++i) r = static_cast<T>((r << 8) | ((v >> (8 * i)) & 0xff));
    return r;
}

}  // namespace gguftk::layout
