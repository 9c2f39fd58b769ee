#pragma once
// Crafting GGUF bytes in tests, valid or deliberately broken.
//
// The builder writes fields exactly as told — any magic, version, count, length, type id or
// offset, true or not — in little- or big-endian order, and remembers nothing about meaning.
// Tests record b.size() before a field to know the offset an error should name.
//
//   GgufBuilder b;
//   b.header(3, /*n_tensors=*/1, /*n_kv=*/1);
//   b.kv_u32("general.alignment", 32);
//   const uint64_t at = b.size();
//   b.tensor_info("w", {32, 2}, 8 /*Q8_0*/, 0);
//   b.pad_to(32).zeros(68);
//   GgufFile f = GgufFile::parse(b.bytes());
//
// For well-formed files with real data, simple_gguf() lays out the tensors itself.
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gguftk::test {

// GGUF value type ids (gguf.md), as plain numbers so tests can also write invalid ones.
namespace vt {
inline constexpr uint32_t UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
                          BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12;
}

class GgufBuilder {
public:
    explicit GgufBuilder(bool big_endian = false) : be_(big_endian) {}

    // Raw fields, in the builder's byte order.
    GgufBuilder& u8(uint8_t v);
    GgufBuilder& u16(uint16_t v);
    GgufBuilder& u32(uint32_t v);
    GgufBuilder& u64(uint64_t v);
    GgufBuilder& i8(int8_t v) { return u8(static_cast<uint8_t>(v)); }
    GgufBuilder& i16(int16_t v) { return u16(static_cast<uint16_t>(v)); }
    GgufBuilder& i32(int32_t v) { return u32(static_cast<uint32_t>(v)); }
    GgufBuilder& i64(int64_t v) { return u64(static_cast<uint64_t>(v)); }
    GgufBuilder& f32(float v);
    GgufBuilder& f64(double v);
    GgufBuilder& raw(std::string_view bytes);   // bytes as they are, no length
    GgufBuilder& raw(std::span<const uint8_t> bytes);
    GgufBuilder& zeros(uint64_t n);
    GgufBuilder& str(std::string_view s);                     // u64 length + bytes
    GgufBuilder& str(uint64_t claimed_len, std::string_view s);  // any length field, then s

    // Structures, each one call. Values of a kv are written by the caller after kv().
    GgufBuilder& header(uint32_t version, uint64_t n_tensors, uint64_t n_kv, std::string_view magic = "GGUF");
    GgufBuilder& kv(std::string_view key, uint32_t value_type);                  // key + type
    GgufBuilder& array(uint32_t elem_type, uint64_t count);                     // elem type + count
    GgufBuilder& kv_u32(std::string_view key, uint32_t v) { return kv(key, vt::UINT32).u32(v); }
    GgufBuilder& kv_str(std::string_view key, std::string_view v) { return kv(key, vt::STRING).str(v); }
    // name, n_dims (= dims.size() unless given), dims, type id, offset relative to the data section.
    GgufBuilder& tensor_info(std::string_view name, std::initializer_list<uint64_t> dims, uint32_t type,
                             uint64_t offset);
    GgufBuilder& tensor_info(std::string_view name, uint32_t n_dims, std::span<const uint64_t> dims,
                             uint32_t type, uint64_t offset);
    GgufBuilder& pad_to(uint64_t alignment);  // zero bytes up to the next multiple

    // Overwrite a field written earlier (in the builder's byte order).
    void patch_u32(uint64_t at, uint32_t v);
    void patch_u64(uint64_t at, uint64_t v);

    uint64_t size() const { return buf_.size(); }
    bool big_endian() const { return be_; }
    const std::vector<uint8_t>& bytes() const { return buf_; }
    // The first n bytes (a truncated copy).
    std::vector<uint8_t> prefix(uint64_t n) const;

private:
    void put(uint64_t v, int width, uint64_t at);
    bool be_;
    std::vector<uint8_t> buf_;
};

// A well-formed file: the given metadata bytes (already built entries) and tensors laid out one
// after another, each padded to `alignment`, data filled with a repeating byte pattern.
struct TensorSpec {
    std::string name;
    std::vector<uint64_t> ne;
    uint32_t type;      // ggml type id
    uint64_t size;      // data bytes (the caller computes it; a test knows what it asks for)
};
struct SimpleGguf {
    std::vector<uint8_t> bytes;
    uint64_t data_offset = 0;
    std::vector<uint64_t> info_offsets;     // absolute offset of each tensor info
    std::vector<uint64_t> offset_fields;    // absolute offset of each tensor's offset field
    std::vector<uint64_t> data_offsets;     // absolute offset of each tensor's data
};
// `n_kv` entries already serialized in `kvs` (same byte order as `big_endian`).
SimpleGguf simple_gguf(const std::vector<TensorSpec>& tensors, const std::vector<uint8_t>& kvs = {},
                       uint64_t n_kv = 0, uint64_t alignment = 32, bool big_endian = false, uint32_t version = 3);

// Writes bytes to a fresh file under the system temp dir and returns its path; removed by the
// TempFile destructor.
class TempFile {
public:
    explicit TempFile(std::span<const uint8_t> bytes, std::string_view suffix = ".gguf");
    ~TempFile();
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace gguftk::test
