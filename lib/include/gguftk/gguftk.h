/*
 * libgguftk: the C API of gguftk, for inference engines (C99; no C++ types).
 *
 *   gguftk_file *f;
 *   if (gguftk_open("model.gguf", &f) != GGUFTK_OK) { fprintf(stderr, "%s\n", gguftk_last_error()); ... }
 *   int64_t i = gguftk_find_tensor(f, "blk.0.attn_q.weight");
 *   gguftk_tensor_info t;
 *   gguftk_tensor_info_at(f, i, &t);
 *   uint16_t *w = malloc(t.n_elements * 2);
 *   gguftk_dequantize(f, i, GGUFTK_F16, w, t.n_elements * 2, 0);   (0 threads: one per core)
 *   gguftk_close(f);
 *
 * Values are exactly those gguf-dequant writes: ggml's float32 dequantization, rounded to F16 or
 * BF16 to nearest even. Every function that can fail returns an error code (GGUFTK_OK = 0, else
 * one of enum gguftk_error), leaves a one-line message for gguftk_last_error() on the calling
 * thread, and writes nothing to its output buffers or out-parameters. No function throws or
 * aborts. An open file is immutable: any number of threads may read it and dequantize from it
 * at once; gguftk_close must not race with them.
 *
 * Sizes are in bytes; tensor and metadata indices are 0-based int64_t; strings from the file
 * are bytes with a length (not necessarily UTF-8, and they may hold NUL).
 */
#ifndef GGUFTK_GGUFTK_H
#define GGUFTK_GGUFTK_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define GGUFTK_API __attribute__((visibility("default")))
#else
#define GGUFTK_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gguftk_file gguftk_file;

/* Error codes. Every failure also sets the thread's gguftk_last_error() message. */
enum gguftk_error {
    GGUFTK_OK = 0,
    GGUFTK_ERR_INVALID_ARGUMENT = 1, /* a NULL pointer where one is needed, misaligned device pointers */
    GGUFTK_ERR_IO = 2,               /* the path cannot be opened, examined or mapped, or is not a regular file */
    GGUFTK_ERR_BAD_FILE = 3,         /* not a valid GGUF file; the message names the offset, as the tools do */
    GGUFTK_ERR_OUT_OF_RANGE = 4,     /* a tensor, metadata, item or row index past the end */
    GGUFTK_ERR_UNSUPPORTED_TYPE = 5, /* a type id ggml does not have, a type without a decoder (I8..I64),
                                        an output type not in gguftk_out_type, or tensor data of a
                                        big-endian file */
    GGUFTK_ERR_DST_TOO_SMALL = 6,    /* dst_bytes is less than the result needs */
    GGUFTK_ERR_NO_CUDA = 7,          /* built without CUDA, or no usable CUDA device */
    GGUFTK_ERR_CUDA = 8,             /* a CUDA call failed; the message has CUDA's words */
    GGUFTK_ERR_OUT_OF_MEMORY = 9,
    GGUFTK_ERR_WRONG_VALUE_TYPE = 10, /* a metadata accessor asked for a value of another type */
    GGUFTK_ERR_INTERNAL = 11          /* a bug: please report the message */
};

/* Output types: their ggml type ids. */
typedef enum { GGUFTK_F32 = 0, GGUFTK_F16 = 1, GGUFTK_BF16 = 30 } gguftk_out_type;

typedef struct {
    const char *name;      /* NUL-terminated after name_len bytes (which may hold NUL), valid until close */
    uint32_t type;         /* ggml type id */
    const char *type_name; /* "Q4_K", "F32", ...: static storage */
    uint32_t n_dims;       /* 1..4 */
    uint64_t ne[4];        /* GGUF order: ne[0] is the row (contiguous) dimension; unused dims are 1 */
    uint64_t n_elements;
    uint64_t offset;       /* absolute offset of the data in the file */
    uint64_t size;         /* bytes of data */
    uint64_t name_len;     /* bytes of the name */
} gguftk_tensor_info;

