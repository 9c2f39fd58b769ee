// The C API's metadata accessors: an entry's key and type, and its value or an array's items,
// read in place from the mapped file (the reader validated every length at open; the offsets
// are checked against the entry's extent again here all the same).
#include <cinttypes>
#include <cstring>

#include "boundary.h"
#include "text/escape.h"

using namespace gguftk;
using namespace gguftk::capi;

namespace {

// An unsigned integer of `n` bytes in the file's byte order.
uint64_t load(const uint8_t* p, unsigned n, bool big_endian) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i) v |= uint64_t(p[big_endian ? n - 1 - i : i]) << (8 * i);
    return v;
}

bool is_signed(ValueType t) {
    return t == ValueType::INT8 || t == ValueType::INT16 || t == ValueType::INT32 || t == ValueType::INT64;
}
bool is_unsigned(ValueType t) {
    return t == ValueType::UINT8 || t == ValueType::UINT16 || t == ValueType::UINT32 || t == ValueType::UINT64 ||
           t == ValueType::BOOL;
}

// Where one value is: its first byte and its type.
struct Located {
    const KeyValue* kv = nullptr;
    ValueType type{};
    uint64_t at = 0;  // absolute file offset of the value
};

// Offsets of every item of a string array: the items are walked once, then indexed.
int string_item_offset(const gguftk_file* f, size_t k, uint64_t base, uint64_t item, uint64_t* at) {
    const KeyValue& kv = f->file.metadata()[k];
    std::lock_guard lock(f->index_lock);
    std::vector<uint64_t>& items = f->string_items[k];
    if (!f->string_items_built[k]) {
        const auto bytes = f->file.bytes();
        std::vector<uint64_t> offsets;
        offsets.reserve(kv.count);  // at least 8 bytes each, checked against the file at open
        uint64_t pos = base;
        for (uint64_t j = 0; j < kv.count; ++j) {
            if (pos > kv.end || kv.end - pos < 8)
                return fail(GGUFTK_ERR_BAD_FILE, "%s: string %" PRIu64 " of %s runs past its entry (at offset %" PRIu64 ")",
                            f->file.path().c_str(), j, quoted_name(kv.key).c_str(), pos);
            const uint64_t len = load(bytes.data() + pos, 8, f->file.big_endian());
            if (len > kv.end - pos - 8)
                return fail(GGUFTK_ERR_BAD_FILE, "%s: string %" PRIu64 " of %s runs past its entry (at offset %" PRIu64 ")",
                            f->file.path().c_str(), j, quoted_name(kv.key).c_str(), pos);
            offsets.push_back(pos);
            pos += 8 + len;
        }
        items = std::move(offsets);
        f->string_items_built[k] = 1;
    }
    *at = items[item];
    return GGUFTK_OK;
}

int locate(const gguftk_file* f, int64_t i, uint64_t item, Located* out) {
    const KeyValue* kv = nullptr;
    if (int rc = entry_at(f, i, &kv)) return rc;
    out->kv = kv;
    const uint64_t value = kv->value_offset + 4;  // past the value type
    if (kv->type != ValueType::ARRAY) {
        if (item != 0)
            return fail(GGUFTK_ERR_OUT_OF_RANGE, "%s is a %s, not an array: its only item is 0",
                        quoted_name(kv->key).c_str(), value_type_name(kv->type).data());
        out->type = kv->type;
        out->at = value;
        return GGUFTK_OK;
    }
    if (item >= kv->count)
        return fail(GGUFTK_ERR_OUT_OF_RANGE, "item %" PRIu64 " is past the %" PRIu64 " items of %s", item, kv->count,
                    quoted_name(kv->key).c_str());
    const uint64_t base = value + 4 + 8;  // past the element type and the count
    out->type = kv->elem_type;
    if (kv->elem_type == ValueType::ARRAY)
        return fail(GGUFTK_ERR_WRONG_VALUE_TYPE, "%s is an array of arrays, which the C API does not read",
                    quoted_name(kv->key).c_str());
    if (kv->elem_type == ValueType::STRING)
        return string_item_offset(f, size_t(kv - f->file.metadata().data()), base, item, &out->at);
    out->at = base + item * value_type_size(kv->elem_type);  // count * size was checked against the file at open
    return GGUFTK_OK;
}

// The located value's bytes, checked to lie inside its entry.
int value_bytes(const gguftk_file* f, const Located& v, uint64_t n, const uint8_t** p) {
    if (v.at > v.kv->end || v.kv->end - v.at < n)
        return fail(GGUFTK_ERR_BAD_FILE, "%s: the value of %s runs past its entry (at offset %" PRIu64 ")",
                    f->file.path().c_str(), quoted_name(v.kv->key).c_str(), v.at);
    *p = f->file.bytes().data() + v.at;
    return GGUFTK_OK;
}

int wrong_type(const Located& v, const char* wanted) {
    return fail(GGUFTK_ERR_WRONG_VALUE_TYPE, "%s holds %s, not %s", quoted_name(v.kv->key).c_str(),
                value_type_name(v.type).data(), wanted);
}

