// The GGUF reader: maps a file and validates its header, metadata and tensor table.
//
// Layout (docs/gguf.md in ggml):
//   magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
//   n_kv x       { string key | u32 value_type | value }
//   n_tensors x  { string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type | u64 offset }
//   padding to `general.alignment` (default 32) | tensor data (offsets relative to its start)
// A string is u64 length + bytes (no terminator); an array is u32 element type + u64 count + items.
// Big-endian files (v3) store every one of these fields byte-swapped; the magic is the same bytes.
//
// The file is hostile until proven otherwise: every length and count is compared with the bytes
// that are actually left before anything is read or allocated, and all offset arithmetic is
// overflow-checked. Each error names the absolute offset of the field that was found wrong.
//
// The bytes in memory may be a prefix of the file (one read through a Source): lengths are still
// checked against the whole file, so the parse takes the same course and gives the same errors,
// and reading past the prefix throws NeedBytes for the caller to read more and parse again.
#include "container/gguf.h"

#include "container/layout.h"
#include "container/mapping.h"
#include "container/need_bytes.h"
#include "text/escape.h"
#include "text/cat.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

namespace gguftk {
namespace {

using layout::kMaxArrayDepth;
using layout::kMaxDims;
using layout::kMinKvBytes;
using layout::kMinTensorInfoBytes;
using layout::kNumValueTypes;
using layout::min_elem_size;
constexpr uint64_t kDefaultAlignment = 32;
// ggml accepts any power of two; anything past 1 MiB is not a real file, and bounding it keeps
// the padding arithmetic far from overflow.
constexpr uint64_t kMaxAlignment = uint64_t{1} << 20;
constexpr uint64_t kMaxInt64 = static_cast<uint64_t>(INT64_MAX);  // ggml's ne[] are int64_t

using layout::byteswap;

// " of 'key'" for messages; empty when there is no key.
std::string of_key(std::string_view key) { return key.empty() ? std::string() : " of " + quoted_name(key); }

// A bounds-checked cursor over the bytes in memory (`bytes`: the first of the file's `size`).
// Every read checks what is left first. Messages are only formatted on failure: `what` is a
// constant, `key` the entry concerned.
class Reader {
public:
    Reader(std::span<const uint8_t> bytes, uint64_t size, bool big_endian, const std::string& file, uint64_t pos = 0)
        : b_(bytes), size_(size), be_(big_endian), file_(file), pos_(pos) {}

    uint64_t pos() const { return pos_; }
    // This reader moved to `pos`.
    Reader at(uint64_t pos) const {
        Reader r = *this;
        r.pos_ = pos;
        return r;
    }
    uint64_t left() const { return size_ - pos_; }  // in the file

    [[noreturn]] void fail(const std::string& what, uint64_t at) const { throw Error(what, at, file_); }

    void need(uint64_t n, const char* what, std::string_view key = {}) const {
        if (n > b_.size() - pos_) {
            if (n > left())
                fail(text::cat("truncated ", what, of_key(key), ": needs ", n, " bytes, ", left(), " left in the file"),
                     pos_);
            throw NeedBytes{pos_, pos_ + n};
        }
    }
    void skip(uint64_t n, const char* what, std::string_view key = {}) {
        need(n, what, key);
        pos_ += n;
    }

    template <class T>
    T get(const char* what, std::string_view key = {}) {
        need(sizeof(T), what, key);
        T v;
        std::memcpy(&v, b_.data() + pos_, sizeof(T));
        if (be_) v = byteswap(v);
        pos_ += sizeof(T);
        return v;
    }

    // A GGUF string: u64 length, then that many bytes (any bytes: ggml does not check UTF-8).
    std::string_view string(const char* what, std::string_view key = {}) {
        const uint64_t at = pos_;
        const uint64_t n = get<uint64_t>(what, key);
        if (n > left())
            fail(text::cat(what, of_key(key), " length ", n, " exceeds the ", left(), " bytes left in the file"),
                 at);
        if (n > b_.size() - pos_) throw NeedBytes{pos_, pos_ + n};
        std::string_view s(reinterpret_cast<const char*>(b_.data() + pos_), n);
        pos_ += n;
        return s;
    }

    ValueType value_type(const char* what, std::string_view key) {
        const uint64_t at = pos_;
        const uint32_t t = get<uint32_t>(what, key);
        if (t >= kNumValueTypes)
            fail(text::cat(what, of_key(key), " ", t, " is not a GGUF value type (0..12)"), at);
        return static_cast<ValueType>(t);
    }