/* The library's version, "MAJOR.MINOR.PATCH". */
GGUFTK_API const char *gguftk_version(void);
/* The message of the last failure on this thread ("" if none yet); valid until the thread's next
 * failing call. */
GGUFTK_API const char *gguftk_last_error(void);
/* "GGUFTK_OK", "GGUFTK_ERR_IO", ...; "GGUFTK_ERR_?" for codes not above. */
GGUFTK_API const char *gguftk_error_name(int code);

/* Maps and validates the file, exactly as the tools do. On success *out owns it; on failure
 * *out is left untouched. */
GGUFTK_API int gguftk_open(const char *path, gguftk_file **out);
/* Unmaps. NULL is allowed. Pointers obtained from the file are invalid afterwards. */
GGUFTK_API void gguftk_close(gguftk_file *f);

/* -1 when f is NULL. */
GGUFTK_API int64_t gguftk_tensor_count(const gguftk_file *f);
/* -1 if absent (or f or name NULL). `name` is NUL-terminated. */
GGUFTK_API int64_t gguftk_find_tensor(const gguftk_file *f, const char *name);
GGUFTK_API int gguftk_tensor_info_at(const gguftk_file *f, int64_t i, gguftk_tensor_info *out);
/* The tensor's bytes as stored (quantized blocks), inside the mapped file: valid until close. For
 * engines that upload the quantized weights themselves (see gguftk_cuda_dequantize_blocks). */
GGUFTK_API int gguftk_tensor_data(const gguftk_file *f, int64_t i, const void **data, uint64_t *size);

/* ---- ggml types ---- */
typedef struct {
    const char *name;      /* "Q4_K": static storage */
    uint32_t block_elems;  /* elements per block (1 for F32, F16, ...) */
    uint32_t block_bytes;  /* bytes per block */
    int has_decoder;       /* 1 if it can be dequantized (every type but I8, I16, I32, I64) */
} gguftk_type_info;
/* GGUFTK_ERR_UNSUPPORTED_TYPE for an id that is not (or no longer) a ggml storage type. */
GGUFTK_API int gguftk_type_info_of(uint32_t type, gguftk_type_info *out);

/* ---- metadata ---- */
/* GGUF value types (gguf.md). */
typedef enum {
    GGUFTK_VALUE_UINT8 = 0, GGUFTK_VALUE_INT8 = 1, GGUFTK_VALUE_UINT16 = 2, GGUFTK_VALUE_INT16 = 3,
    GGUFTK_VALUE_UINT32 = 4, GGUFTK_VALUE_INT32 = 5, GGUFTK_VALUE_FLOAT32 = 6, GGUFTK_VALUE_BOOL = 7,
    GGUFTK_VALUE_STRING = 8, GGUFTK_VALUE_ARRAY = 9, GGUFTK_VALUE_UINT64 = 10, GGUFTK_VALUE_INT64 = 11,
    GGUFTK_VALUE_FLOAT64 = 12
} gguftk_value_type;

typedef struct {
    const char *key;   /* the key's bytes, NUL-terminated after key_len bytes; valid until close */
    size_t key_len;
    uint32_t type;     /* gguftk_value_type */
    uint32_t elem_type; /* arrays: the items' gguftk_value_type */
    uint64_t count;    /* arrays: the number of items; 1 for any other value */
} gguftk_kv_info;

/* -1 when f is NULL. */
GGUFTK_API int64_t gguftk_metadata_count(const gguftk_file *f);
/* The index of the entry whose key is exactly `key` (key_len bytes), or -1. */
GGUFTK_API int64_t gguftk_find_key(const gguftk_file *f, const char *key, size_t key_len);
GGUFTK_API int gguftk_metadata_at(const gguftk_file *f, int64_t i, gguftk_kv_info *out);
/* "UINT32", "STRING", ...; "UNKNOWN" for other numbers. */
GGUFTK_API const char *gguftk_value_type_name(uint32_t type);