// An integer value: its magnitude bits, and whether it is a negative signed value.
// Item `item` of entry `i` as an integer of any width (bools as 0/1), sign-extended into *bits,
// once the entry is found, holds integers, and `out` is a place to put one: what
// gguftk_metadata_get_uint and _int share before each checks its own range.
int integer(const gguftk_file* f, int64_t i, uint64_t item, const void* out, Located* v, uint64_t* bits,
            bool* negative) {
    if (int rc = locate(f, i, item, v)) return rc;
    if (!is_signed(v->type) && !is_unsigned(v->type)) return wrong_type(*v, "an integer");
    if (!out) return fail(GGUFTK_ERR_INVALID_ARGUMENT, "out is NULL");
    const unsigned n = value_type_size(v->type);
    const uint8_t* p = nullptr;
    if (int rc = value_bytes(f, *v, n, &p)) return rc;
    uint64_t u = load(p, n, f->file.big_endian());
    if (v->type == ValueType::BOOL) u = u != 0;
    *negative = false;
    if (is_signed(v->type) && n < 8 && (u >> (8 * n - 1)) & 1) u |= ~uint64_t{0} << (8 * n);  // sign-extend
    if (is_signed(v->type)) *negative = int64_t(u) < 0;
    *bits = u;
    return GGUFTK_OK;
}

}  // namespace

extern "C" {

int64_t gguftk_metadata_count(const gguftk_file* f) {
    if (!f) return fail(GGUFTK_ERR_INVALID_ARGUMENT, "the file is NULL"), -1;
    return int64_t(f->file.metadata().size());
}

int64_t gguftk_find_key(const gguftk_file* f, const char* key, size_t key_len) {
    if (!f || (!key && key_len > 0)) return fail(GGUFTK_ERR_INVALID_ARGUMENT, "the file and the key must not be NULL"), -1;
    const std::string_view want(key ? key : "", key_len);
    const auto& kvs = f->file.metadata();
    for (size_t i = 0; i < kvs.size(); ++i)
        if (kvs[i].key == want) return int64_t(i);
    return -1;
}

int gguftk_metadata_at(const gguftk_file* f, int64_t i, gguftk_kv_info* out) {
    const KeyValue* kv = nullptr;
    if (int rc = entry_at(f, i, &kv)) return rc;
    if (!out) return fail(GGUFTK_ERR_INVALID_ARGUMENT, "out is NULL");
    gguftk_kv_info r{};
    r.key = kv->key.c_str();
    r.key_len = kv->key.size();
    r.type = uint32_t(kv->type);
    r.elem_type = kv->type == ValueType::ARRAY ? uint32_t(kv->elem_type) : 0;
    r.count = kv->type == ValueType::ARRAY ? kv->count : 1;
    *out = r;
    return GGUFTK_OK;
}

const char* gguftk_value_type_name(uint32_t type) {
    return value_type_name(static_cast<ValueType>(type)).data();  // literals, or "UNKNOWN"
}

int gguftk_metadata_get_uint(const gguftk_file* f, int64_t i, uint64_t item, uint64_t* out) {
    return guarded([&]() -> int {
        Located v;
        uint64_t bits = 0;
        bool negative = false;
        if (int rc = integer(f, i, item, out, &v, &bits, &negative)) return rc;
        if (negative)
            return fail(GGUFTK_ERR_WRONG_VALUE_TYPE, "%s holds %" PRId64 ", which is not an unsigned value",
                        quoted_name(v.kv->key).c_str(), int64_t(bits));
        *out = bits;
        return GGUFTK_OK;
    });
}

int gguftk_metadata_get_int(const gguftk_file* f, int64_t i, uint64_t item, int64_t* out) {
    return guarded([&]() -> int {
        Located v;
        uint64_t bits = 0;
        bool negative = false;
        if (int rc = integer(f, i, item, out, &v, &bits, &negative)) return rc;
        if (is_unsigned(v.type) && bits > uint64_t(INT64_MAX))
            return fail(GGUFTK_ERR_WRONG_VALUE_TYPE, "%s holds %" PRIu64 ", more than INT64_MAX",
                        quoted_name(v.kv->key).c_str(), bits);
        *out = int64_t(bits);
        return GGUFTK_OK;
    });
}

int gguftk_metadata_get_float(const gguftk_file* f, int64_t i, uint64_t item, double* out) {
    return guarded([&]() -> int {
        Located v;
        if (int rc = locate(f, i, item, &v)) return rc;
        if (v.type != ValueType::FLOAT32 && v.type != ValueType::FLOAT64) return wrong_type(v, "a float");
        if (!out) return fail(GGUFTK_ERR_INVALID_ARGUMENT, "out is NULL");
        const unsigned n = value_type_size(v.type);
        const uint8_t* p = nullptr;
        if (int rc = value_bytes(f, v, n, &p)) return rc;
        const uint64_t bits = load(p, n, f->file.big_endian());
        if (n == 4) {
            float x;
            const auto b32 = uint32_t(bits);
            std::memcpy(&x, &b32, 4);
            *out = double(x);
        } else {
            std::memcpy(out, &bits, 8);
        }
        return GGUFTK_OK;
    });
}

int gguftk_metadata_get_string(const gguftk_file* f, int64_t i, uint64_t item, const char** data, uint64_t* len) {
    return guarded([&]() -> int {
        Located v;
        if (int rc = locate(f, i, item, &v)) return rc;
        if (v.type != ValueType::STRING) return wrong_type(v, "a string");
        if (!data || !len) return fail(GGUFTK_ERR_INVALID_ARGUMENT, "data and len must not be NULL");
        const uint8_t* p = nullptr;
        if (int rc = value_bytes(f, v, 8, &p)) return rc;
        const uint64_t n = load(p, 8, f->file.big_endian());
        const Located text{v.kv, v.type, v.at + 8};
        if (int rc = value_bytes(f, text, n, &p)) return rc;
        *data = reinterpret_cast<const char*>(p);
        *len = n;
        return GGUFTK_OK;
    });
}

}  // extern "C"