    // An array header: element type and count, the count checked against the bytes left.
    std::pair<ValueType, uint64_t> array_header(std::string_view key) {
        const ValueType elem = value_type("array element type", key);
        const uint64_t at = pos_;
        const uint64_t count = get<uint64_t>("array length", key);
        if (count > left() / min_elem_size(elem))
            fail(text::cat("array ", quoted_name(key), " claims ", count, " ", value_type_name(elem),
                           " items but only ", left(), " bytes are left in the file"),
                 at);
        return {elem, count};
    }

    void check_depth(std::string_view key, int depth) const {
        if (depth >= kMaxArrayDepth)
            fail(text::cat(quoted_name(key), " nests arrays deeper than ", kMaxArrayDepth, " levels"), pos_);
    }

    // Steps over one value of type t, validating every length inside it.
    void skip_value(ValueType t, std::string_view key, int depth) {
        if (const uint64_t n = value_type_size(t)) return skip(n, "value", key);
        if (t == ValueType::STRING) {
            string("string value", key);
            return;
        }
        check_depth(key, depth);
        const auto [elem, count] = array_header(key);
        skip_items(elem, count, key, depth + 1);
    }

    void skip_items(ValueType elem, uint64_t count, std::string_view key, int depth) {
        if (const uint64_t n = value_type_size(elem)) return skip(n * count, "array data", key);  // count <= left/n
        for (uint64_t i = 0; i < count; ++i) skip_value(elem, key, depth);
    }

    // Decodes one value; arrays keep at most max_items items per level.
    Value read_value(ValueType t, uint64_t max_items, std::string_view key, int depth) {
        Value v;
        v.type = t;
        switch (t) {
            case ValueType::UINT8: v.u = get<uint8_t>("value", key); break;
            case ValueType::INT8: v.i = static_cast<int8_t>(get<uint8_t>("value", key)); break;
            case ValueType::UINT16: v.u = get<uint16_t>("value", key); break;
            case ValueType::INT16: v.i = static_cast<int16_t>(get<uint16_t>("value", key)); break;
            case ValueType::UINT32: v.u = get<uint32_t>("value", key); break;
            case ValueType::INT32: v.i = static_cast<int32_t>(get<uint32_t>("value", key)); break;
            case ValueType::UINT64: v.u = get<uint64_t>("value", key); break;
            case ValueType::INT64: v.i = static_cast<int64_t>(get<uint64_t>("value", key)); break;
            case ValueType::FLOAT32: v.f = std::bit_cast<float>(get<uint32_t>("value", key)); break;
            case ValueType::FLOAT64: v.f = std::bit_cast<double>(get<uint64_t>("value", key)); break;
            case ValueType::BOOL: v.u = get<uint8_t>("value", key) != 0; break;
            case ValueType::STRING: v.s = std::string(string("string value", key)); break;
            case ValueType::ARRAY: {
                check_depth(key, depth);
                const auto [elem, count] = array_header(key);
                v.elem_type = elem;
                v.count = count;
                const uint64_t keep = std::min(count, max_items);
                v.items.reserve(keep);  // count was checked against the bytes left
                for (uint64_t i = 0; i < keep; ++i) {
                    v.items.push_back(read_value(elem, max_items, key, depth + 1));
                }
                break;  // the rest need not be read: nothing after this array is decoded here
            }
        }
        return v;
    }

    // Walks one value without keeping it: scalars and strings decoded one at a time, arrays as
    // begin, items, end, so an array of any length costs constant memory.
    void visit_value(ValueType t, ValueVisitor& v, std::string_view key, int depth) {
        if (t != ValueType::ARRAY) {
            v.scalar(read_value(t, 0, key, depth));
            return;
        }
        check_depth(key, depth);
        const auto [elem, count] = array_header(key);
        v.begin_array(elem, count);
        for (uint64_t i = 0; i < count; ++i) visit_value(elem, v, key, depth + 1);
        v.end_array();
    }

private:
    std::span<const uint8_t> b_;
    uint64_t size_;
    bool be_;
    const std::string& file_;
    uint64_t pos_;
};

// a + b, which may exceed 2^64 (then written as the exact decimal of the 65-bit sum).
std::string uint128_text(uint64_t a, uint64_t b) {
    unsigned __int128 sum = static_cast<unsigned __int128>(a) + b;
    if (sum <= UINT64_MAX) return std::to_string(static_cast<uint64_t>(sum));
    const std::string low = std::to_string(static_cast<uint64_t>(sum % 10000000000000000000ull));
    return text::cat(static_cast<uint64_t>(sum / 10000000000000000000ull), std::string(19 - low.size(), '0'), low);
}

bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_mul_overflow(a, b, out); }

std::string shape_text(const std::array<uint64_t, 4>& ne, uint32_t n) {
    std::string s;
    for (uint32_t i = 0; i < n; ++i) s += text::cat(i ? " x " : "", ne[i]);
    return s;
}

}  // namespace

