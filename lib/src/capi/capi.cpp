// The C API (gguftk/gguftk.h): files, tensors, types, and dequantization on the host.
//
// Every entry point validates all of its arguments before it writes anything, then decodes
// through the CPU engine's loop (convert_blocks, which tests/test_cpu_loop.cpp holds to
// decode_blocks byte for byte), so the bytes are gguf-dequant's.
#include <sched.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <exception>
#include <system_error>
#include <thread>

#include "boundary.h"
#include "convert/cpu_loop.h"
#include "formats/decode.h"
#include "container/error.h"
#include "text/escape.h"
#include "formats/types.h"

using namespace gguftk;

namespace gguftk::capi {
namespace {

thread_local char last_error[1024];

// Below this many values a tensor is decoded by one thread: starting one costs more.
constexpr uint64_t kMinValuesPerThread = 64 * 1024;

unsigned available_cores() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return unsigned(std::max(1, CPU_COUNT(&set)));
    return std::max(1u, std::thread::hardware_concurrency());
}

// convert_blocks stores through uint16_t* / float*: it wants dst aligned to the value size. A
// caller's buffer may be anywhere, so misaligned output goes through an aligned bounce buffer.
void decode_into(const TypeInfo& ti, const uint8_t* src, uint64_t n_blocks, OutType o, uint8_t* dst) {
    const uint64_t osz = out_type_size(o);
    if (reinterpret_cast<uintptr_t>(dst) % osz == 0) {
        convert_blocks(ti.type, src, n_blocks, o, dst);
        return;
    }
    alignas(64) uint8_t bounce[16384];
    const uint64_t block_out = ti.block_elems * osz;  // at most 256 values of 4 bytes
    const uint64_t per_round = sizeof bounce / block_out;
    while (n_blocks > 0) {
        const uint64_t n = std::min(n_blocks, per_round);
        convert_blocks(ti.type, src, n, o, bounce);
        std::memcpy(dst, bounce, n * block_out);
        src += n * ti.block_bytes;
        dst += n * block_out;
        n_blocks -= n;
    }
}

// Splits the blocks into `threads` contiguous runs, one per thread, the first on the caller's.
// A thread that cannot be started has its run done by the caller: after validation nothing
// may fail half-way.
void decode_threaded(const TypeInfo& ti, const uint8_t* src, uint64_t n_blocks, OutType o, uint8_t* dst,
                     unsigned threads) {
    const uint64_t block_out = uint64_t(ti.block_elems) * out_type_size(o);
    std::vector<std::exception_ptr> errors(threads);
    auto run = [&](unsigned k) noexcept {
        const uint64_t base = n_blocks / threads, extra = n_blocks % threads;
        const uint64_t first = k * base + std::min<uint64_t>(k, extra);
        const uint64_t count = base + (k < extra ? 1 : 0);
        try {
            decode_into(ti, src + first * ti.block_bytes, count, o, dst + first * block_out);
        } catch (...) {
            errors[k] = std::current_exception();
        }
    };
    std::vector<std::thread> pool;
    pool.reserve(threads - 1);
    for (unsigned k = 1; k < threads; ++k) {
        try {
            pool.emplace_back(run, k);
        } catch (const std::system_error&) {
            run(k);
        }
    }
    run(0);
    for (auto& th : pool) th.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace

int out_type(int to, OutType* o) noexcept {
    switch (to) {
        case GGUFTK_F32: *o = OutType::F32; return GGUFTK_OK;
        case GGUFTK_F16: *o = OutType::F16; return GGUFTK_OK;
        case GGUFTK_BF16: *o = OutType::BF16; return GGUFTK_OK;
    }
    return fail(GGUFTK_ERR_UNSUPPORTED_TYPE,
                "output type %d is not GGUFTK_F32 (0), GGUFTK_F16 (1) or GGUFTK_BF16 (30)", to);
}

// A ggml type id of today's ggml.
int known_type(uint32_t id, const TypeInfo** out) {
    const TypeInfo* ti = find_type(id);
    if (!ti) {
        if (auto old = removed_type_name(id))
            return fail(GGUFTK_ERR_UNSUPPORTED_TYPE, "type %u (%.*s) was removed from ggml", id, int(old->size()),
                        old->data());
        return fail(GGUFTK_ERR_UNSUPPORTED_TYPE, "unknown type %u", id);
    }
    *out = ti;
    return GGUFTK_OK;
}

// The type of tensor data or raw blocks: known, and with a decoder.
int decodable(uint32_t id, const TypeInfo** out) {
    const TypeInfo* ti = nullptr;
    if (int rc = known_type(id, &ti)) return rc;
    if (!has_decoder(ti->type))
        return fail(GGUFTK_ERR_UNSUPPORTED_TYPE, "type %s has no decoder (an integer type holds data, not weights)",
                    ti->name.data());
    *out = ti;
    return GGUFTK_OK;
}

// Checks dst can take `n_values` values of `o`.
int check_dst(uint64_t n_values, OutType o, const void* dst, size_t dst_bytes, uint64_t* need) {
    if (__builtin_mul_overflow(n_values, uint64_t(out_type_size(o)), need))
        return fail(GGUFTK_ERR_DST_TOO_SMALL, "the result needs more than 2^64 bytes");
    if (*need > dst_bytes)
        return fail(GGUFTK_ERR_DST_TOO_SMALL, "dst holds %zu bytes; the result needs %llu", dst_bytes,
                    static_cast<unsigned long long>(*need));
    if (*need > 0 && !dst) return fail(GGUFTK_ERR_INVALID_ARGUMENT, "dst is NULL");
    return GGUFTK_OK;
}

int check_blocks(uint32_t type, uint64_t n_blocks, int to, const void* src, const char* src_name, const void* dst,
                 size_t dst_bytes, const TypeInfo** ti, OutType* o) {
    if (int rc = decodable(type, ti)) return rc;
    if (int rc = out_type(to, o)) return rc;
    uint64_t src_bytes = 0, n_values = 0, need = 0;
    if (__builtin_mul_overflow(n_blocks, uint64_t((*ti)->block_bytes), &src_bytes) ||
        __builtin_mul_overflow(n_blocks, uint64_t((*ti)->block_elems), &n_values))
        return fail(GGUFTK_ERR_INVALID_ARGUMENT, "%llu blocks of %s do not fit in memory",
                    static_cast<unsigned long long>(n_blocks), (*ti)->name.data());
    if (n_blocks > 0 && !src) return fail(GGUFTK_ERR_INVALID_ARGUMENT, "%s is NULL", src_name);
    return check_dst(n_values, *o, dst, dst_bytes, &need);
}

// The checks every tensor decode makes: the tensor, the output type, the file's byte order.
int decodable_tensor(const gguftk_file* f, int64_t i, int to, const TensorInfo** t, OutType* o) {
    if (int rc = tensor_at(f, i, t)) return rc;
    if (int rc = out_type(to, o)) return rc;
    // Quantized fields of a big-endian file are swapped one by one, by rules ggml never wrote
    // down: gguf-dequant refuses such files, and so does this.
    if (f->file.big_endian())
        return fail(GGUFTK_ERR_UNSUPPORTED_TYPE,
                    "big-endian GGUF files are not supported; convert it to little-endian first");
    if (!has_decoder((*t)->type->type))
        return fail(GGUFTK_ERR_UNSUPPORTED_TYPE,
                    "tensor %s: type %s has no decoder (an integer type holds data, not weights)",
                    quoted_name((*t)->name).c_str(), (*t)->type->name.data());
    return GGUFTK_OK;
}

int fail(int code, const char* fmt, ...) noexcept {
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

int failure_from_current_exception() noexcept {
    try {
        throw;
    } catch (const Error& e) {
        if (e.offset())
            return fail(GGUFTK_ERR_BAD_FILE, "%s: %s (at offset %llu)", e.file().c_str(), e.what(),
                        static_cast<unsigned long long>(*e.offset()));
        return fail(GGUFTK_ERR_BAD_FILE, "%s%s%s", e.file().c_str(), e.file().empty() ? "" : ": ", e.what());
    } catch (const std::bad_alloc&) {
        return fail(GGUFTK_ERR_OUT_OF_MEMORY, "out of memory");
    } catch (const std::exception& e) {
        return fail(GGUFTK_ERR_INTERNAL, "internal error: %s", e.what());
    } catch (...) {
        return fail(GGUFTK_ERR_INTERNAL, "internal error: an unknown exception");
    }
}

int tensor_at(const gguftk_file* f, int64_t i, const TensorInfo** out) noexcept {
    if (!f) return fail(GGUFTK_ERR_INVALID_ARGUMENT, "the file is NULL");
    const auto& ts = f->file.tensors();
    if (i < 0 || uint64_t(i) >= ts.size())
        return fail(GGUFTK_ERR_OUT_OF_RANGE, "tensor index %lld is not in 0..%lld", static_cast<long long>(i),
                    static_cast<long long>(ts.size()) - 1);
    *out = &ts[size_t(i)];
    return GGUFTK_OK;
}

int entry_at(const gguftk_file* f, int64_t i, const KeyValue** out) noexcept {
    if (!f) return fail(GGUFTK_ERR_INVALID_ARGUMENT, "the file is NULL");
    const auto& kvs = f->file.metadata();
    if (i < 0 || uint64_t(i) >= kvs.size())
        return fail(GGUFTK_ERR_OUT_OF_RANGE, "metadata index %lld is not in 0..%lld", static_cast<long long>(i),
                    static_cast<long long>(kvs.size()) - 1);
    *out = &kvs[size_t(i)];
    return GGUFTK_OK;
}

}  // namespace gguftk::capi

using namespace gguftk::capi;

extern "C" {

const char* gguftk_version(void) { return GGUFTK_VERSION_STRING; }

const char* gguftk_last_error(void) { return last_error; }

const char* gguftk_error_name(int code) {
    switch (code) {
        case GGUFTK_OK: return "GGUFTK_OK";
        case GGUFTK_ERR_INVALID_ARGUMENT: return "GGUFTK_ERR_INVALID_ARGUMENT";
        case GGUFTK_ERR_IO: return "GGUFTK_ERR_IO";
        case GGUFTK_ERR_BAD_FILE: return "GGUFTK_ERR_BAD_FILE";
        case GGUFTK_ERR_OUT_OF_RANGE: return "GGUFTK_ERR_OUT_OF_RANGE";
        case GGUFTK_ERR_UNSUPPORTED_TYPE: return "GGUFTK_ERR_UNSUPPORTED_TYPE";
        case GGUFTK_ERR_DST_TOO_SMALL: return "GGUFTK_ERR_DST_TOO_SMALL";
        case GGUFTK_ERR_NO_CUDA: return "GGUFTK_ERR_NO_CUDA";
        case GGUFTK_ERR_CUDA: return "GGUFTK_ERR_CUDA";
        case GGUFTK_ERR_OUT_OF_MEMORY: return "GGUFTK_ERR_OUT_OF_MEMORY";
        case GGUFTK_ERR_WRONG_VALUE_TYPE: return "GGUFTK_ERR_WRONG_VALUE_TYPE";
        case GGUFTK_ERR_INTERNAL: return "GGUFTK_ERR_INTERNAL";
    }
    return "GGUFTK_ERR_?";
}

int gguftk_open(const char* path, gguftk_file** out) {
    return guarded([&]() -> int {
        if (!path || !out) return fail(GGUFTK_ERR_INVALID_ARGUMENT, "path and out must not be NULL");
        try {
            *out = new gguftk_file(GgufFile::open(path));
        } catch (const Error& e) {
            // The reader gives every problem with the bytes the offset it was found at; what
            // has none happened before there were bytes (open, stat, mmap, not a file).
            if (e.offset()) throw;
            return fail(GGUFTK_ERR_IO, "%s: %s", path, e.what());
        }
        return GGUFTK_OK;
    });
}

void gguftk_close(gguftk_file* f) { delete f; }

int64_t gguftk_tensor_count(const gguftk_file* f) {
    if (!f) return fail(GGUFTK_ERR_INVALID_ARGUMENT, "the file is NULL"), -1;
    return int64_t(f->file.tensors().size());
}

int64_t gguftk_find_tensor(const gguftk_file* f, const char* name) {
    if (!f || !name) return fail(GGUFTK_ERR_INVALID_ARGUMENT, "the file and the name must not be NULL"), -1;
    const auto& ts = f->file.tensors();
    const std::string_view want(name);
    for (size_t i = 0; i < ts.size(); ++i)
        if (ts[i].name == want) return int64_t(i);
    return -1;
}

int gguftk_tensor_info_at(const gguftk_file* f, int64_t i, gguftk_tensor_info* out) {
    const TensorInfo* t = nullptr;
    if (int rc = tensor_at(f, i, &t)) return rc;
    if (!out) return fail(GGUFTK_ERR_INVALID_ARGUMENT, "out is NULL");
    gguftk_tensor_info r{};
    r.name = t->name.c_str();
    r.name_len = t->name.size();
    r.type = uint32_t(t->type->type);
    r.type_name = t->type->name.data();  // the type table's names are string literals
    r.n_dims = t->n_dims;
    for (int d = 0; d < 4; ++d) r.ne[d] = t->ne[d];
    r.n_elements = t->n_elements;
    r.offset = t->offset;
    r.size = t->size;
    *out = r;
    return GGUFTK_OK;
}

int gguftk_tensor_data(const gguftk_file* f, int64_t i, const void** data, uint64_t* size) {
    const TensorInfo* t = nullptr;
    if (int rc = tensor_at(f, i, &t)) return rc;
    if (!data || !size) return fail(GGUFTK_ERR_INVALID_ARGUMENT, "data and size must not be NULL");
    *data = f->file.data(*t).data();
    *size = t->size;
    return GGUFTK_OK;
}

int gguftk_type_info_of(uint32_t type, gguftk_type_info* out) {
    const TypeInfo* ti = nullptr;
    if (int rc = known_type(type, &ti)) return rc;
    if (!out) return fail(GGUFTK_ERR_INVALID_ARGUMENT, "out is NULL");
    *out = gguftk_type_info{ti->name.data(), ti->block_elems, ti->block_bytes, has_decoder(ti->type) ? 1 : 0};
    return GGUFTK_OK;
}

int gguftk_dequantize(const gguftk_file* f, int64_t i, gguftk_out_type to, void* dst, size_t dst_bytes,
                      int n_threads) {
    return guarded([&]() -> int {
        const TensorInfo* t = nullptr;
        OutType o{};
        if (int rc = decodable_tensor(f, i, enum_bits(to), &t, &o)) return rc;
        uint64_t need = 0;
        if (int rc = check_dst(t->n_elements, o, dst, dst_bytes, &need)) return rc;
        const uint64_t n_blocks = t->n_blocks();
        const uint64_t by_size = std::max<uint64_t>(1, t->n_elements / kMinValuesPerThread);
        // More threads than cores would only take turns (and a huge n_threads would ask for
        // thousands of threads).
        const unsigned cores = available_cores();
        const unsigned wanted = n_threads > 0 ? std::min(unsigned(n_threads), cores) : cores;
        const unsigned threads = unsigned(std::min<uint64_t>({wanted, by_size, std::max<uint64_t>(1, n_blocks)}));
        decode_threaded(*t->type, f->file.data(*t).data(), n_blocks, o, static_cast<uint8_t*>(dst), threads);
        return GGUFTK_OK;
    });
}

int gguftk_dequantize_rows(const gguftk_file* f, int64_t i, uint64_t row0, uint64_t n_rows, gguftk_out_type to,
                           void* dst, size_t dst_bytes) {
    return guarded([&]() -> int {
        const TensorInfo* t = nullptr;
        OutType o{};
        if (int rc = decodable_tensor(f, i, enum_bits(to), &t, &o)) return rc;
        const uint64_t row_len = t->ne[0];
        // Rows of zero elements still count: ne[1] * ne[2] * ne[3] of them (saturated: any
        // range of empty rows writes nothing).
        uint64_t total = 0;
        if (row_len > 0) {
            total = t->n_elements / row_len;
        } else {
            total = 1;
            for (int d = 1; d < 4; ++d)
                if (__builtin_mul_overflow(total, t->ne[d], &total)) total = UINT64_MAX;
        }
        uint64_t end = 0;
        if (__builtin_add_overflow(row0, n_rows, &end) || end > total)
            return fail(GGUFTK_ERR_OUT_OF_RANGE, "rows %llu..%llu+%llu are past the %llu rows of tensor %s",
                        static_cast<unsigned long long>(row0), static_cast<unsigned long long>(row0),
                        static_cast<unsigned long long>(n_rows), static_cast<unsigned long long>(total),
                        quoted_name(t->name).c_str());
        // row0 + n_rows <= total rows, so these products are at most n_elements.
        const uint64_t n_values = n_rows * row_len;
        uint64_t need = 0;
        if (int rc = check_dst(n_values, o, dst, dst_bytes, &need)) return rc;
        const uint64_t first_block = row0 * row_len / t->type->block_elems;
        const uint64_t n_blocks = n_values / t->type->block_elems;
        decode_into(*t->type, f->file.data(*t).data() + first_block * t->type->block_bytes, n_blocks, o,
                    static_cast<uint8_t*>(dst));
        return GGUFTK_OK;
    });
}

int gguftk_dequantize_blocks(uint32_t type, const void* src, uint64_t n_blocks, gguftk_out_type to, void* dst,
                             size_t dst_bytes) {
    return guarded([&]() -> int {
        const TypeInfo* ti = nullptr;
        OutType o{};
        if (int rc = check_blocks(type, n_blocks, enum_bits(to), src, "src", dst, dst_bytes, &ti, &o)) return rc;
        decode_into(*ti, static_cast<const uint8_t*>(src), n_blocks, o, static_cast<uint8_t*>(dst));
        return GGUFTK_OK;
    });
}

}  // extern "C"
