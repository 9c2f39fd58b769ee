// libFuzzer target: libgguftk's C API (gguftk.h) on arbitrary bytes, the way an engine calls it.
//
// The input is a file: it is written to an anonymous in-memory file (memfd) and opened by its
// /proc/self/fd path, so gguftk_open maps it as it maps a model on disk. Then every getter is
// called on every tensor and metadata entry, and every tensor is dequantized to every target,
// with the promises gguftk.h makes checked:
//   - a failure is one of the documented codes, leaves a message, and writes nothing to the
//     out-parameters or the output buffer (checked with a canary);
//   - what is returned is consistent: names NUL-terminated at their length, unique, found again
//     by find_tensor / find_key; shapes multiply to n_elements; data inside the file;
//   - the three ways to dequantize agree bit for bit: the whole tensor (1 and 2 threads), a range
//     of rows, and the tensor's raw blocks through gguftk_dequantize_blocks;
//   - indices, rows and items one past the end are OUT_OF_RANGE, a buffer one byte short is
//     DST_TOO_SMALL, a target that is not an output type is UNSUPPORTED_TYPE.
// The last byte also names a ggml type whose decoder gets the input as raw blocks, with block
// counts up to 2^64 - 1 against a small buffer.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "gguftk/gguftk.h"
#include "fuzz_check.h"

using gguftk::fuzz::require;
using gguftk::fuzz::require_shape;

