#pragma once
// What the C API's implementation files share: the handle behind gguftk_file, and the boundary
// every entry point goes through (no exception crosses it; every failure leaves its message).
#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "formats/decode.h"
#include "container/gguf.h"
#include "gguftk/gguftk.h"

struct gguftk_file {
    explicit gguftk_file(gguftk::GgufFile f)
        : file(std::move(f)), string_items(file.metadata().size()), string_items_built(file.metadata().size()) {}

    const gguftk::GgufFile file;  // immutable after open: concurrent readers need no lock

    // Per metadata entry that is an array of strings: the offset of each item, built the first
    // time an item is asked for (a 150k-token vocabulary read item by item would otherwise cost
    // a walk from the start each time). The outer vector is never resized, so a built index
    // stays where it is; `index_lock` guards the building.
    mutable std::vector<std::vector<uint64_t>> string_items;
    mutable std::vector<uint8_t> string_items_built;
    mutable std::mutex index_lock;
};

namespace gguftk::capi {

// Sets the calling thread's last-error message (printf-style, truncated to fit) and returns code.
// Allocates nothing, so it cannot fail itself.
int fail(int code, const char* fmt, ...) noexcept __attribute__((format(printf, 2, 3)));

// Turns any exception escaping `fn` into an error code and message. gguftk::Error comes from the
// reader (open) or the decoders; std::bad_alloc is GGUFTK_ERR_OUT_OF_MEMORY.
int failure_from_current_exception() noexcept;

template <class Fn>
int guarded(Fn&& fn) noexcept {
    try {
        return fn();
    } catch (...) {
        return failure_from_current_exception();
    }
}

// An output type argument as the int a C caller passed: any value may come, and loading a C++
// enum outside its range is undefined (UBSan stops there), so it is never read as the enum.
static_assert(sizeof(gguftk_out_type) == sizeof(int));
inline int enum_bits(const gguftk_out_type& e) noexcept {
    int v;
    std::memcpy(&v, &e, sizeof v);
    return v;
}

// The checks the entry points share; each returns GGUFTK_OK or the code of the failure it set.
int out_type(int to, OutType* o) noexcept;
// A type id that ggml has (and, for decodable, one that has a decoder).
int known_type(uint32_t id, const TypeInfo** out);
int decodable(uint32_t id, const TypeInfo** out);
// dst can take `n_values` values of `o` (it needs *need bytes).
int check_dst(uint64_t n_values, OutType o, const void* dst, size_t dst_bytes, uint64_t* need);
// The arguments of gguftk_dequantize_blocks and gguftk_cuda_dequantize_blocks: a type with a
// decoder, an output type, a block count whose bytes and values fit in 64 bits, a source when
// there are blocks (called `src_name` in the message) and a dst that holds the result.
int check_blocks(uint32_t type, uint64_t n_blocks, int to, const void* src, const char* src_name, const void* dst,
                 size_t dst_bytes, const TypeInfo** ti, OutType* o);
// Tensor `i` exists, `to` is an output type, and the tensor's data can be decoded.
int decodable_tensor(const gguftk_file* f, int64_t i, int to, const TensorInfo** t, OutType* o);

// The tensor / metadata entry `i` of `f`, or an error (NULL f, index out of range).
int tensor_at(const gguftk_file* f, int64_t i, const TensorInfo** out) noexcept;
int entry_at(const gguftk_file* f, int64_t i, const KeyValue** out) noexcept;

}  // namespace gguftk::capi
