#include "container/writer.h"

#include <cstring>

#include "container/error.h"

namespace gguftk {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint32_t kVersion = 3;

// Appends `v` in little-endian byte order, whatever the host.
template <class T>
void put(std::vector<uint8_t>& out, T v) {
    uint64_t u = 0;
    if constexpr (std::is_floating_point_v<T>) {
        if constexpr (sizeof(T) == 4) {
            uint32_t b;
            memcpy(&b, &v, 4);
            u = b;
        } else {
            memcpy(&u, &v, 8);
        }
    } else {
        u = static_cast<uint64_t>(v);
    }
    for (size_t i = 0; i < sizeof(T); ++i) out.push_back(uint8_t(u >> (8 * i)));
}

void put_string(std::vector<uint8_t>& out, std::string_view s) {
    put<uint64_t>(out, s.size());
    out.insert(out.end(), s.begin(), s.end());
}

void put_scalar(std::vector<uint8_t>& out, ValueType t, const Value& v) {
    switch (t) {
        case ValueType::UINT8: put<uint8_t>(out, uint8_t(v.u)); break;
        case ValueType::INT8: put<int8_t>(out, int8_t(v.i)); break;
        case ValueType::UINT16: put<uint16_t>(out, uint16_t(v.u)); break;
        case ValueType::INT16: put<int16_t>(out, int16_t(v.i)); break;
        case ValueType::UINT32: put<uint32_t>(out, uint32_t(v.u)); break;
        case ValueType::INT32: put<int32_t>(out, int32_t(v.i)); break;
        case ValueType::FLOAT32: put<float>(out, float(v.f)); break;
        case ValueType::BOOL: put<uint8_t>(out, v.u ? 1 : 0); break;
        case ValueType::STRING: put_string(out, v.s); break;
        case ValueType::UINT64: put<uint64_t>(out, v.u); break;
        case ValueType::INT64: put<int64_t>(out, v.i); break;
        case ValueType::FLOAT64: put<double>(out, v.f); break;
        case ValueType::ARRAY:
            put<uint32_t>(out, uint32_t(v.elem_type));
            put<uint64_t>(out, v.items.size());
            for (const Value& item : v.items) put_scalar(out, v.elem_type, item);
            break;
        default: throw Error("cannot write metadata value type " + std::to_string(uint32_t(t)));
    }
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

uint64_t tensor_bytes(GgmlType t, uint64_t n_elements) {
    const TypeInfo& ti = type_info(t);
    return n_elements / ti.block_elems * ti.block_bytes;
}

GgufHeaderWriter::GgufHeaderWriter(uint64_t alignment, bool sizes_only) : alignment_(alignment), sizes_only_(sizes_only) {
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        throw Error("alignment " + std::to_string(alignment) + " is not a power of two");
}

void GgufHeaderWriter::add(std::string_view key, const Value& v) {
    std::vector<uint8_t> entry;  // built aside, so a value that cannot be written leaves no trace
    put_string(entry, key);
    put<uint32_t>(entry, uint32_t(v.type));
    put_scalar(entry, v.type, v);
    add_raw(entry);
}

void GgufHeaderWriter::add_uint32(std::string_view key, uint32_t v) {
    Value val;
    val.type = ValueType::UINT32;
    val.u = v;
    add(key, val);
}

void GgufHeaderWriter::add_string(std::string_view key, std::string_view v) {
    Value val;
    val.type = ValueType::STRING;
    val.s = std::string(v);
    add(key, val);
}

void GgufHeaderWriter::add_raw(std::span<const uint8_t> entry) {
    if (!sizes_only_) kv_.insert(kv_.end(), entry.begin(), entry.end());
    kv_bytes_ += entry.size();
    ++n_kv_;
}

uint64_t GgufHeaderWriter::add_tensor(std::string_view name, std::span<const uint64_t> ne, GgmlType type) {
    if (ne.empty() || ne.size() > 4) throw Error("tensor " + std::string(name) + ": 1 to 4 dimensions");
    const TypeInfo& ti = type_info(type);
    if (ne[0] % ti.block_elems != 0)
        throw Error("tensor " + std::string(name) + ": row of " + std::to_string(ne[0]) +
                    " is not whole " + std::string(ti.name) + " blocks");
    uint64_t n = 1;
    for (uint64_t d : ne) {
        if (d != 0 && n > UINT64_MAX / d) throw Error("tensor " + std::string(name) + ": too many elements");
        n *= d;
    }
    const uint64_t blocks = n / ti.block_elems;
    if (blocks > (UINT64_MAX - alignment_) / ti.block_bytes ||
        blocks * ti.block_bytes > UINT64_MAX - alignment_ - data_size_)
        throw Error("tensor " + std::string(name) + ": too large");
    put_string(tensors_, name);
    put<uint32_t>(tensors_, uint32_t(ne.size()));
    for (uint64_t d : ne) put<uint64_t>(tensors_, d);
    put<uint32_t>(tensors_, uint32_t(type));
    const uint64_t offset = data_size_;
    put<uint64_t>(tensors_, offset);
    if (sizes_only_) {
        tensor_info_bytes_ += tensors_.size();
        tensors_.clear();
    } else {
        tensor_info_bytes_ = tensors_.size();
    }
    data_size_ = align_up(offset + tensor_bytes(type, n), alignment_);
    ++n_tensors_;
    return offset;
}

uint64_t GgufHeaderWriter::header_size() const {
    return align_up(24 + kv_bytes_ + tensor_info_bytes_, alignment_);
}

std::vector<uint8_t> GgufHeaderWriter::finish() const {
    if (sizes_only_) throw Error("internal error: a GGUF header that was only measured cannot be written");
    std::vector<uint8_t> out;
    out.reserve(24 + kv_.size() + tensors_.size() + alignment_);
    put<uint32_t>(out, kMagic);
    put<uint32_t>(out, kVersion);
    put<uint64_t>(out, n_tensors_);
    put<uint64_t>(out, n_kv_);
    out.insert(out.end(), kv_.begin(), kv_.end());
    out.insert(out.end(), tensors_.begin(), tensors_.end());
    out.resize(align_up(out.size(), alignment_), 0);
    return out;
}

}  // namespace gguftk
