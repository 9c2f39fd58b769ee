#pragma once
// Reading a GGUF file: a memory-mapped, fully validated view of its header, metadata and tensor table.
//
// Every count, length, dimension, offset and the alignment is checked against the file before use;
// a GgufFile that exists is valid by construction, so later code can trust what it hands out.
// A file read through a Source (a remote one) holds only its header in memory, validated by the
// same rules against the file's full size; its tensor data is read when asked for (read()).
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "container/error.h"
#include "formats/types.h"

namespace gguftk {

class Source;  // container/source.h
struct HeaderReads;

// GGUF metadata value types (gguf.md), with gguf-py's names from value_type_name().
enum class ValueType : uint32_t {
    UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
    STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
std::string_view value_type_name(ValueType t) noexcept;  // "UINT32", "STRING", ...
// Bytes of one scalar of type t in a file; 0 for STRING and ARRAY, which have no fixed size.
unsigned value_type_size(ValueType t) noexcept;

// A decoded metadata value. Scalars live in one of u / i / f; strings are raw bytes
// (not necessarily valid UTF-8); arrays hold their items (possibly arrays themselves).
struct Value {
    ValueType type = ValueType::UINT8;
    uint64_t u = 0;        // UINT8, UINT16, UINT32, UINT64, BOOL (0/1)
    int64_t i = 0;         // INT8, INT16, INT32, INT64
    double f = 0;          // FLOAT32 (widened exactly), FLOAT64
    std::string s;         // STRING
    ValueType elem_type = ValueType::UINT8;  // ARRAY
    uint64_t count = 0;    // ARRAY: number of items in the file (items may hold fewer, see value())
    std::vector<Value> items;
};

// What GgufFile::visit calls while it walks a value: scalar() for every value that is not an
// array (strings included), begin_array/end_array around an array's items.
class ValueVisitor {
public:
    virtual ~ValueVisitor() = default;
    virtual void scalar(const Value& v) = 0;
    virtual void begin_array(ValueType elem_type, uint64_t count) = 0;
    virtual void end_array() = 0;
};

// One metadata entry, as located in the file. The value is decoded on demand (GgufFile::value),
// so inspecting a file with a 150k-token vocabulary costs nothing until someone asks for it.
struct KeyValue {
    std::string key;
    ValueType type;
    ValueType elem_type = ValueType::UINT8;  // for ARRAY
    uint64_t count = 0;                      // for ARRAY: element count
    uint64_t offset = 0;        // absolute offset of the entry (its key length field)
    uint64_t value_offset = 0;  // absolute offset of the value type field
    uint64_t end = 0;           // absolute offset one past the entry
};

struct TensorInfo {
    std::string name;
    const TypeInfo* type = nullptr;       // never null
    uint32_t n_dims = 0;                  // 1..4
    std::array<uint64_t, 4> ne{1, 1, 1, 1};  // GGUF order: ne[0] is the contiguous (row) dimension
    uint64_t n_elements = 0;
    uint64_t offset = 0;                  // absolute file offset of the data
    uint64_t size = 0;                    // bytes of data
    uint64_t info_offset = 0;             // absolute offset of this tensor's info record

    uint64_t n_blocks() const { return n_elements / type->block_elems; }
};

class GgufFile {
public:
    // Maps and validates `path`. Throws Error (with the offset where known) on anything wrong.
    static GgufFile open(const std::string& path);
    // Validates bytes already in memory (fuzzing, tests). `bytes` must outlive the result.
    static GgufFile parse(std::span<const uint8_t> bytes, std::string name = "<memory>");
    // Reads and validates the header of the file `source` serves, reading no more of it than the
    // parse needs (see HeaderReads); named source->name(). Every check is the one open() makes.
    static GgufFile open(std::unique_ptr<Source> source);
    static GgufFile open(std::unique_ptr<Source> source, const HeaderReads& reads);

    GgufFile(GgufFile&&) noexcept;
    GgufFile& operator=(GgufFile&&) noexcept;
    ~GgufFile();

    const std::string& path() const { return path_; }
    uint32_t version() const { return version_; }
    bool big_endian() const { return big_endian_; }
    uint64_t alignment() const { return alignment_; }
    uint64_t data_offset() const { return data_offset_; }  // start of the tensor data section
    uint64_t file_size() const { return file_size_; }

    const std::vector<KeyValue>& metadata() const { return kvs_; }
    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const KeyValue* find_key(std::string_view key) const;
    const TensorInfo* find_tensor(std::string_view name) const;

    // Decodes a metadata value. Arrays keep at most `max_items` items per level (count stays exact).
    Value value(const KeyValue& kv, uint64_t max_items = UINT64_MAX) const;
    // Walks a metadata value item by item in constant memory, for arrays too large to hold as
    // Values (a hostile file's 10^9-item array would take a hundred times the file's size).
    void visit(const KeyValue& kv, ValueVisitor& v) const;
    // Convenience: the value of `key` as an unsigned/signed integer or string, if present and of that kind.
    std::optional<uint64_t> get_uint(std::string_view key) const;
    std::optional<std::string> get_string(std::string_view key) const;

    // The file's bytes in memory: all of them for a mapped or parsed file; for one read through a
    // Source, its header (to the end of the tensor records: the padding after them is not kept).
    std::span<const uint8_t> bytes() const { return bytes_; }
    bool in_memory() const { return bytes_.size() == file_size_; }
    // One tensor's data (bounds were validated at open), of a file in memory; throws otherwise.
    std::span<const uint8_t> data(const TensorInfo& t) const {
        if (!in_memory()) not_in_memory(t);
        return bytes_.subspan(t.offset, t.size);
    }
    // Copies the bytes at [offset, offset + out.size()) from memory, or reads exactly those
    // through the source. Throws Error for a range past the end of the file or a failed read.
    void read(uint64_t offset, std::span<uint8_t> out) const;
    // The source the file is read through (its name, what it transferred); null when mapped.
    const Source* source() const;

private:
    GgufFile() = default;
    // Validates a file of `file_size` bytes from its first bytes, `prefix`; throws NeedBytes
    // (container/need_bytes.h) when the parse needs bytes past the prefix.
    static GgufFile parse_prefix(std::span<const uint8_t> prefix, uint64_t file_size, std::string name);
    [[noreturn]] void not_in_memory(const TensorInfo& t) const;
    struct Mapping;
    std::unique_ptr<Mapping> map_;  // owns the mmap, or the source and the bytes read through it
    std::span<const uint8_t> bytes_;
    uint64_t file_size_ = 0;
    std::string path_;
    uint32_t version_ = 0;
    bool big_endian_ = false;
    uint64_t alignment_ = 32;
    uint64_t data_offset_ = 0;
    std::vector<KeyValue> kvs_;
    std::vector<TensorInfo> tensors_;
};

}  // namespace gguftk