unsigned value_type_size(ValueType t) noexcept {
    switch (t) {
        case ValueType::UINT8: case ValueType::INT8: case ValueType::BOOL: return 1;
        case ValueType::UINT16: case ValueType::INT16: return 2;
        case ValueType::UINT32: case ValueType::INT32: case ValueType::FLOAT32: return 4;
        case ValueType::UINT64: case ValueType::INT64: case ValueType::FLOAT64: return 8;
        case ValueType::STRING: case ValueType::ARRAY: return 0;
    }
    return 0;
}

std::string_view value_type_name(ValueType t) noexcept {
    static constexpr std::string_view kNames[] = {"UINT8", "INT8", "UINT16", "INT16", "UINT32",
                                                  "INT32", "FLOAT32", "BOOL", "STRING", "ARRAY",
                                                  "UINT64", "INT64", "FLOAT64"};
    const auto i = static_cast<uint32_t>(t);
    return i < kNumValueTypes ? kNames[i] : "UNKNOWN";
}

GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

namespace {

// A FIFO's open(2) waits for a writer, so the "not a regular file" check would never be
// reached: open without blocking, then let reads block again as usual.
int open_read_only(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) throw Error(text::cat("cannot open: ", std::strerror(errno)), std::nullopt, path);
    const int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        const int e = errno;
        ::close(fd);
        throw Error(text::cat("cannot open: ", std::strerror(e)), std::nullopt, path);
    }
    return fd;
}

}  // namespace

GgufFile GgufFile::open(const std::string& path) {
    const int fd = open_read_only(path);
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        const int e = errno;
        ::close(fd);
        throw Error(text::cat("cannot stat: ", std::strerror(e)), std::nullopt, path);
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error("not a regular file", std::nullopt, path);
    }
    auto map = std::make_unique<Mapping>();
    map->len = static_cast<size_t>(st.st_size);
    if (map->len > 0) {
        void* p = mmap(nullptr, map->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            const int e = errno;
            ::close(fd);
            throw Error(text::cat("cannot map: ", std::strerror(e)), std::nullopt, path);
        }
        map->addr = p;
    }
    ::close(fd);  // the mapping keeps the file
    std::span<const uint8_t> bytes(static_cast<const uint8_t*>(map->addr), map->len);
    GgufFile f = parse(bytes, path);
    f.map_ = std::move(map);
    return f;
}

GgufFile GgufFile::parse(std::span<const uint8_t> bytes, std::string name) {
    return parse_prefix(bytes, bytes.size(), std::move(name));
}