/* The value of entry `i`: `item` is 0 for a value that is not an array, else the item's index
 * (0..count-1). Items that are arrays themselves (which ggml refuses to load) are not readable:
 * GGUFTK_ERR_WRONG_VALUE_TYPE. Conversions are exact or refused:
 *   get_uint:   UINT8..UINT64, BOOL (0/1), and the signed types when the value is >= 0
 *   get_int:    INT8..INT64, BOOL, and the unsigned types when the value is <= INT64_MAX
 *   get_float:  FLOAT32 (widened exactly) and FLOAT64
 *   get_string: STRING; *data points into the mapped file (not NUL-terminated), valid until close
 * Reading item k of a string array costs O(1) after the first string read of that array. */
GGUFTK_API int gguftk_metadata_get_uint(const gguftk_file *f, int64_t i, uint64_t item, uint64_t *out);
GGUFTK_API int gguftk_metadata_get_int(const gguftk_file *f, int64_t i, uint64_t item, int64_t *out);
GGUFTK_API int gguftk_metadata_get_float(const gguftk_file *f, int64_t i, uint64_t item, double *out);
GGUFTK_API int gguftk_metadata_get_string(const gguftk_file *f, int64_t i, uint64_t item, const char **data,
                                          uint64_t *len);

/* ---- dequantization on the host ---- */
/* The whole tensor `i` into dst: n_elements values of type `to`, in the file's element order.
 * The tensor's blocks are split across n_threads threads, at most one per available core (also
 * for n_threads <= 0), and fewer for small tensors. dst may have any alignment. */
GGUFTK_API int gguftk_dequantize(const gguftk_file *f, int64_t i, gguftk_out_type to, void *dst, size_t dst_bytes,
                                 int n_threads);
/* Rows [row0, row0 + n_rows) of tensor `i`, a row being ne[0] elements and the rows of all
 * higher dimensions counted one after another (n_elements / ne[0] rows). One thread. */
GGUFTK_API int gguftk_dequantize_rows(const gguftk_file *f, int64_t i, uint64_t row0, uint64_t n_rows,
                                      gguftk_out_type to, void *dst, size_t dst_bytes);
/* Raw blocks already in memory, for engines with their own loader: n_blocks whole blocks of
 * ggml type `type` at src (n_blocks * block_bytes bytes, any alignment). One thread. */
GGUFTK_API int gguftk_dequantize_blocks(uint32_t type, const void *src, uint64_t n_blocks, gguftk_out_type to,
                                        void *dst, size_t dst_bytes);

/* ---- dequantization on the GPU (CUDA) ----
 * src and dst are device pointers aligned to 16 bytes (as cudaMalloc's are); the work is
 * enqueued on `cuda_stream` (a cudaStream_t; NULL = the default stream) and the call returns
 * without waiting for it. Same bytes as the host functions. Without CUDA in the build, or
 * without a usable device, these return GGUFTK_ERR_NO_CUDA. */
/* 1 if the library was built with CUDA and a device answers, else 0. */
GGUFTK_API int gguftk_cuda_available(void);
GGUFTK_API int gguftk_cuda_dequantize_blocks(uint32_t type, const void *src_dev, uint64_t n_blocks, gguftk_out_type to,
                                             void *dst_dev, size_t dst_bytes, void *cuda_stream);
/* Tensor `i` of a file on the host into device memory: its blocks are copied to the device
 * through a scratch buffer of at most 64 MiB (allocated and freed in stream order), then decoded
 * on the stream. The host memory is read before the call returns. */
GGUFTK_API int gguftk_cuda_dequantize(const gguftk_file *f, int64_t i, gguftk_out_type to, void *dst_dev,
                                      size_t dst_bytes, void *cuda_stream);

#ifdef __cplusplus
}
#endif

#endif /* GGUFTK_GGUFTK_H */
