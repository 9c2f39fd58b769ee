// The header scan: the GGUF header's structure walked one step at a time (a string, a value's
// type, an array's header and fixed-size items, a tensor record), each step taken whole or not at
// all, so that a step that runs out of bytes can be taken again when more have come.
#include "container/header_scan.h"

#include <cstring>

#include "container/layout.h"

namespace gguftk {

HeaderScan::Result HeaderScan::advance(std::span<const uint8_t> prefix) {
    try {
        while (!step(prefix)) {
        }
        return {Step::end, pos_, 0};
    } catch (const Halt& h) {
        return h.result;
    }
}

// One step; true when the header has ended.
bool HeaderScan::step(std::span<const uint8_t> b) {
    if (value_pending_) {
        value(b, pending_);
        value_pending_ = false;
        return false;
    }
    if (!arrays_.empty()) {
        array_step(b);
        return false;
    }
    return phase_step(b);
}

// The next item of the innermost array being walked, or its end.
void HeaderScan::array_step(std::span<const uint8_t> b) {
    Items& items = arrays_.back();
    if (items.left == 0) {
        arrays_.pop_back();
    } else if (items.elem == ValueType::STRING) {
        strings(b, items);  // the common long array (a vocabulary), walked in one loop
    } else {
        --items.left;
        pending_ = items.elem;
        value_pending_ = true;
    }
}

// The next field of the header outside values: the fixed part, a key and its type, a tensor.
bool HeaderScan::phase_step(std::span<const uint8_t> b) {
    switch (phase_) {
        case Phase::fixed:
            fixed_header(b);
            phase_ = Phase::kv_key;
            return false;
        case Phase::kv_key:
            if (kvs_left_ == 0) {
                phase_ = Phase::tensor_name;
                return false;
            }
            string(b);
            phase_ = Phase::kv_type;
            return false;
        case Phase::kv_type:
            kv_type(b);
            phase_ = Phase::kv_key;
            return false;
        case Phase::tensor_name:
            if (tensors_left_ == 0) return true;
            string(b);
            phase_ = Phase::tensor_rest;
            return false;
        case Phase::tensor_rest:
            tensor_rest(b);
            --tensors_left_;
            phase_ = Phase::tensor_name;
            return false;
    }
    return true;
}

void HeaderScan::kv_type(std::span<const uint8_t> b) {
    require(b, pos_, 4);
    const uint32_t t = u32(b, pos_);
    if (t >= layout::kNumValueTypes) stop();
    pos_ += 4;
    --kvs_left_;
    pending_ = static_cast<ValueType>(t);
    value_pending_ = true;
}

void HeaderScan::fixed_header(std::span<const uint8_t> b) {
    require(b, 0, 4);
    if (std::memcmp(b.data(), "GGUF", 4) != 0) stop();
    require(b, 0, layout::kFixedHeaderBytes);
    const uint32_t raw_version = u32(b, 4);
    big_endian_ = (raw_version & 0xffff) == 0;  // as the reader tells the byte order
    const uint32_t version = big_endian_ ? layout::byteswap(raw_version) : raw_version;
    if (version != 2 && version != 3) stop();
    tensors_left_ = u64(b, 8);
    kvs_left_ = u64(b, 16);
    const uint64_t left = size_ - layout::kFixedHeaderBytes;
    if (tensors_left_ > left / layout::kMinTensorInfoBytes || kvs_left_ > left / layout::kMinKvBytes) stop();
    pos_ = layout::kFixedHeaderBytes;
}

void HeaderScan::string(std::span<const uint8_t> b) {
    require(b, pos_, 8);
    const uint64_t n = u64(b, pos_);
    if (n > size_ - pos_ - 8) stop();
    require(b, pos_ + 8, n);
    pos_ += 8 + n;
}

void HeaderScan::strings(std::span<const uint8_t> b, Items& items) {
    for (; items.left > 0; --items.left) string(b);
}

void HeaderScan::value(std::span<const uint8_t> b, ValueType t) {
    if (const uint64_t n = value_type_size(t)) {
        require(b, pos_, n);
        pos_ += n;
        return;
    }
    if (t == ValueType::STRING) return string(b);
    if (arrays_.size() >= static_cast<size_t>(layout::kMaxArrayDepth)) stop();
    require(b, pos_, 12);
    const uint32_t elem_id = u32(b, pos_);
    if (elem_id >= layout::kNumValueTypes) stop();
    const auto elem = static_cast<ValueType>(elem_id);
    const uint64_t count = u64(b, pos_ + 4);
    const uint64_t left = size_ - pos_ - 12;
    if (count > left / layout::min_elem_size(elem)) stop();
    if (const uint64_t n = value_type_size(elem)) {
        require(b, pos_ + 12, n * count);  // count <= left / n: no overflow
        pos_ += 12 + n * count;
        return;
    }
    pos_ += 12;
    arrays_.push_back({elem, count});
}

void HeaderScan::tensor_rest(std::span<const uint8_t> b) {
    require(b, pos_, 4);
    const uint32_t n_dims = u32(b, pos_);
    if (n_dims < 1 || n_dims > layout::kMaxDims) stop();
    require(b, pos_, 4 + 8 * uint64_t{n_dims} + 4 + 8);  // n_dims, ne[], type, offset
    pos_ += 4 + 8 * uint64_t{n_dims} + 4 + 8;
}

void HeaderScan::require(std::span<const uint8_t> b, uint64_t from, uint64_t n) const {
    if (from > size_ || n > size_ - from) stop();
    if (from > b.size() || n > b.size() - from) throw Halt{{Step::need, from, from + n}};
}

uint32_t HeaderScan::u32(std::span<const uint8_t> b, uint64_t at) const {
    uint32_t v;
    std::memcpy(&v, b.data() + at, 4);
    return big_endian_ ? layout::byteswap(v) : v;
}

uint64_t HeaderScan::u64(std::span<const uint8_t> b, uint64_t at) const {
    uint64_t v;
    std::memcpy(&v, b.data() + at, 8);
    return big_endian_ ? layout::byteswap(v) : v;
}

}  // namespace gguftk