namespace {

// --- header ---

void check_magic(const Reader& r, std::span<const uint8_t> bytes) {
    r.need(4, "magic");
    if (std::memcmp(bytes.data(), "GGUF", 4) != 0)
        r.fail(text::cat("bad magic ", text::hex(bytes[0], 2), ' ', text::hex(bytes[1], 2), ' ', text::hex(bytes[2], 2),
                         ' ', text::hex(bytes[3], 2), ": not a GGUF file (expected \"GGUF\")"),
               0);
}

struct Header {
    bool big_endian = false;
    uint32_t version = 0;
    uint64_t n_tensors = 0;
    uint64_t n_kv = 0;
};

// The version field tells the byte order too: a little-endian reader sees a big-endian version
// 2 or 3 as 0x02000000 or 0x03000000, the low half zero for every plausible version of either
// byte order (as ggml and gguf-py tell).
void read_version(Reader probe, Header& h) {
    const uint32_t raw_version = probe.get<uint32_t>("version");
    h.big_endian = (raw_version & 0xffff) == 0;
    h.version = h.big_endian ? byteswap(raw_version) : raw_version;
    if (h.version == 1) probe.fail("unsupported version 1 (GGUF v1 is obsolete; this reader knows v2 and v3)", 4);
    if (h.version != 2 && h.version != 3)
        probe.fail(text::cat("unsupported version ", h.version, " (this reader knows v2 and v3)"), 4);
}

constexpr uint64_t kHeaderBytes = 24;  // magic, version, tensor count, metadata count

// Magic, version and the two counts, each count bounded by the bytes left after it.
Header read_header(std::span<const uint8_t> bytes, uint64_t file_size, const std::string& file) {
    check_magic(Reader(bytes, file_size, false, file), bytes);
    Header h;
    read_version(Reader(bytes, file_size, false, file, 4), h);
    Reader r(bytes, file_size, h.big_endian, file, 8);
    h.n_tensors = r.get<uint64_t>("tensor count");
    h.n_kv = r.get<uint64_t>("metadata count");
    if (h.n_tensors > r.left() / kMinTensorInfoBytes)
        r.fail(text::cat("tensor count ", h.n_tensors, " cannot fit in the ", r.left(), " bytes left in the file"), 8);
    if (h.n_kv > r.left() / kMinKvBytes)
        r.fail(text::cat("metadata count ", h.n_kv, " cannot fit in the ", r.left(), " bytes left in the file"), 16);
    return h;
}

// --- metadata ---

using FirstSeen = std::unordered_map<std::string_view, uint64_t>;  // views into the bytes: where each was first

KeyValue read_key_value(Reader& r, FirstSeen& seen_keys) {
    KeyValue kv;
    kv.offset = r.pos();
    const std::string_view key = r.string("metadata key");
    // ggml refuses a file that repeats a key (gguf_init_from_file: "duplicate key").
    if (auto [it, fresh] = seen_keys.emplace(key, kv.offset); !fresh)
        r.fail(text::cat("duplicate key ", quoted_name(key), " (first at offset ", it->second, ")"), kv.offset);
    kv.key = std::string(key);
    kv.value_offset = r.pos();
    kv.type = r.value_type("value type", key);
    if (kv.type == ValueType::ARRAY) {
        const auto [elem, count] = r.array_header(key);
        kv.elem_type = elem;
        kv.count = count;
        r.skip_items(elem, count, key, 1);
    } else {
        r.skip_value(kv.type, key, 0);
    }
    kv.end = r.pos();
    return kv;
}

// The counts are bounded by the bytes left; reserve no more than the bytes in memory hold.
std::vector<KeyValue> read_metadata(Reader& r, uint64_t n_kv, uint64_t in_memory) {
    std::vector<KeyValue> kvs;
    kvs.reserve(std::min<uint64_t>(n_kv, in_memory / sizeof(KeyValue)));
    FirstSeen seen_keys;
    seen_keys.reserve(std::min<uint64_t>(n_kv, in_memory / kMinKvBytes));
    for (uint64_t i = 0; i < n_kv; ++i) kvs.push_back(read_key_value(r, seen_keys));
    return kvs;
}

// general.alignment: ggml reads it with gguf_get_val_u32, which aborts on any other type.
uint64_t read_alignment(const Reader& r, const std::vector<KeyValue>& kvs) {
    const auto kv =
        std::find_if(kvs.begin(), kvs.end(), [](const KeyValue& k) { return k.key == "general.alignment"; });
    if (kv == kvs.end()) return kDefaultAlignment;
    if (kv->type != ValueType::UINT32)
        r.fail(text::cat("general.alignment must be UINT32, not ", value_type_name(kv->type)), kv->value_offset);
    const uint64_t at = kv->value_offset + 4;
    const uint64_t a = r.at(at).get<uint32_t>("general.alignment");
    if (a == 0 || !std::has_single_bit(a)) r.fail(text::cat("general.alignment ", a, " is not a power of two"), at);
    if (a > kMaxAlignment) r.fail(text::cat("general.alignment ", a, " is larger than 1 MiB"), at);
    return a;
}

// --- tensor infos ---

// n_dims and ne[], each dimension and their product within ggml's int64_t. Returns where ne[] is.
uint64_t read_shape(Reader& r, TensorInfo& t) {
    const uint64_t dims_at = r.pos();
    t.n_dims = r.get<uint32_t>("tensor n_dims");
    if (t.n_dims < 1 || t.n_dims > kMaxDims)
        r.fail(text::cat("tensor ", quoted_name(t.name), ": n_dims ", t.n_dims, " is not in 1..", kMaxDims), dims_at);
    const uint64_t ne_at = r.pos();
    for (uint32_t d = 0; d < t.n_dims; ++d) {
        const uint64_t at = r.pos();
        t.ne[d] = r.get<uint64_t>("tensor dimension");
        if (t.ne[d] > kMaxInt64)
            r.fail(text::cat("tensor ", quoted_name(t.name), ": dimension ", d, " is ", t.ne[d], ", above 2^63-1"), at);
    }
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < t.n_dims; ++d) {
        if (mul_overflows(n_elements, t.ne[d], &n_elements) || n_elements > kMaxInt64)
            r.fail(text::cat("tensor ", quoted_name(t.name), ": shape ", shape_text(t.ne, t.n_dims),
                             " has more than 2^63-1 elements"),
                   ne_at);
    }
    t.n_elements = n_elements;
    return ne_at;
}

