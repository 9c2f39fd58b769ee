/* libgguftk's C API, from C, against the INSTALLED package (tests/capi/run-installed.cmake builds
 * this file with find_package(gguftk) and with pkg-config in a project of its own).
 *
 *   test_capi FIXTURES_DIR CORPUS_DIR WORK_DIR
 *
 * - every tensor of all-types.gguf, to F32, F16 and BF16, against ggml's references
 *   (all-types.ref-f32.gguf / ref-f16.gguf; BF16: the F32 reference rounded to nearest even by
 *   the definition below), byte for byte, with 1, 2, 3 and "all" threads and misaligned dst;
 * - dequantize_rows and dequantize_blocks against dequantize, on many ranges;
 * - every error path: each returns its code, sets a message, and leaves every output untouched;
 * - metadata accessors against the fixture's known values;
 * - four threads reading one open file at once.
 * Prints one line per failed check; exit 0 only if none failed.
 */
#define _POSIX_C_SOURCE 200809L /* mkfifo, alarm under -std=c99 */
#include <gguftk/gguftk.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int failures;
static int checks;

/* C has no templates: a macro is what carries the failing expression and line into the report. */
#define CHECK(cond)                                                          \
    do {                                                                     \
        ++checks;                                                            \
        if (!(cond)) {                                                       \
            ++failures;                                                      \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
        }                                                                    \
    } while (0)

