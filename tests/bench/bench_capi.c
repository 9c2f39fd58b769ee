/* The C API's host dequantization of a whole model into memory, against a memory-bandwidth floor
 * measured in the same process (scripts/bench-capi runs this and prints the table).
 *
 *   gguftk-bench-capi MODEL.gguf f16|f32 RUNS THREADS
 *
 * Every tensor with a decoder goes into one output buffer, touched before timing (an engine's
 * weights exist before it loads them). Per run, alternating:
 *   floor:  THREADS threads, each taking its share of every tensor, read the tensor's input
 *           bytes once and write its output bytes once (memcpy of the common length; the rest
 *           of the output memset, or the rest of the input summed): one pass over the same
 *           memory the decoder reads and writes, doing nothing else.
 *   api:    gguftk_dequantize of every tensor, THREADS threads (0: all cores).
 * Prints "floor SECONDS" and "api SECONDS" lines per run, then "bytes IN OUT".
 */
#define _POSIX_C_SOURCE 200809L
#include <gguftk/gguftk.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const unsigned char *in;
    uint64_t in_bytes;
    unsigned char *out;
    uint64_t out_bytes;
} job;

static job *jobs;
static int64_t n_jobs;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
    int k, n;
    uint64_t sink;
} floor_arg;

/* Share k of n of [0, len), cut at 64-byte boundaries. */
static void share(uint64_t len, int k, int n, uint64_t *a, uint64_t *b) {
    *a = len * (uint64_t)k / (uint64_t)n / 64 * 64;
    *b = k == n - 1 ? len : len * (uint64_t)(k + 1) / (uint64_t)n / 64 * 64;
}

static void *floor_worker(void *p) {
    floor_arg *a = p;
    uint64_t sink = 0;
    for (int64_t j = 0; j < n_jobs; ++j) {
        const job *t = &jobs[j];
        uint64_t i0, i1, o0, o1;
        share(t->in_bytes, a->k, a->n, &i0, &i1);
        share(t->out_bytes, a->k, a->n, &o0, &o1);
        const uint64_t in_len = i1 - i0, out_len = o1 - o0;
        const uint64_t common = in_len < out_len ? in_len : out_len;
        memcpy(t->out + o0, t->in + i0, common);
        if (out_len > common) memset(t->out + o0 + common, 0, out_len - common);
        for (uint64_t x = common; x + 8 <= in_len; x += 8) {
            uint64_t v;
            memcpy(&v, t->in + i0 + x, 8);
            sink += v;
        }
    }
    a->sink = sink;
    return NULL;
}

static double run_floor(int threads) {
    pthread_t th[64];
    floor_arg args[64];
    const double t0 = now();
    for (int k = 0; k < threads; ++k) {
        args[k].k = k;
        args[k].n = threads;
        if (k > 0) pthread_create(&th[k], NULL, floor_worker, &args[k]);
    }
    floor_worker(&args[0]);
    for (int k = 1; k < threads; ++k) pthread_join(th[k], NULL);
    const double secs = now() - t0;
    uint64_t s = 0;
    for (int k = 0; k < threads; ++k) s += args[k].sink;
    if (s == 42) fprintf(stderr, "(%llu)\n", (unsigned long long)s); /* keeps the reads */
    return secs;
}

static double run_api(gguftk_file *f, const int64_t *index, gguftk_out_type to, int threads) {
    const double t0 = now();
    for (int64_t j = 0; j < n_jobs; ++j) {
        if (gguftk_dequantize(f, index[j], to, jobs[j].out, jobs[j].out_bytes, threads) != GGUFTK_OK) {
            fprintf(stderr, "error: %s\n", gguftk_last_error());
            exit(1);
        }
    }
    return now() - t0;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s MODEL.gguf f16|f32 RUNS THREADS\n", argv[0]);
        return 2;
    }
    const gguftk_out_type to = strcmp(argv[2], "f32") == 0 ? GGUFTK_F32 : GGUFTK_F16;
    const int runs = atoi(argv[3]);
    int threads = atoi(argv[4]);
    if (threads <= 0) threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads > 64) threads = 64;
    gguftk_file *f = NULL;
    if (gguftk_open(argv[1], &f) != GGUFTK_OK) {
        fprintf(stderr, "error: %s\n", gguftk_last_error());
        return 1;
    }
    const int64_t n = gguftk_tensor_count(f);
    jobs = calloc((size_t)n, sizeof *jobs);
    int64_t *index = calloc((size_t)n, sizeof *index);
    uint64_t in_total = 0, out_total = 0;
    for (int64_t i = 0; i < n; ++i) {
        gguftk_tensor_info t;
        gguftk_type_info ti;
        gguftk_tensor_info_at(f, i, &t);
        gguftk_type_info_of(t.type, &ti);
        if (!ti.has_decoder) continue;
        const void *data = NULL;
        uint64_t size = 0;
        gguftk_tensor_data(f, i, &data, &size);
        jobs[n_jobs].in = data;
        jobs[n_jobs].in_bytes = size;
        jobs[n_jobs].out_bytes = t.n_elements * (to == GGUFTK_F32 ? 4 : 2);
        out_total = (out_total + 63) / 64 * 64;
        jobs[n_jobs].out = (unsigned char *)(uintptr_t)out_total; /* offset for now */
        out_total += jobs[n_jobs].out_bytes;
        in_total += size;
        index[n_jobs++] = i;
    }
    unsigned char *out = malloc((size_t)out_total + 64);
    if (!out) {
        fprintf(stderr, "error: cannot allocate %llu bytes\n", (unsigned long long)out_total);
        return 1;
    }
    unsigned char *base = (unsigned char *)(((uintptr_t)out + 63) / 64 * 64);
    for (int64_t j = 0; j < n_jobs; ++j) jobs[j].out = base + (uintptr_t)jobs[j].out;
    memset(base, 0, (size_t)out_total);   /* the engine's buffer exists before the load */
    run_api(f, index, to, 0);             /* maps in every input page */
    for (int r = 0; r < runs; ++r) {
        printf("floor %.6f\n", run_floor(threads));
        printf("api %.6f\n", run_api(f, index, to, threads));
        fflush(stdout);
    }
    printf("bytes %llu %llu\n", (unsigned long long)in_total, (unsigned long long)out_total);
    printf("threads %d\n", threads);
    free(out);
    free(jobs);
    free(index);
    gguftk_close(f);
    return 0;
}