// The ggml type, known and fitting the shape, and the data size it makes (errors at ne[]'s `ne_at`).
void read_tensor_type(Reader& r, TensorInfo& t, uint64_t ne_at) {
    const uint64_t type_at = r.pos();
    const uint32_t type_id = r.get<uint32_t>("tensor type");
    t.type = find_type(type_id);
    if (!t.type) {
        if (auto old = removed_type_name(type_id))
            r.fail(text::cat("tensor ", quoted_name(t.name), ": type ", type_id, " (", *old, ") was removed from ggml"),
                   type_at);
        r.fail(text::cat("tensor ", quoted_name(t.name), ": unknown type ", type_id), type_at);
    }
    if (t.ne[0] % t.type->block_elems != 0)
        r.fail(text::cat("tensor ", quoted_name(t.name), ": row length ", t.ne[0], " is not a multiple of ",
                         t.type->name, "'s block of ", t.type->block_elems, " elements"),
               ne_at);
    if (mul_overflows(t.n_elements / t.type->block_elems, t.type->block_bytes, &t.size))
        r.fail(text::cat("tensor ", quoted_name(t.name), ": size of shape ", shape_text(t.ne, t.n_dims), " overflows"),
               ne_at);
}

// A tensor's data offset as stored (relative to the data section) and where that field is, for errors.
struct StoredOffset {
    uint64_t value;
    uint64_t at;
};

struct TensorInfos {
    std::vector<TensorInfo> tensors;
    std::vector<StoredOffset> offsets;  // one per tensor
};

TensorInfo read_tensor_info(Reader& r, FirstSeen& seen_names, std::vector<StoredOffset>& offsets) {
    TensorInfo t;
    t.info_offset = r.pos();
    const std::string_view name = r.string("tensor name");
    if (auto [it, fresh] = seen_names.emplace(name, t.info_offset); !fresh)
        r.fail(text::cat("duplicate tensor name ", quoted_name(name), " (first at offset ", it->second, ")"),
               t.info_offset);
    t.name = std::string(name);
    const uint64_t ne_at = read_shape(r, t);
    read_tensor_type(r, t, ne_at);
    const uint64_t at = r.pos();
    offsets.push_back({r.get<uint64_t>("tensor data offset"), at});
    return t;
}

TensorInfos read_tensor_infos(Reader& r, uint64_t n_tensors, uint64_t in_memory) {
    TensorInfos infos;
    infos.tensors.reserve(std::min<uint64_t>(n_tensors, in_memory / sizeof(TensorInfo)));
    const uint64_t most_tensors = std::min<uint64_t>(n_tensors, in_memory / kMinTensorInfoBytes);
    infos.offsets.reserve(most_tensors);
    FirstSeen seen_names;
    seen_names.reserve(most_tensors);
    for (uint64_t i = 0; i < n_tensors; ++i) infos.tensors.push_back(read_tensor_info(r, seen_names, infos.offsets));
    return infos;
}

// --- data section ---

// Padding after the infos is the distance to the next multiple of the alignment; pos <= file
// size and alignment <= 1 MiB, so this cannot overflow. With no tensors the padding may be absent.
uint64_t data_section_start(uint64_t end_of_infos, uint64_t alignment) {
    return (end_of_infos + alignment - 1) / alignment * alignment;
}