#define CHECK_RC(call, want)                                                                      \
    do {                                                                                          \
        const int rc_ = (call);                                                                   \
        ++checks;                                                                                 \
        if (rc_ != (want)) {                                                                      \
            ++failures;                                                                           \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s (last error: %s)\n", __FILE__, __LINE__, #call, \
                    gguftk_error_name(rc_), gguftk_error_name(want), gguftk_last_error());         \
        }                                                                                         \
    } while (0)

static const char *fixtures, *corpus, *work;

static char *path_in(const char *dir, const char *name) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* A buffer with poison around the region under test: an error must leave all of it as it was. */
#define POISON 0xA5
static unsigned char *poisoned(size_t n) {
    unsigned char *p = xmalloc(n + 64);
    memset(p, POISON, n + 64);
    return p;
}
static int all_poison(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (p[i] != POISON) return 0;
    return 1;
}

/* float32 -> bfloat16, round to nearest even, by the definition: of the two bfloat16 values
 * around f, the nearer; on a tie, the one with an even last bit. NaN keeps its top bits, quiet. */
static uint16_t bf16_by_definition(uint32_t x) {
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);
    const uint32_t lo = x & 0xffff0000u;
    if (x == lo) return (uint16_t)(lo >> 16);
    const uint32_t hi = lo + 0x10000u; /* next away from zero; may be infinity */
    float fx, flo, fhi;
    memcpy(&fx, &x, 4);
    memcpy(&flo, &lo, 4);
    memcpy(&fhi, &hi, 4);
    const double dx = fabs((double)fx), dlo = fabs((double)flo);
    const double dhi = (hi & 0x7fffffffu) == 0x7f800000u ? ldexp(1.0, 128) : fabs((double)fhi);
    if (dx - dlo < dhi - dx) return (uint16_t)(lo >> 16);
    if (dx - dlo > dhi - dx) return (uint16_t)(hi >> 16);
    return (uint16_t)(((lo >> 16) & 1) ? hi >> 16 : lo >> 16);
}

static const void *tensor_bytes(const gguftk_file *f, int64_t i, uint64_t *size) {
    const void *p = NULL;
    CHECK_RC(gguftk_tensor_data(f, i, &p, size), GGUFTK_OK);
    return p;
}

static size_t out_size(gguftk_out_type t) { return t == GGUFTK_F32 ? 4 : 2; }

/* ---------------------------------------------------------------- references ---- */

static void check_against_references(gguftk_file *src, gguftk_file *ref32, gguftk_file *ref16) {
    const gguftk_out_type outs[] = {GGUFTK_F32, GGUFTK_F16, GGUFTK_BF16};
    const int64_t n = gguftk_tensor_count(src);
    int decoded = 0, integer = 0;
    CHECK(n >= 35);
    for (int64_t i = 0; i < n; ++i) {
        gguftk_tensor_info t;
        CHECK_RC(gguftk_tensor_info_at(src, i, &t), GGUFTK_OK);
        gguftk_type_info ti;
        CHECK_RC(gguftk_type_info_of(t.type, &ti), GGUFTK_OK);
        CHECK(strcmp(ti.name, t.type_name) == 0);
        CHECK(gguftk_find_tensor(src, t.name) == i);
        if (!ti.has_decoder) {
            /* Integer tensors: refused, nothing written. */
            unsigned char *dst = poisoned(t.n_elements * 4);
            CHECK_RC(gguftk_dequantize(src, i, GGUFTK_F32, dst, t.n_elements * 4, 1), GGUFTK_ERR_UNSUPPORTED_TYPE);
            CHECK(strstr(gguftk_last_error(), t.type_name) != NULL);
            CHECK(all_poison(dst, t.n_elements * 4 + 64));
            free(dst);
            ++integer;
            continue;
        }
        const int64_t r32 = gguftk_find_tensor(ref32, t.name), r16 = gguftk_find_tensor(ref16, t.name);
        CHECK(r32 >= 0 && r16 >= 0);
        if (r32 < 0 || r16 < 0) continue;
        uint64_t want32_size = 0, want16_size = 0;
        const unsigned char *want32 = tensor_bytes(ref32, r32, &want32_size);
        const unsigned char *want16 = tensor_bytes(ref16, r16, &want16_size);
        CHECK(want32_size == t.n_elements * 4 && want16_size == t.n_elements * 2);
        unsigned char *want_bf16 = xmalloc(t.n_elements * 2);
        for (uint64_t k = 0; k < t.n_elements; ++k) {
            uint32_t x;
            memcpy(&x, want32 + 4 * k, 4);
            const uint16_t b = bf16_by_definition(x);
            memcpy(want_bf16 + 2 * k, &b, 2);
        }
        for (int o = 0; o < 3; ++o) {
            const size_t bytes = t.n_elements * out_size(outs[o]);
            const unsigned char *want = o == 0 ? want32 : o == 1 ? want16 : want_bf16;
            const int threads[] = {1, 2, 3, 0};
            for (int k = 0; k < 4; ++k) {
                unsigned char *dst = poisoned(bytes);
                CHECK_RC(gguftk_dequantize(src, i, outs[o], dst, bytes, threads[k]), GGUFTK_OK);
                if (memcmp(dst, want, bytes) != 0) {
                    ++failures;
                    fprintf(stderr, "%s to %s with %d threads: not the reference's bytes\n", t.name,
                            o == 0 ? "F32" : o == 1 ? "F16" : "BF16", threads[k]);
                }
                CHECK(all_poison(dst + bytes, 64)); /* nothing past the result */
                free(dst);
            }
            /* Any alignment of dst: one byte in. */
            unsigned char *dst = poisoned(bytes + 1);
            CHECK_RC(gguftk_dequantize(src, i, outs[o], dst + 1, bytes, 2), GGUFTK_OK);
            CHECK(memcmp(dst + 1, want, bytes) == 0);
            CHECK(dst[0] == POISON && all_poison(dst + 1 + bytes, 64));
            free(dst);
        }
        free(want_bf16);
        ++decoded;
    }
    CHECK(decoded >= 31 && integer == 4);
    printf("references: %d tensors decoded to F32/F16/BF16 byte for byte, %d integer tensors refused\n", decoded,
           integer);
}

/* -------------------------------------------------- rows and blocks vs dequantize ---- */

static void check_rows_and_blocks(gguftk_file *f) {
    const gguftk_out_type outs[] = {GGUFTK_F32, GGUFTK_F16, GGUFTK_BF16};
    const int64_t n = gguftk_tensor_count(f);
    int ranges = 0;
    for (int64_t i = 0; i < n; ++i) {
        gguftk_tensor_info t;
        gguftk_type_info ti;
        gguftk_tensor_info_at(f, i, &t);
        gguftk_type_info_of(t.type, &ti);
        if (!ti.has_decoder) continue;
        const uint64_t rows = t.n_elements / t.ne[0], row_len = t.ne[0];
        const uint64_t n_blocks = t.n_elements / ti.block_elems;
        uint64_t size = 0;
        const unsigned char *blocks = tensor_bytes(f, i, &size);
        CHECK(size == n_blocks * ti.block_bytes);
        for (int o = 0; o < 3; ++o) {
            const size_t osz = out_size(outs[o]), bytes = t.n_elements * osz;
            unsigned char *whole = xmalloc(bytes);
            CHECK_RC(gguftk_dequantize(f, i, outs[o], whole, bytes, 1), GGUFTK_OK);

            /* rows: first, last, middle runs, all, none */
            const uint64_t spans[][2] = {{0, 1}, {rows - 1, 1}, {0, rows}, {1, rows - 1}, {rows / 2, rows - rows / 2},
                                         {rows / 3, rows / 3}, {rows, 0}, {0, 0}};
            for (size_t s = 0; s < sizeof spans / sizeof spans[0]; ++s) {
                const uint64_t r0 = spans[s][0], nr = spans[s][1];
                const size_t need = nr * row_len * osz;
                unsigned char *dst = poisoned(need + 1);
                /* at dst + 1 half of the time: misaligned output too */
                unsigned char *at = dst + (s & 1);
                CHECK_RC(gguftk_dequantize_rows(f, i, r0, nr, outs[o], at, need), GGUFTK_OK);
                CHECK(memcmp(at, whole + r0 * row_len * osz, need) == 0);
                CHECK(all_poison(at + need, 64 - (s & 1)));
                free(dst);
                ++ranges;
            }

            /* blocks: all of them, and a run from the middle, from an unaligned copy */
            unsigned char *dst = poisoned(bytes);
            CHECK_RC(gguftk_dequantize_blocks(t.type, blocks, n_blocks, outs[o], dst, bytes), GGUFTK_OK);
            CHECK(memcmp(dst, whole, bytes) == 0);
            CHECK(all_poison(dst + bytes, 64));
            const uint64_t b0 = n_blocks / 3, nb = n_blocks / 2 > 0 ? n_blocks / 2 : 1;
            if (b0 + nb <= n_blocks) {
                unsigned char *copy = xmalloc(nb * ti.block_bytes + 1);
                memcpy(copy + 1, blocks + b0 * ti.block_bytes, nb * ti.block_bytes);
                const size_t part = nb * ti.block_elems * osz;
                memset(dst, POISON, bytes + 64);
                CHECK_RC(gguftk_dequantize_blocks(t.type, copy + 1, nb, outs[o], dst, part), GGUFTK_OK);
                CHECK(memcmp(dst, whole + b0 * ti.block_elems * osz, part) == 0);
                CHECK(all_poison(dst + part, bytes + 64 - part));
                free(copy);
            }
            free(dst);
            free(whole);
        }
    }
    printf("rows and blocks: %d row ranges and every tensor's blocks equal to gguftk_dequantize\n", ranges);
}

/* ------------------------------------------------------------------- errors ---- */

static void write_file(const char *path, const void *bytes, size_t n) {
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(bytes, 1, n, fp) != n || fclose(fp) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
}

/* A Unix socket listening at `path` (its fd), or -1. */
static int bound_socket(const char *path) {
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    const size_t len = strlen(path);
    if (len >= sizeof addr.sun_path) return -1;
    memcpy(addr.sun_path, path, len);
    unlink(path); /* left by an earlier run, bind would fail */
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void check_open_errors(void) {
    gguftk_file *const sentinel = (gguftk_file *)&failures; /* any non-NULL address */
    gguftk_file *f = sentinel;

    CHECK_RC(gguftk_open(NULL, &f), GGUFTK_ERR_INVALID_ARGUMENT);
    CHECK_RC(gguftk_open(path_in(fixtures, "all-types.gguf"), NULL), GGUFTK_ERR_INVALID_ARGUMENT);

    CHECK_RC(gguftk_open(path_in(work, "no-such-file.gguf"), &f), GGUFTK_ERR_IO);
    CHECK(strstr(gguftk_last_error(), "no-such-file.gguf") != NULL);
    CHECK(strstr(gguftk_last_error(), "No such file") != NULL);
    CHECK(f == sentinel);

    CHECK_RC(gguftk_open(work, &f), GGUFTK_ERR_IO); /* a directory */
    CHECK(strstr(gguftk_last_error(), "not a regular file") != NULL);
    CHECK(f == sentinel);

    /* A FIFO used to block in open(2) waiting for a writer; the alarm ends a hang as a failure. */
    mkfifo(path_in(work, "fifo.gguf"), 0600);
    alarm(20);
    CHECK_RC(gguftk_open(path_in(work, "fifo.gguf"), &f), GGUFTK_ERR_IO);
    CHECK(strstr(gguftk_last_error(), "not a regular file") != NULL);
    CHECK(f == sentinel);
    const int sock = bound_socket(path_in(work, "sock.gguf"));
    CHECK(sock >= 0);
    CHECK_RC(gguftk_open(path_in(work, "sock.gguf"), &f), GGUFTK_ERR_IO); /* open(2) refuses a socket */
    CHECK(f == sentinel);
    if (sock >= 0) close(sock);
    CHECK_RC(gguftk_open("/dev/zero", &f), GGUFTK_ERR_IO);
    CHECK(strstr(gguftk_last_error(), "not a regular file") != NULL);
    CHECK(f == sentinel);
    alarm(0);

    /* Not GGUF, empty, and truncated in the tensor infos: the reader's messages, with offsets. */
    write_file(path_in(work, "not-gguf.bin"), "GGUX\3\0\0\0", 8);
    CHECK_RC(gguftk_open(path_in(work, "not-gguf.bin"), &f), GGUFTK_ERR_BAD_FILE);
    CHECK(strstr(gguftk_last_error(), "not a GGUF file (expected \"GGUF\") (at offset 0)") != NULL);
    CHECK(f == sentinel);

    write_file(path_in(work, "empty.gguf"), "", 0);
    CHECK_RC(gguftk_open(path_in(work, "empty.gguf"), &f), GGUFTK_ERR_BAD_FILE);
    CHECK(strstr(gguftk_last_error(), "(at offset 0)") != NULL);

    gguftk_file *good = NULL;
    CHECK_RC(gguftk_open(path_in(fixtures, "all-types.gguf"), &good), GGUFTK_OK);
    gguftk_tensor_info first;
    CHECK_RC(gguftk_tensor_info_at(good, 0, &first), GGUFTK_OK);
    const size_t cut = (size_t)first.offset + 10; /* ten bytes into the first tensor's data */
    FILE *fp = fopen(path_in(fixtures, "all-types.gguf"), "rb");
    unsigned char *head = xmalloc(cut);
    CHECK(fp && fread(head, 1, cut, fp) == cut);
    if (fp) fclose(fp);
    write_file(path_in(work, "truncated.gguf"), head, cut);
    free(head);
    CHECK_RC(gguftk_open(path_in(work, "truncated.gguf"), &f), GGUFTK_ERR_BAD_FILE);
    CHECK(strstr(gguftk_last_error(), "extends past the end of the file") != NULL);
    CHECK(f == sentinel);
    gguftk_close(good);

    /* Files of the reader's fuzz corpus that the tools refuse, refused here too. */
    const char *hostile[] = {"seed-n_tensors_2e64m1", "seed-string_len_2e63", "seed-dims_product_overflow_2e42p1",
                             "seed-offset_overlap_partial", "seed-nested_arrays_depth_1000", "seed-type_removed_31",
                             "seed-alignment_3"};
    for (size_t k = 0; k < sizeof hostile / sizeof hostile[0]; ++k) {
        CHECK_RC(gguftk_open(path_in(corpus, hostile[k]), &f), GGUFTK_ERR_BAD_FILE);
        CHECK(strstr(gguftk_last_error(), "(at offset ") != NULL);
        CHECK(f == sentinel);
    }
    gguftk_close(NULL); /* allowed */
}

static void check_call_errors(gguftk_file *f) {
    const int64_t n = gguftk_tensor_count(f);
    const int64_t q4k = gguftk_find_tensor(f, "q4_K.weight"), i32 = gguftk_find_tensor(f, "i32.weight");
    CHECK(q4k >= 0 && i32 >= 0);
    CHECK(gguftk_find_tensor(f, "no.such.tensor") == -1);
    CHECK(gguftk_find_tensor(f, NULL) == -1);
    CHECK(gguftk_find_tensor(NULL, "q4_K.weight") == -1);
    CHECK(gguftk_tensor_count(NULL) == -1);
    gguftk_tensor_info t;
    gguftk_tensor_info_at(f, q4k, &t);
    const size_t bytes = t.n_elements * 2;
    unsigned char *dst = poisoned(bytes);

    /* index out of range */
    gguftk_tensor_info untouched;
    memset(&untouched, POISON, sizeof untouched);
    CHECK_RC(gguftk_tensor_info_at(f, n, &untouched), GGUFTK_ERR_OUT_OF_RANGE);
    CHECK_RC(gguftk_tensor_info_at(f, -1, &untouched), GGUFTK_ERR_OUT_OF_RANGE);
    CHECK(strstr(gguftk_last_error(), "tensor index -1") != NULL);
    CHECK(all_poison((const unsigned char *)&untouched, sizeof untouched));
    CHECK_RC(gguftk_tensor_info_at(f, 0, NULL), GGUFTK_ERR_INVALID_ARGUMENT);
    CHECK_RC(gguftk_tensor_info_at(NULL, 0, &untouched), GGUFTK_ERR_INVALID_ARGUMENT);
    CHECK_RC(gguftk_dequantize(f, n, GGUFTK_F16, dst, bytes, 0), GGUFTK_ERR_OUT_OF_RANGE);
    CHECK_RC(gguftk_dequantize(f, -5, GGUFTK_F16, dst, bytes, 0), GGUFTK_ERR_OUT_OF_RANGE);
    CHECK_RC(gguftk_dequantize(NULL, 0, GGUFTK_F16, dst, bytes, 0), GGUFTK_ERR_INVALID_ARGUMENT);
    CHECK_RC(gguftk_dequantize_rows(f, n, 0, 1, GGUFTK_F16, dst, bytes), GGUFTK_ERR_OUT_OF_RANGE);
    const void *p = NULL;
    uint64_t sz = 7;
    CHECK_RC(gguftk_tensor_data(f, n, &p, &sz), GGUFTK_ERR_OUT_OF_RANGE);
    CHECK(p == NULL && sz == 7);

    /* unknown / unsupported types: output types, tensor types, raw block types */
    CHECK_RC(gguftk_dequantize(f, q4k, (gguftk_out_type)2, dst, bytes, 0), GGUFTK_ERR_UNSUPPORTED_TYPE);
    CHECK_RC(gguftk_dequantize(f, q4k, (gguftk_out_type)-1, dst, bytes, 0), GGUFTK_ERR_UNSUPPORTED_TYPE);
    CHECK_RC(gguftk_dequantize(f, i32, GGUFTK_F32, dst, bytes, 0), GGUFTK_ERR_UNSUPPORTED_TYPE);
    CHECK_RC(gguftk_dequantize_rows(f, i32, 0, 1, GGUFTK_F32, dst, bytes), GGUFTK_ERR_UNSUPPORTED_TYPE);
    uint64_t blocks_size = 0;
    const void *blocks = tensor_bytes(f, q4k, &blocks_size);
    CHECK_RC(gguftk_dequantize_blocks(100, blocks, 1, GGUFTK_F16, dst, bytes), GGUFTK_ERR_UNSUPPORTED_TYPE);
    CHECK(strstr(gguftk_last_error(), "unknown type 100") != NULL);
    CHECK_RC(gguftk_dequantize_blocks(4, blocks, 1, GGUFTK_F16, dst, bytes), GGUFTK_ERR_UNSUPPORTED_TYPE);
    CHECK(strstr(gguftk_last_error(), "Q4_2") != NULL);
    CHECK_RC(gguftk_dequantize_blocks(24 /* I8 */, blocks, 1, GGUFTK_F16, dst, bytes), GGUFTK_ERR_UNSUPPORTED_TYPE);
    CHECK_RC(gguftk_dequantize_blocks(12, blocks, 1, (gguftk_out_type)8, dst, bytes), GGUFTK_ERR_UNSUPPORTED_TYPE);
    gguftk_type_info ti;
    memset(&ti, POISON, sizeof ti);
    CHECK_RC(gguftk_type_info_of(43, &ti), GGUFTK_ERR_UNSUPPORTED_TYPE);
    CHECK(all_poison((const unsigned char *)&ti, sizeof ti));

    /* dst too small, by one byte: nothing written */
    CHECK_RC(gguftk_dequantize(f, q4k, GGUFTK_F16, dst, bytes - 1, 0), GGUFTK_ERR_DST_TOO_SMALL);
    CHECK(strstr(gguftk_last_error(), "needs") != NULL);
    CHECK_RC(gguftk_dequantize(f, q4k, GGUFTK_F32, dst, bytes, 0), GGUFTK_ERR_DST_TOO_SMALL);
    CHECK_RC(gguftk_dequantize_rows(f, q4k, 0, 2, GGUFTK_F16, dst, 2 * t.ne[0] * 2 - 1), GGUFTK_ERR_DST_TOO_SMALL);
    CHECK_RC(gguftk_dequantize_blocks(t.type, blocks, 2, GGUFTK_BF16, dst, 2 * 256 * 2 - 1), GGUFTK_ERR_DST_TOO_SMALL);
    CHECK_RC(gguftk_dequantize_blocks(t.type, blocks, UINT64_MAX / 2, GGUFTK_F16, dst, bytes),
             GGUFTK_ERR_INVALID_ARGUMENT);
    CHECK_RC(gguftk_dequantize(f, q4k, GGUFTK_F16, NULL, bytes, 0), GGUFTK_ERR_INVALID_ARGUMENT);
    CHECK_RC(gguftk_dequantize_blocks(t.type, NULL, 1, GGUFTK_F16, dst, bytes), GGUFTK_ERR_INVALID_ARGUMENT);

    /* rows out of range, and past 2^64 */
    const uint64_t rows = t.n_elements / t.ne[0];
    CHECK_RC(gguftk_dequantize_rows(f, q4k, rows, 1, GGUFTK_F16, dst, bytes), GGUFTK_ERR_OUT_OF_RANGE);
    CHECK_RC(gguftk_dequantize_rows(f, q4k, rows - 1, 2, GGUFTK_F16, dst, bytes), GGUFTK_ERR_OUT_OF_RANGE);
    CHECK_RC(gguftk_dequantize_rows(f, q4k, UINT64_MAX, 2, GGUFTK_F16, dst, bytes), GGUFTK_ERR_OUT_OF_RANGE);
    CHECK(all_poison(dst, bytes + 64));

    /* zero-sized requests succeed and write nothing, even with NULL buffers */
    CHECK_RC(gguftk_dequantize_rows(f, q4k, 3, 0, GGUFTK_F16, NULL, 0), GGUFTK_OK);
    CHECK_RC(gguftk_dequantize_blocks(t.type, NULL, 0, GGUFTK_F16, NULL, 0), GGUFTK_OK);

    /* no CUDA: every CUDA function says so (a build with CUDA on a machine with a GPU is the GPU test's) */
    if (!gguftk_cuda_available()) {
        CHECK_RC(gguftk_cuda_dequantize(f, q4k, GGUFTK_F16, dst, bytes, NULL), GGUFTK_ERR_NO_CUDA);
        CHECK(strstr(gguftk_last_error(), "CUDA") != NULL);
        CHECK_RC(gguftk_cuda_dequantize_blocks(t.type, blocks, 1, GGUFTK_F16, dst, bytes, NULL), GGUFTK_ERR_NO_CUDA);
        CHECK(all_poison(dst, bytes + 64));
        printf("cuda: not available here (%s)\n", gguftk_last_error());
    }
    free(dst);

    /* every code has its name */
    CHECK(strcmp(gguftk_error_name(GGUFTK_OK), "GGUFTK_OK") == 0);
    CHECK(strcmp(gguftk_error_name(GGUFTK_ERR_DST_TOO_SMALL), "GGUFTK_ERR_DST_TOO_SMALL") == 0);
    CHECK(strcmp(gguftk_error_name(GGUFTK_ERR_INTERNAL), "GGUFTK_ERR_INTERNAL") == 0);
    CHECK(strcmp(gguftk_error_name(999), "GGUFTK_ERR_?") == 0);
    printf("errors: every path returned its code and wrote nothing\n");
}

/* ------------------------------------------------------------------ metadata ---- */

static int64_t key(const gguftk_file *f, const char *k) { return gguftk_find_key(f, k, strlen(k)); }

static void check_metadata(gguftk_file *f) {
    CHECK(gguftk_metadata_count(f) == 18);
    uint64_t u = 0;
    int64_t s = 0;
    double d = 0;
    const char *str = NULL;
    uint64_t len = 0;
    gguftk_kv_info kv;

    CHECK_RC(gguftk_metadata_get_uint(f, key(f, "fixture.u8"), 0, &u), GGUFTK_OK);
    CHECK(u == 200);
    CHECK_RC(gguftk_metadata_get_int(f, key(f, "fixture.i8"), 0, &s), GGUFTK_OK);
    CHECK(s == -100);
    CHECK_RC(gguftk_metadata_get_uint(f, key(f, "fixture.u16"), 0, &u), GGUFTK_OK);
    CHECK(u == 60000);
    CHECK_RC(gguftk_metadata_get_int(f, key(f, "fixture.i16"), 0, &s), GGUFTK_OK);
    CHECK(s == -30000);
    CHECK_RC(gguftk_metadata_get_uint(f, key(f, "fixture.u32"), 0, &u), GGUFTK_OK);
    CHECK(u == 4000000000u);
    CHECK_RC(gguftk_metadata_get_int(f, key(f, "fixture.u32"), 0, &s), GGUFTK_OK); /* fits: exact */
    CHECK(s == 4000000000);
    CHECK_RC(gguftk_metadata_get_int(f, key(f, "fixture.i32"), 0, &s), GGUFTK_OK);
    CHECK(s == -2000000000);
    CHECK_RC(gguftk_metadata_get_uint(f, key(f, "fixture.u64"), 0, &u), GGUFTK_OK);
    CHECK(u == 18000000000000000000u);
    CHECK_RC(gguftk_metadata_get_int(f, key(f, "fixture.i64"), 0, &s), GGUFTK_OK);
    CHECK(s == -9000000000000000000);
    CHECK_RC(gguftk_metadata_get_uint(f, key(f, "fixture.bool"), 0, &u), GGUFTK_OK);
    CHECK(u == 1);
    CHECK_RC(gguftk_metadata_get_float(f, key(f, "fixture.f32"), 0, &d), GGUFTK_OK);
    CHECK(d == 3.25);
    CHECK_RC(gguftk_metadata_get_float(f, key(f, "fixture.f64"), 0, &d), GGUFTK_OK);
    CHECK(d == 2.718281828459045);
    CHECK_RC(gguftk_metadata_get_string(f, key(f, "fixture.string"), 0, &str, &len), GGUFTK_OK);
    CHECK(len == 19 && memcmp(str, "h\xc3\xa9llo \"quoted\"\ttab", 19) == 0);
    CHECK_RC(gguftk_metadata_get_string(f, key(f, "general.architecture"), 0, &str, &len), GGUFTK_OK);
    CHECK(len == 7 && memcmp(str, "fixture", 7) == 0);

    const int64_t ai = key(f, "fixture.arr_i32");
    CHECK_RC(gguftk_metadata_at(f, ai, &kv), GGUFTK_OK);
    CHECK(kv.type == GGUFTK_VALUE_ARRAY && kv.elem_type == GGUFTK_VALUE_INT32 && kv.count == 5);
    CHECK(kv.key_len == 15 && strcmp(kv.key, "fixture.arr_i32") == 0);
    const int64_t want_i32[] = {1, -2, 3, -4, 5};
    for (uint64_t k = 0; k < 5; ++k) {
        CHECK_RC(gguftk_metadata_get_int(f, ai, k, &s), GGUFTK_OK);
        CHECK(s == want_i32[k]);
    }
    CHECK_RC(gguftk_metadata_get_uint(f, ai, 1, &u), GGUFTK_ERR_WRONG_VALUE_TYPE); /* -2 */
    const int64_t af = key(f, "fixture.arr_f32");
    CHECK_RC(gguftk_metadata_get_float(f, af, 2, &d), GGUFTK_OK);
    CHECK(d == (double)0.001f);
    const int64_t as = key(f, "fixture.arr_str");
    const char *want_str[] = {"<s>", "</s>", "", "\xe2\x96\x81the"};
    for (int rep = 0; rep < 2; ++rep) /* backwards, then forwards: the index serves any order */
        for (int k = 0; k < 4; ++k) {
            const int j = rep == 0 ? 3 - k : k;
            CHECK_RC(gguftk_metadata_get_string(f, as, (uint64_t)j, &str, &len), GGUFTK_OK);
            CHECK(len == strlen(want_str[j]) && memcmp(str, want_str[j], len) == 0);
        }
    const int64_t ae = key(f, "fixture.arr_empty");
    CHECK_RC(gguftk_metadata_at(f, ae, &kv), GGUFTK_OK);
    CHECK(kv.type == GGUFTK_VALUE_ARRAY && kv.count == 0);

    /* errors: nothing written */
    u = 77;
    s = 77;
    d = 77;
    str = NULL;
    len = 77;
    CHECK_RC(gguftk_metadata_get_uint(f, key(f, "fixture.string"), 0, &u), GGUFTK_ERR_WRONG_VALUE_TYPE);
    CHECK(strstr(gguftk_last_error(), "holds STRING") != NULL);
    CHECK_RC(gguftk_metadata_get_int(f, key(f, "fixture.u64"), 0, &s), GGUFTK_ERR_WRONG_VALUE_TYPE);
    CHECK_RC(gguftk_metadata_get_uint(f, key(f, "fixture.i8"), 0, &u), GGUFTK_ERR_WRONG_VALUE_TYPE);
    CHECK_RC(gguftk_metadata_get_float(f, key(f, "fixture.u8"), 0, &d), GGUFTK_ERR_WRONG_VALUE_TYPE);
    CHECK_RC(gguftk_metadata_get_string(f, ai, 0, &str, &len), GGUFTK_ERR_WRONG_VALUE_TYPE);
    CHECK_RC(gguftk_metadata_get_string(f, as, 4, &str, &len), GGUFTK_ERR_OUT_OF_RANGE);
    CHECK_RC(gguftk_metadata_get_int(f, ae, 0, &s), GGUFTK_ERR_OUT_OF_RANGE);
    CHECK_RC(gguftk_metadata_get_uint(f, key(f, "fixture.u8"), 1, &u), GGUFTK_ERR_OUT_OF_RANGE);
    CHECK_RC(gguftk_metadata_get_uint(f, 18, 0, &u), GGUFTK_ERR_OUT_OF_RANGE);
    CHECK_RC(gguftk_metadata_get_uint(f, -1, 0, &u), GGUFTK_ERR_OUT_OF_RANGE);
    CHECK_RC(gguftk_metadata_get_uint(NULL, 0, 0, &u), GGUFTK_ERR_INVALID_ARGUMENT);
    CHECK_RC(gguftk_metadata_get_uint(f, key(f, "fixture.u8"), 0, NULL), GGUFTK_ERR_INVALID_ARGUMENT);
    CHECK(u == 77 && s == 77 && d == 77 && str == NULL && len == 77);
    CHECK(key(f, "fixture.u") == -1);
    CHECK(gguftk_find_key(f, "fixture.u8\0", 11) == -1); /* keys are compared as bytes, length included */
    CHECK(strcmp(gguftk_value_type_name(GGUFTK_VALUE_FLOAT64), "FLOAT64") == 0);
    CHECK(strcmp(gguftk_value_type_name(13), "UNKNOWN") == 0);
    printf("metadata: every value type read exactly; errors leave outputs alone\n");
}

/* Files the tools accept but the C API reads only in part: nested arrays and big-endian data. */
static void check_odd_files(void) {
    gguftk_file *f = NULL;
    CHECK_RC(gguftk_open(path_in(corpus, "seed-valid_nested_arrays"), &f), GGUFTK_OK);
    if (f) {
        int nested = 0;
        for (int64_t i = 0; i < gguftk_metadata_count(f); ++i) {
            gguftk_kv_info kv;
            gguftk_metadata_at(f, i, &kv);
            if (kv.type == GGUFTK_VALUE_ARRAY && kv.elem_type == GGUFTK_VALUE_ARRAY && kv.count > 0) {
                int64_t s = 77;
                CHECK_RC(gguftk_metadata_get_int(f, i, 0, &s), GGUFTK_ERR_WRONG_VALUE_TYPE);
                CHECK(strstr(gguftk_last_error(), "array of arrays") != NULL && s == 77);
                ++nested;
            }
        }
        CHECK(nested > 0);
        gguftk_close(f);
    }
    f = NULL;
    CHECK_RC(gguftk_open(path_in(corpus, "seed-valid_base_be"), &f), GGUFTK_OK);
    if (f) {
        /* metadata in the file's byte order... */
        const int64_t a = key(f, "general.alignment");
        uint64_t u = 0;
        if (a >= 0) {
            CHECK_RC(gguftk_metadata_get_uint(f, a, 0, &u), GGUFTK_OK);
            CHECK(u == 32);
        }
        /* ...but tensor data refused, as gguf-dequant refuses it */
        CHECK(gguftk_tensor_count(f) > 0);
        unsigned char *dst = poisoned(1 << 16);
        CHECK_RC(gguftk_dequantize(f, 0, GGUFTK_F32, dst, 1 << 16, 0), GGUFTK_ERR_UNSUPPORTED_TYPE);
        CHECK(strstr(gguftk_last_error(), "big-endian") != NULL);
        CHECK(all_poison(dst, (1 << 16) + 64));
        free(dst);
        gguftk_close(f);
    }
}

/* ------------------------------------------------------ threads on one tensor ---- */

static void put_u32(unsigned char **p, uint32_t v) {
    for (int i = 0; i < 4; ++i) *(*p)++ = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char **p, uint64_t v) {
    for (int i = 0; i < 8; ++i) *(*p)++ = (unsigned char)(v >> (8 * i));
}

/* The fixture's tensors are too small to be split across threads (64K values a thread at
 * least): a file with one Q4_K tensor of 1280 x 1025 (5125 blocks: odd, not a multiple of 3 or
 * 7), its blocks the fixture's repeated, decoded with 1, 2, 3, 7 and all threads (at most one
 * per core: on two cores, 3 and 7 are 2). */
static void check_threads(gguftk_file *fixture) {
    const int64_t q4k = gguftk_find_tensor(fixture, "q4_K.weight");
    uint64_t size = 0;
    const unsigned char *blocks = tensor_bytes(fixture, q4k, &size);
    const uint64_t ne0 = 1280, ne1 = 1025, n_blocks = ne0 * ne1 / 256, data_bytes = n_blocks * 144;
    unsigned char *file = xmalloc(128 + data_bytes), *p = file; /* header: 67 bytes, padded to 96 */
    memcpy(p, "GGUF", 4);
    p += 4;
    put_u32(&p, 3);
    put_u64(&p, 1); /* tensors */
    put_u64(&p, 0); /* metadata */
    put_u64(&p, 3);
    memcpy(p, "big", 3);
    p += 3;
    put_u32(&p, 2);
    put_u64(&p, ne0);
    put_u64(&p, ne1);
    put_u32(&p, 12); /* Q4_K */
    put_u64(&p, 0);
    while ((p - file) % 32) *p++ = 0;
    for (uint64_t b = 0; b < n_blocks; ++b, p += 144) memcpy(p, blocks + (b % (size / 144)) * 144, 144);
    write_file(path_in(work, "threads.gguf"), file, (size_t)(p - file));
    const unsigned char *data = p - data_bytes;

    gguftk_file *f = NULL;
    CHECK_RC(gguftk_open(path_in(work, "threads.gguf"), &f), GGUFTK_OK);
    if (f) {
        const gguftk_out_type outs[] = {GGUFTK_F32, GGUFTK_F16, GGUFTK_BF16};
        for (int o = 0; o < 3; ++o) {
            const size_t bytes = ne0 * ne1 * out_size(outs[o]);
            unsigned char *want = xmalloc(bytes);
            CHECK_RC(gguftk_dequantize_blocks(12, data, n_blocks, outs[o], want, bytes), GGUFTK_OK);
            const int threads[] = {1, 2, 3, 7, 0};
            for (int k = 0; k < 5; ++k) {
                for (int shift = 0; shift < 2; ++shift) {
                    unsigned char *dst = poisoned(bytes + 1);
                    CHECK_RC(gguftk_dequantize(f, 0, outs[o], dst + shift, bytes, threads[k]), GGUFTK_OK);
                    CHECK(memcmp(dst + shift, want, bytes) == 0);
                    CHECK(all_poison(dst + shift + bytes, 64 - shift) && (shift == 0 || dst[0] == POISON));
                    free(dst);
                }
            }
            free(want);
        }
        gguftk_close(f);
    }
    free(file);
    printf("threads: a 5125-block tensor split over 1, 2, 3, 7 and all threads gives the one-thread bytes\n");
}

/* ------------------------------------------------------------- concurrency ---- */

typedef struct {
    gguftk_file *src, *ref32;
    int bad;
} shared_read;

static void *reader(void *arg) {
    shared_read *r = arg;
    const int64_t n = gguftk_tensor_count(r->src);
    for (int rep = 0; rep < 3; ++rep) {
        for (int64_t i = 0; i < n; ++i) {
            gguftk_tensor_info t;
            if (gguftk_tensor_info_at(r->src, i, &t) != GGUFTK_OK) ++r->bad;
            const int64_t j = gguftk_find_tensor(r->ref32, t.name);
            if (j < 0) continue; /* integer tensors */
            const void *want = NULL;
            uint64_t size = 0;
            gguftk_tensor_data(r->ref32, j, &want, &size);
            unsigned char *dst = xmalloc(t.n_elements * 4);
            if (gguftk_dequantize(r->src, i, GGUFTK_F32, dst, t.n_elements * 4, 2) != GGUFTK_OK ||
                memcmp(dst, want, size) != 0)
                ++r->bad;
            free(dst);
        }
        /* the string-array index is built by whichever thread comes first */
        const int64_t as = key(r->src, "fixture.arr_str");
        const char *s = NULL;
        uint64_t len = 0;
        if (gguftk_metadata_get_string(r->src, as, 3, &s, &len) != GGUFTK_OK || len != 6) ++r->bad;
        /* an error on this thread leaves its own message */
        if (gguftk_tensor_info_at(r->src, -1, NULL) != GGUFTK_ERR_OUT_OF_RANGE ||
            strstr(gguftk_last_error(), "tensor index -1") == NULL)
            ++r->bad;
    }
    return NULL;
}

static void check_concurrent_reads(void) {
    gguftk_file *src = NULL, *ref32 = NULL;
    CHECK_RC(gguftk_open(path_in(fixtures, "all-types.gguf"), &src), GGUFTK_OK);
    CHECK_RC(gguftk_open(path_in(fixtures, "all-types.ref-f32.gguf"), &ref32), GGUFTK_OK);
    if (!src || !ref32) return;
    enum { kThreads = 4 };
    pthread_t th[kThreads];
    shared_read r[kThreads];
    for (int k = 0; k < kThreads; ++k) {
        r[k].src = src;
        r[k].ref32 = ref32;
        r[k].bad = 0;
        CHECK(pthread_create(&th[k], NULL, reader, &r[k]) == 0);
    }
    int bad = 0;
    for (int k = 0; k < kThreads; ++k) {
        pthread_join(th[k], NULL);
        bad += r[k].bad;
    }
    CHECK(bad == 0);
    gguftk_close(src);
    gguftk_close(ref32);
    printf("concurrency: %d threads reading one file agree with the reference\n", kThreads);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s FIXTURES_DIR CORPUS_DIR WORK_DIR\n", argv[0]);
        return 2;
    }
    fixtures = argv[1];
    corpus = argv[2];
    work = argv[3];
    printf("libgguftk %s\n", gguftk_version());
    CHECK(strlen(gguftk_version()) >= 5);

    gguftk_file *src = NULL, *ref32 = NULL, *ref16 = NULL;
    CHECK_RC(gguftk_open(path_in(fixtures, "all-types.gguf"), &src), GGUFTK_OK);
    CHECK_RC(gguftk_open(path_in(fixtures, "all-types.ref-f32.gguf"), &ref32), GGUFTK_OK);
    CHECK_RC(gguftk_open(path_in(fixtures, "all-types.ref-f16.gguf"), &ref16), GGUFTK_OK);
    if (!src || !ref32 || !ref16) return 1;
    check_against_references(src, ref32, ref16);
    check_rows_and_blocks(src);
    check_open_errors();
    check_call_errors(src);
    check_metadata(src);
    check_odd_files();
    check_threads(src);
    check_concurrent_reads();
    gguftk_close(src);
    gguftk_close(ref32);
    gguftk_close(ref16);
    printf("%d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