namespace {

// A tensor's result is decoded only up to this many elements (the input is a few KiB, but a
// sub-byte type or a zero-size dimension can still describe more than a fuzzer should allocate).
constexpr uint64_t kMaxElements = uint64_t{1} << 18;
constexpr uint64_t kMaxItems = 4;  // metadata items read per array, besides the last one
constexpr uint8_t kCanary = 0xa5;
constexpr gguftk_out_type kTargets[] = {GGUFTK_F32, GGUFTK_F16, GGUFTK_BF16};

size_t target_size(gguftk_out_type to) { return to == GGUFTK_F32 ? 4 : 2; }

// A failure as gguftk.h describes one: a known code and a message for it.
void require_failure(int rc) {
    require(rc > GGUFTK_OK && rc <= GGUFTK_ERR_WRONG_VALUE_TYPE);
    require(gguftk_last_error()[0] != '\0');
    require(std::strcmp(gguftk_error_name(rc), "GGUFTK_ERR_?") != 0);
}

void require_code(int rc, int expected) {
    require(rc == expected);
    if (rc != GGUFTK_OK) require_failure(rc);
}

bool untouched(const std::vector<uint8_t>& buf) {
    return std::all_of(buf.begin(), buf.end(), [](uint8_t b) { return b == kCanary; });
}

// The input as a file of its own, readable by path; closed (and gone) when this goes.
class MemFile {
public:
    explicit MemFile(const uint8_t* data, size_t size) : fd_(memfd_create("fuzz.gguf", MFD_CLOEXEC)) {
        require(fd_ >= 0);
        for (size_t done = 0; done < size;) {
            const ssize_t n = write(fd_, data + done, size - done);
            require(n > 0);
            done += size_t(n);
        }
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }
    ~MemFile() { close(fd_); }
    MemFile(const MemFile&) = delete;
    MemFile& operator=(const MemFile&) = delete;
    const char* path() const { return path_.c_str(); }

private:
    int fd_;
    std::string path_;
};

// As gguftk.h counts rows: n_elements / ne[0], and rows of zero elements count too (saturated).
uint64_t row_count(const gguftk_tensor_info& t) {
    if (t.ne[0]) return t.n_elements / t.ne[0];
    uint64_t n = 1;
    for (int d = 1; d < 4; ++d)
        if (__builtin_mul_overflow(n, t.ne[d], &n)) return UINT64_MAX;
    return n;
}

// Tensor i to `to` every way: whole, in two threads, by rows, as raw blocks; all the same bytes.
void check_dequantize(const gguftk_file* f, int64_t i, const gguftk_tensor_info& t, gguftk_out_type to,
                      bool decodable) {
    const size_t bytes = size_t(t.n_elements) * target_size(to);
    std::vector<uint8_t> whole(bytes, kCanary);
    const int rc = gguftk_dequantize(f, i, to, whole.data(), bytes, 1);
    if (rc != GGUFTK_OK) {
        // No decoder, or the data of a big-endian file: refused whatever the target or the rows.
        require_code(rc, GGUFTK_ERR_UNSUPPORTED_TYPE);
        require(untouched(whole));
        std::vector<uint8_t> rows(bytes, kCanary);
        require(gguftk_dequantize_rows(f, i, 0, t.n_elements ? 1 : 0, to, rows.data(), bytes) != GGUFTK_OK);
        require(untouched(rows));
        return;
    }
    require(decodable);

    std::vector<uint8_t> again(bytes, kCanary);
    require_code(gguftk_dequantize(f, i, to, again.data(), bytes, 2), GGUFTK_OK);
    require(again == whole);

    if (bytes > 0) {
        std::vector<uint8_t> short_by_one(bytes - 1, kCanary);
        require_code(gguftk_dequantize(f, i, to, short_by_one.data(), bytes - 1, 1), GGUFTK_ERR_DST_TOO_SMALL);
        require(untouched(short_by_one));
    }

    // The second half of the rows, alone.
    const uint64_t n_rows = row_count(t);
    const uint64_t row0 = n_rows / 2;
    const size_t row_bytes = size_t(t.ne[0]) * target_size(to);
    std::vector<uint8_t> rows((n_rows - row0) * row_bytes, kCanary);
    require_code(gguftk_dequantize_rows(f, i, row0, n_rows - row0, to, rows.data(), rows.size()), GGUFTK_OK);
    require(std::equal(rows.begin(), rows.end(), whole.begin() + ptrdiff_t(row0 * row_bytes)));
    // (A row of an empty tensor may be long: the range is refused before the buffer is looked at.)
    std::vector<uint8_t> none(std::min(row_bytes, bytes), kCanary);
    require_code(gguftk_dequantize_rows(f, i, n_rows, 1, to, none.data(), none.size()), GGUFTK_ERR_OUT_OF_RANGE);
    require(untouched(none));

    // The same blocks, as an engine with its own loader passes them.
    const void* data = nullptr;
    uint64_t size = 0;
    require_code(gguftk_tensor_data(f, i, &data, &size), GGUFTK_OK);
    gguftk_type_info ti;
    require_code(gguftk_type_info_of(t.type, &ti), GGUFTK_OK);
    std::vector<uint8_t> blocks(bytes, kCanary);
    require_code(gguftk_dequantize_blocks(t.type, data, size / ti.block_bytes, to, blocks.data(), bytes), GGUFTK_OK);
    require(blocks == whole);
}

void check_tensor(const gguftk_file* f, int64_t i, size_t file_size) {
    gguftk_tensor_info t;
    require_code(gguftk_tensor_info_at(f, i, &t), GGUFTK_OK);
    require(t.name != nullptr && t.name[t.name_len] == '\0');
    if (std::strlen(t.name) == t.name_len) require(gguftk_find_tensor(f, t.name) == i);  // names are unique
    require_shape(t.n_dims, t.ne, t.n_elements);
    require(t.offset <= file_size && t.size <= file_size - t.offset);

    gguftk_type_info ti;
    require_code(gguftk_type_info_of(t.type, &ti), GGUFTK_OK);
    require(t.type_name != nullptr && std::strcmp(t.type_name, ti.name) == 0);
    require(ti.block_bytes > 0 && t.size == t.n_elements / ti.block_elems * ti.block_bytes);

    const void* data = nullptr;
    uint64_t size = 0;
    require_code(gguftk_tensor_data(f, i, &data, &size), GGUFTK_OK);
    require(size == t.size);
    if (size) {
        volatile uint8_t touch = static_cast<const uint8_t*>(data)[0] + static_cast<const uint8_t*>(data)[size - 1];
        (void)touch;
    }
    if (t.n_elements > kMaxElements) return;
    for (gguftk_out_type to : kTargets) check_dequantize(f, i, t, to, ti.has_decoder != 0);

    std::vector<uint8_t> dst(16, kCanary);
    require_code(gguftk_dequantize(f, i, static_cast<gguftk_out_type>(2), dst.data(), dst.size(), 1),
                 GGUFTK_ERR_UNSUPPORTED_TYPE);
    require(untouched(dst));
}

// One item of a metadata value through every getter: exactly the getters for its type answer.
void check_item(const gguftk_file* f, int64_t i, const gguftk_kv_info& kv, uint64_t item, size_t file_size) {
    const uint32_t type = kv.type == GGUFTK_VALUE_ARRAY ? kv.elem_type : kv.type;
    const bool past_end = item >= kv.count;
    uint64_t u = 7;
    int64_t s = 7;
    double d = 7;
    const char* str = nullptr;
    uint64_t len = 7;
    const int rcs[] = {gguftk_metadata_get_uint(f, i, item, &u), gguftk_metadata_get_int(f, i, item, &s),
                       gguftk_metadata_get_float(f, i, item, &d), gguftk_metadata_get_string(f, i, item, &str, &len)};
    for (int rc : rcs) {
        if (rc == GGUFTK_OK) continue;
        require_failure(rc);
        if (past_end && type != GGUFTK_VALUE_ARRAY) require(rc == GGUFTK_ERR_OUT_OF_RANGE);
    }
    if (rcs[0] != GGUFTK_OK) require(u == 7);
    if (rcs[1] != GGUFTK_OK) require(s == 7);
    if (rcs[2] != GGUFTK_OK) require(d == 7);
    if (rcs[3] != GGUFTK_OK) require(str == nullptr && len == 7);
    if (past_end) {
        require(rcs[0] != GGUFTK_OK && rcs[1] != GGUFTK_OK && rcs[2] != GGUFTK_OK && rcs[3] != GGUFTK_OK);
        return;
    }
    if (type != GGUFTK_VALUE_STRING) require(rcs[3] == GGUFTK_ERR_WRONG_VALUE_TYPE);
    if (type != GGUFTK_VALUE_FLOAT32 && type != GGUFTK_VALUE_FLOAT64) require(rcs[2] == GGUFTK_ERR_WRONG_VALUE_TYPE);
    if (type == GGUFTK_VALUE_STRING || type == GGUFTK_VALUE_FLOAT32 || type == GGUFTK_VALUE_FLOAT64)
        require(rcs[0] == GGUFTK_ERR_WRONG_VALUE_TYPE && rcs[1] == GGUFTK_ERR_WRONG_VALUE_TYPE);
    if (rcs[3] == GGUFTK_OK) {
        require(str != nullptr && len <= file_size);
        if (len) {
            volatile char touch = str[0] + str[len - 1];
            (void)touch;
        }
    }
}

void check_metadata(const gguftk_file* f, int64_t i, size_t file_size) {
    gguftk_kv_info kv;
    require_code(gguftk_metadata_at(f, i, &kv), GGUFTK_OK);
    require(kv.key != nullptr && kv.key[kv.key_len] == '\0');
    require(gguftk_find_key(f, kv.key, kv.key_len) == i);  // keys are unique
    require(std::strcmp(gguftk_value_type_name(kv.type), "UNKNOWN") != 0);
    if (kv.type == GGUFTK_VALUE_ARRAY)
        require(std::strcmp(gguftk_value_type_name(kv.elem_type), "UNKNOWN") != 0);
    else
        require(kv.count == 1);
    for (uint64_t item = 0; item < std::min(kv.count, kMaxItems); ++item) check_item(f, i, kv, item, file_size);
    if (kv.count > kMaxItems) check_item(f, i, kv, kv.count - 1, file_size);
    check_item(f, i, kv, kv.count, file_size);
}

void check_file(const gguftk_file* f, size_t file_size) {
    const int64_t n_tensors = gguftk_tensor_count(f);
    require(n_tensors >= 0);
    for (int64_t i = 0; i < n_tensors; ++i) check_tensor(f, i, file_size);
    const int64_t n_kv = gguftk_metadata_count(f);
    require(n_kv >= 0);
    for (int64_t i = 0; i < n_kv; ++i) check_metadata(f, i, file_size);

    gguftk_tensor_info t;
    gguftk_kv_info kv;
    std::memset(&t, kCanary, sizeof t);
    std::memset(&kv, kCanary, sizeof kv);
    for (int64_t bad : {int64_t{-1}, n_tensors}) require_code(gguftk_tensor_info_at(f, bad, &t), GGUFTK_ERR_OUT_OF_RANGE);
    for (int64_t bad : {int64_t{-1}, n_kv}) require_code(gguftk_metadata_at(f, bad, &kv), GGUFTK_ERR_OUT_OF_RANGE);
    const auto* tb = reinterpret_cast<const uint8_t*>(&t);
    const auto* kb = reinterpret_cast<const uint8_t*>(&kv);
    require(std::all_of(tb, tb + sizeof t, [](uint8_t b) { return b == kCanary; }));
    require(std::all_of(kb, kb + sizeof kv, [](uint8_t b) { return b == kCanary; }));
    std::vector<uint8_t> dst(4, kCanary);
    require_code(gguftk_dequantize(f, n_tensors, GGUFTK_F32, dst.data(), dst.size(), 1), GGUFTK_ERR_OUT_OF_RANGE);
    require(untouched(dst));
}

// The input as raw blocks of the type its last byte names: whole blocks decode, and a block count
// the buffer cannot hold (up to 2^64 - 1, whose byte count overflows) is refused before any write.
void check_raw_blocks(const uint8_t* data, size_t size) {
    if (size == 0) return;
    const uint32_t type = data[size - 1];
    gguftk_type_info ti;
    const int rc = gguftk_type_info_of(type, &ti);
    if (rc != GGUFTK_OK) {
        require_code(rc, GGUFTK_ERR_UNSUPPORTED_TYPE);
        return;
    }
    const uint64_t n_blocks = std::min<uint64_t>((size - 1) / ti.block_bytes, 64);
    for (gguftk_out_type to : kTargets) {
        const size_t bytes = n_blocks * ti.block_elems * target_size(to);
        std::vector<uint8_t> dst(bytes, kCanary);
        const int got = gguftk_dequantize_blocks(type, data, n_blocks, to, dst.data(), bytes);
        require_code(got, ti.has_decoder ? GGUFTK_OK : GGUFTK_ERR_UNSUPPORTED_TYPE);
        if (!ti.has_decoder) continue;
        std::vector<uint8_t> small(bytes, kCanary);
        require_code(gguftk_dequantize_blocks(type, data, n_blocks + 1, to, small.data(), bytes),
                     GGUFTK_ERR_DST_TOO_SMALL);
        // Counts whose byte counts overflow: refused as arguments no memory can hold, or as too
        // big for dst, never wrapped around.
        for (uint64_t too_many : {UINT64_MAX / (uint64_t{ti.block_elems} * 4) + 1, UINT64_MAX / 2 + 1, UINT64_MAX}) {
            const int big = gguftk_dequantize_blocks(type, data, too_many, to, small.data(), bytes);
            require(big == GGUFTK_ERR_INVALID_ARGUMENT || big == GGUFTK_ERR_DST_TOO_SMALL);
            require_failure(big);
        }
        require(untouched(small));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    check_raw_blocks(data, size);
    const MemFile file(data, size);
    gguftk_file* const sentinel = reinterpret_cast<gguftk_file*>(uintptr_t{0x1000});
    gguftk_file* f = sentinel;
    const int rc = gguftk_open(file.path(), &f);
    if (rc != GGUFTK_OK) {
        // The bytes are in a regular file that maps: only the bytes can be at fault (an empty
        // file cannot be mapped, which is an I/O error).
        require(rc == GGUFTK_ERR_BAD_FILE || (rc == GGUFTK_ERR_IO && size == 0));
        require_failure(rc);
        require(f == sentinel);
        return 0;
    }
    require(f != sentinel && f != nullptr);
    check_file(f, size);
    gguftk_close(f);
    return 0;
}