// Each tensor's absolute offset: aligned, and its data within the file.
void place_tensors(const Reader& r, TensorInfos& infos, uint64_t data_offset, uint64_t alignment, uint64_t file_size) {
    for (size_t i = 0; i < infos.tensors.size(); ++i) {
        TensorInfo& t = infos.tensors[i];
        const auto [rel, at] = infos.offsets[i];
        if (rel % alignment != 0)
            r.fail(text::cat("tensor ", quoted_name(t.name), ": data offset ", rel,
                             " is not a multiple of the alignment ", alignment),
                   at);
        uint64_t abs = 0;
        if (__builtin_add_overflow(data_offset, rel, &abs))
            r.fail(text::cat("tensor ", quoted_name(t.name), ": data offset ", rel, " wraps around past 2^64"), at);
        if (abs > file_size || t.size > file_size - abs)
            r.fail(text::cat("tensor ", quoted_name(t.name), ": data [", abs, ", ", uint128_text(abs, t.size),
                             ") extends past the end of the file (", file_size, " bytes)"),
                   at);
        t.offset = abs;
    }
}

// No two tensors may share bytes. Sort by start (ties keep file order, so the later tensor is
// the one named); an empty tensor overlaps nothing.
void check_no_overlap(const Reader& r, const TensorInfos& infos) {
    const std::vector<TensorInfo>& ts = infos.tensors;
    std::vector<size_t> order(ts.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ts[a].offset < ts[b].offset; });
    const TensorInfo* reach = nullptr;  // the non-empty tensor reaching furthest so far
    for (size_t i : order) {
        const TensorInfo& t = ts[i];
        if (t.size == 0) continue;
        if (reach && t.offset < reach->offset + reach->size)
            r.fail(text::cat("tensor ", quoted_name(t.name), ": data [", t.offset, ", ", t.offset + t.size,
                             ") overlaps tensor ", quoted_name(reach->name), " at [", reach->offset, ", ",
                             reach->offset + reach->size, ")"),
                   infos.offsets[i].at);
        if (!reach || t.offset + t.size > reach->offset + reach->size) reach = &t;
    }
}

}  // namespace

GgufFile GgufFile::parse_prefix(std::span<const uint8_t> bytes, uint64_t file_size, std::string name) {
    GgufFile f;
    f.bytes_ = bytes;
    f.file_size_ = file_size;
    f.path_ = std::move(name);
    const Header h = read_header(bytes, file_size, f.path_);
    Reader r(bytes, file_size, h.big_endian, f.path_, kHeaderBytes);
    f.big_endian_ = h.big_endian;
    f.version_ = h.version;
    f.kvs_ = read_metadata(r, h.n_kv, bytes.size());
    f.alignment_ = read_alignment(r, f.kvs_);
    TensorInfos infos = read_tensor_infos(r, h.n_tensors, bytes.size());
    f.data_offset_ = data_section_start(r.pos(), f.alignment_);
    place_tensors(r, infos, f.data_offset_, f.alignment_, file_size);
    check_no_overlap(r, infos);
    f.tensors_ = std::move(infos.tensors);
    return f;
}

const KeyValue* GgufFile::find_key(std::string_view key) const {
    for (const auto& kv : kvs_)
        if (kv.key == key) return &kv;
    return nullptr;
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
    for (const auto& t : tensors_)
        if (t.name == name) return &t;
    return nullptr;
}

Value GgufFile::value(const KeyValue& kv, uint64_t max_items) const {
    Reader r(bytes_, file_size_, big_endian_, path_, kv.value_offset + 4);
    return r.read_value(kv.type, max_items, kv.key, 0);
}

void GgufFile::visit(const KeyValue& kv, ValueVisitor& v) const {
    Reader r(bytes_, file_size_, big_endian_, path_, kv.value_offset + 4);
    r.visit_value(kv.type, v, kv.key, 0);
}

std::optional<uint64_t> GgufFile::get_uint(std::string_view key) const {
    const KeyValue* kv = find_key(key);
    if (!kv) return std::nullopt;
    switch (kv->type) {
        case ValueType::UINT8: case ValueType::UINT16: case ValueType::UINT32: case ValueType::UINT64:
            return value(*kv).u;
        case ValueType::INT8: case ValueType::INT16: case ValueType::INT32: case ValueType::INT64: {
            const int64_t i = value(*kv).i;
            if (i >= 0) return static_cast<uint64_t>(i);
            return std::nullopt;
        }
        default: return std::nullopt;
    }
}

std::optional<std::string> GgufFile::get_string(std::string_view key) const {
    const KeyValue* kv = find_key(key);
    if (!kv || kv->type != ValueType::STRING) return std::nullopt;
    return value(*kv).s;
}

}  // namespace gguftk
