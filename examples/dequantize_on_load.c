/* Dequantize on load: every tensor of a GGUF model as FP16 in one buffer, the way an engine's
 * loader fills its weights, with no intermediate file.
 *
 *   dequantize-on-load model.gguf [weights.f16]
 *
 * Lays the tensors out first (each at a 64-byte boundary), then fills the buffer tensor by
 * tensor, each tensor's blocks split across every core. Integer tensors (I8..I64) hold data, not
 * weights: an engine copies those as they are (gguftk_tensor_data); they are skipped here.
 * With weights.f16, the FP16 values are also written there, tensor after tensor in file order
 * (without the alignment gaps): what the installed-package test compares with ggml's.
 */
#define _POSIX_C_SOURCE 200809L
#include <gguftk/gguftk.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Each loaded tensor's values, one after another. */
static int write_weights(const char *path, gguftk_file *f, const unsigned char *weights, const uint64_t *offsets) {
    FILE *out = fopen(path, "wb");
    int ok = out != NULL;
    for (int64_t i = 0; ok && i < gguftk_tensor_count(f); ++i) {
        gguftk_tensor_info t;
        gguftk_tensor_info_at(f, i, &t);
        if (offsets[i] != UINT64_MAX)
            ok = fwrite(weights + offsets[i], 2, (size_t)t.n_elements, out) == (size_t)t.n_elements;
    }
    if (out && fclose(out) != 0) ok = 0;
    if (!ok) fprintf(stderr, "error: cannot write %s\n", path);
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s model.gguf [weights.f16]\n", argv[0]);
        return 2;
    }
    gguftk_file *f = NULL;
    if (gguftk_open(argv[1], &f) != GGUFTK_OK) {
        fprintf(stderr, "error: %s\n", gguftk_last_error());
        return 1;
    }
    const int64_t n = gguftk_tensor_count(f);
    uint64_t *offsets = malloc((size_t)(n > 0 ? n : 1) * sizeof *offsets);
    if (!offsets) {
        fprintf(stderr, "error: out of memory\n");
        return 1;
    }

    /* The layout: where each tensor's FP16 values go. */
    uint64_t total = 0;
    int64_t n_weights = 0;
    for (int64_t i = 0; i < n; ++i) {
        gguftk_tensor_info t;
        gguftk_type_info ti;
        gguftk_tensor_info_at(f, i, &t);
        gguftk_type_info_of(t.type, &ti);
        offsets[i] = UINT64_MAX;
        if (!ti.has_decoder) continue;
        total = (total + 63) / 64 * 64;
        offsets[i] = total;
        total += t.n_elements * 2;
        ++n_weights;
    }
    unsigned char *weights = malloc(total > 0 ? (size_t)total : 1);
    if (!weights || total > SIZE_MAX) {
        fprintf(stderr, "error: cannot allocate %llu bytes\n", (unsigned long long)total);
        return 1;
    }

    /* The load. */
    const double t0 = now();
    for (int64_t i = 0; i < n; ++i) {
        if (offsets[i] == UINT64_MAX) continue;
        gguftk_tensor_info t;
        gguftk_tensor_info_at(f, i, &t);
        const int rc = gguftk_dequantize(f, i, GGUFTK_F16, weights + offsets[i], (size_t)(t.n_elements * 2), 0);
        if (rc != GGUFTK_OK) {
            fprintf(stderr, "error: %s: %s\n", gguftk_error_name(rc), gguftk_last_error());
            return 1;
        }
    }
    const double secs = now() - t0;

    printf("%lld of %lld tensors loaded as FP16: %.1f MB in %.3f s (libgguftk %s)\n", (long long)n_weights,
           (long long)n, (double)total / 1e6, secs, gguftk_version());
    for (int64_t i = 0, shown = 0; i < n && shown < 3; ++i) {
        if (offsets[i] == UINT64_MAX) continue;
        gguftk_tensor_info t;
        gguftk_tensor_info_at(f, i, &t);
        const unsigned char *h = weights + offsets[i];
        printf("  %-24s %-7s first value 0x%02x%02x (FP16 bits)\n", t.name, t.type_name, h[1], h[0]);
        ++shown;
    }
    if (argc == 3 && write_weights(argv[2], f, weights, offsets) != 0) return 1;
    free(weights);
    free(offsets);
    gguftk_close(f);
    return 0;
}
