#pragma once
// Serializing the front of a GGUF v3 file (little-endian): header, metadata, tensor infos.
//
//   GgufHeaderWriter w(32);
//   w.add_string("general.architecture", "llama");
//   uint64_t off = w.add_tensor("tok", {{4096, 32000}}, GgmlType::F16);  // relative to the data section
//   std::vector<uint8_t> head = w.finish();   // ends padded to the alignment: the data section starts here
//
// Only the front is built in memory; tensor data is written by the caller at
// head.size() + offset, so a model never has to fit in memory. Every tensor's data is padded
// to the alignment, the last one included, as ggml and gguf-py do.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "container/gguf.h"
#include "formats/types.h"

namespace gguftk {

class GgufHeaderWriter {
public:
    // `alignment` must be a power of two (general.alignment; 32 when the file has none). The
    // caller keeps a general.alignment entry, if any, consistent with it. With `sizes_only`, the
    // writer only counts: header_size() and data_size() are exact, finish() is not allowed, and
    // memory does not grow with the entries added.
    explicit GgufHeaderWriter(uint64_t alignment = 32, bool sizes_only = false);

    // Appends a metadata entry. Arrays use Value::elem_type and items (count = items.size()).
    void add(std::string_view key, const Value& v);
    void add_uint32(std::string_view key, uint32_t v);
    void add_string(std::string_view key, std::string_view v);
    // Appends the bytes of a metadata entry of a little-endian file as they are (key, type,
    // value): copying cannot change an entry's meaning or precision, whatever its type.
    void add_raw(std::span<const uint8_t> entry);

    // Appends a tensor info; `ne` in GGUF order (ne[0] contiguous), 1 to 4 dims; ne[0] a
    // multiple of the type's block size. Returns the data offset relative to the data section.
    uint64_t add_tensor(std::string_view name, std::span<const uint64_t> ne, GgmlType type);

    uint64_t alignment() const { return alignment_; }
    uint64_t n_kv() const { return n_kv_; }
    uint64_t n_tensors() const { return n_tensors_; }
    // Size of the data section so far (every tensor padded to the alignment).
    uint64_t data_size() const { return data_size_; }
    // The header bytes, padded to the alignment. The writer can be finished more than once.
    std::vector<uint8_t> finish() const;
    // The size of what finish() returns.
    uint64_t header_size() const;

private:
    uint64_t alignment_;
    uint64_t n_kv_ = 0;
    uint64_t n_tensors_ = 0;
    uint64_t data_size_ = 0;
    bool sizes_only_ = false;
    uint64_t kv_bytes_ = 0, tensor_info_bytes_ = 0;
    std::vector<uint8_t> kv_;       // metadata entries (the last one only, when sizes_only)
    std::vector<uint8_t> tensors_;  // tensor infos (likewise)
};

// Bytes of `n_elements` values of type `t` (n_elements a multiple of the block size).
uint64_t tensor_bytes(GgmlType t, uint64_t n_elements);

}  // namespace gguftk
