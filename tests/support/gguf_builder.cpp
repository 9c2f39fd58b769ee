#include "gguf_builder.h"

#include <unistd.h>

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace gguftk::test {

void GgufBuilder::put(uint64_t v, int width, uint64_t at) {
    if (at + width > buf_.size()) buf_.resize(at + width);
    for (int i = 0; i < width; ++i) {
        const int shift = be_ ? 8 * (width - 1 - i) : 8 * i;
        buf_[at + i] = static_cast<uint8_t>(v >> shift);
    }
}

GgufBuilder& GgufBuilder::u8(uint8_t v) { put(v, 1, buf_.size()); return *this; }
GgufBuilder& GgufBuilder::u16(uint16_t v) { put(v, 2, buf_.size()); return *this; }
GgufBuilder& GgufBuilder::u32(uint32_t v) { put(v, 4, buf_.size()); return *this; }
GgufBuilder& GgufBuilder::u64(uint64_t v) { put(v, 8, buf_.size()); return *this; }
GgufBuilder& GgufBuilder::f32(float v) { return u32(std::bit_cast<uint32_t>(v)); }
GgufBuilder& GgufBuilder::f64(double v) { return u64(std::bit_cast<uint64_t>(v)); }

GgufBuilder& GgufBuilder::raw(std::string_view bytes) {
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
    return *this;
}
GgufBuilder& GgufBuilder::raw(std::span<const uint8_t> bytes) {
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
    return *this;
}
GgufBuilder& GgufBuilder::zeros(uint64_t n) {
    buf_.resize(buf_.size() + n, 0);
    return *this;
}
GgufBuilder& GgufBuilder::str(std::string_view s) { return str(s.size(), s); }
GgufBuilder& GgufBuilder::str(uint64_t claimed_len, std::string_view s) { return u64(claimed_len).raw(s); }

GgufBuilder& GgufBuilder::header(uint32_t version, uint64_t n_tensors, uint64_t n_kv, std::string_view magic) {
    return raw(magic).u32(version).u64(n_tensors).u64(n_kv);
}
GgufBuilder& GgufBuilder::kv(std::string_view key, uint32_t value_type) { return str(key).u32(value_type); }
GgufBuilder& GgufBuilder::array(uint32_t elem_type, uint64_t count) { return u32(elem_type).u64(count); }

GgufBuilder& GgufBuilder::tensor_info(std::string_view name, std::initializer_list<uint64_t> dims, uint32_t type,
                                      uint64_t offset) {
    return tensor_info(name, static_cast<uint32_t>(dims.size()), std::span(dims.begin(), dims.size()), type, offset);
}
GgufBuilder& GgufBuilder::tensor_info(std::string_view name, uint32_t n_dims, std::span<const uint64_t> dims,
                                      uint32_t type, uint64_t offset) {
    str(name).u32(n_dims);
    for (uint64_t d : dims) u64(d);
    return u32(type).u64(offset);
}

GgufBuilder& GgufBuilder::pad_to(uint64_t alignment) {
    while (buf_.size() % alignment) buf_.push_back(0);
    return *this;
}

void GgufBuilder::patch_u32(uint64_t at, uint32_t v) { put(v, 4, at); }
void GgufBuilder::patch_u64(uint64_t at, uint64_t v) { put(v, 8, at); }

std::vector<uint8_t> GgufBuilder::prefix(uint64_t n) const {
    if (n > buf_.size()) throw std::logic_error("prefix longer than the buffer");
    return {buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(n)};
}

SimpleGguf simple_gguf(const std::vector<TensorSpec>& tensors, const std::vector<uint8_t>& kvs, uint64_t n_kv,
                       uint64_t alignment, bool big_endian, uint32_t version) {
    SimpleGguf out;
    GgufBuilder b(big_endian);
    b.header(version, tensors.size(), n_kv).raw(std::span<const uint8_t>(kvs));
    uint64_t rel = 0;
    std::vector<uint64_t> rels;
    for (const TensorSpec& t : tensors) {
        out.info_offsets.push_back(b.size());
        b.tensor_info(t.name, static_cast<uint32_t>(t.ne.size()), t.ne, t.type, rel);
        out.offset_fields.push_back(b.size() - 8);
        rels.push_back(rel);
        rel += (t.size + alignment - 1) / alignment * alignment;
    }
    b.pad_to(alignment);
    out.data_offset = b.size();
    for (size_t i = 0; i < tensors.size(); ++i) {
        out.data_offsets.push_back(out.data_offset + rels[i]);
        for (uint64_t k = 0; k < tensors[i].size; ++k) b.u8(static_cast<uint8_t>(i * 31 + k));
        b.pad_to(alignment);
    }
    out.bytes = b.bytes();
    return out;
}

TempFile::TempFile(std::span<const uint8_t> bytes, std::string_view suffix) {
    const char* dir = std::getenv("TMPDIR");
    std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/gguftk-test-XXXXXX" + std::string(suffix);
    const int fd = mkstemps(tmpl.data(), static_cast<int>(suffix.size()));
    if (fd < 0) throw std::runtime_error("cannot create a temp file");
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n <= 0) {
            ::close(fd);
            throw std::runtime_error("cannot write a temp file");
        }
        done += static_cast<size_t>(n);
    }
    ::close(fd);
    path_ = tmpl;
}

TempFile::~TempFile() {
    if (!path_.empty()) std::remove(path_.c_str());
}

}  // namespace gguftk::test
