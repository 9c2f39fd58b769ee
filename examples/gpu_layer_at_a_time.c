/* Quantized weights stay in VRAM; each layer is dequantized to FP16 into one scratch buffer just
 * before it runs. The GPU memory is the quantized model plus one layer in FP16, not the whole
 * model in FP16.
 *
 *   gpu-layer-at-a-time model.gguf
 *
 * Layers are the tensors named blk.N.*; the rest (embeddings, output) are left out here. The
 * layer's compute would be enqueued on the same stream after its dequantization; in its place
 * this checks one row of each layer against the host decoder (gguftk_dequantize_rows).
 * Exits 77 when there is no CUDA device (or libgguftk was built without CUDA).
 */
#define _POSIX_C_SOURCE 200809L
#include <cuda_runtime_api.h>
#include <gguftk/gguftk.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCRATCH_ALIGN 256

static int cuda_ok(cudaError_t e, const char *what) {
    if (e == cudaSuccess) return 1;
    fprintf(stderr, "error: %s: %s\n", what, cudaGetErrorString(e));
    return 0;
}

/* N of "blk.N.", or -1. */
static long layer_of(const char *name) {
    if (strncmp(name, "blk.", 4) != 0) return -1;
    char *end = NULL;
    const long n = strtol(name + 4, &end, 10);
    return end != name + 4 && *end == '.' ? n : -1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s model.gguf\n", argv[0]);
        return 2;
    }
    if (!gguftk_cuda_available()) {
        fprintf(stderr, "skipped: no CUDA device, or libgguftk %s built without CUDA\n", gguftk_version());
        return 77;
    }
    gguftk_file *f = NULL;
    if (gguftk_open(argv[1], &f) != GGUFTK_OK) {
        fprintf(stderr, "error: %s\n", gguftk_last_error());
        return 1;
    }
    const int64_t n = gguftk_tensor_count(f);
    void **quantized = calloc((size_t)(n > 0 ? n : 1), sizeof *quantized);
    long n_layers = 0;
    uint64_t vram_quantized = 0;

    /* Upload every layer tensor's blocks once, as stored. */
    for (int64_t i = 0; i < n; ++i) {
        gguftk_tensor_info t;
        gguftk_type_info ti;
        gguftk_tensor_info_at(f, i, &t);
        gguftk_type_info_of(t.type, &ti);
        const long layer = layer_of(t.name);
        if (layer < 0 || !ti.has_decoder) continue;
        if (layer + 1 > n_layers) n_layers = layer + 1;
        const void *host = NULL;
        uint64_t size = 0;
        gguftk_tensor_data(f, i, &host, &size);
        if (!cuda_ok(cudaMalloc(&quantized[i], size ? size : 1), "cudaMalloc") ||
            !cuda_ok(cudaMemcpy(quantized[i], host, size, cudaMemcpyHostToDevice), "cudaMemcpy"))
            return 1;
        vram_quantized += size;
    }

    /* The scratch: the largest layer in FP16. */
    uint64_t scratch_bytes = 0;
    for (long layer = 0; layer < n_layers; ++layer) {
        uint64_t bytes = 0;
        for (int64_t i = 0; i < n; ++i) {
            gguftk_tensor_info t;
            gguftk_tensor_info_at(f, i, &t);
            if (quantized[i] && layer_of(t.name) == layer)
                bytes = (bytes + SCRATCH_ALIGN - 1) / SCRATCH_ALIGN * SCRATCH_ALIGN + t.n_elements * 2;
        }
        if (bytes > scratch_bytes) scratch_bytes = bytes;
    }
    unsigned char *scratch = NULL;
    cudaStream_t stream;
    if (!cuda_ok(cudaMalloc((void **)&scratch, scratch_bytes ? scratch_bytes : 1), "cudaMalloc") ||
        !cuda_ok(cudaStreamCreate(&stream), "cudaStreamCreate"))
        return 1;

    int mismatches = 0;
    for (long layer = 0; layer < n_layers; ++layer) {
        uint64_t off = 0;
        int64_t first = -1;
        uint64_t first_off = 0;
        for (int64_t i = 0; i < n; ++i) {
            gguftk_tensor_info t;
            gguftk_type_info ti;
            gguftk_tensor_info_at(f, i, &t);
            if (!quantized[i] || layer_of(t.name) != layer) continue;
            gguftk_type_info_of(t.type, &ti);
            off = (off + SCRATCH_ALIGN - 1) / SCRATCH_ALIGN * SCRATCH_ALIGN;
            const int rc = gguftk_cuda_dequantize_blocks(t.type, quantized[i], t.n_elements / ti.block_elems, GGUFTK_F16,
                                                         scratch + off, (size_t)(scratch_bytes - off), stream);
            if (rc != GGUFTK_OK) {
                fprintf(stderr, "error: %s: %s\n", gguftk_error_name(rc), gguftk_last_error());
                return 1;
            }
            if (first < 0) {
                first = i;
                first_off = off;
            }
            off += t.n_elements * 2;
        }
        /* ... the layer's kernels would be enqueued on `stream` here ... */
        if (first >= 0) {
            gguftk_tensor_info t;
            gguftk_tensor_info_at(f, first, &t);
            const size_t row = (size_t)t.ne[0] * 2;
            unsigned char *gpu = malloc(row ? row : 1), *host = malloc(row ? row : 1);
            if (!cuda_ok(cudaMemcpyAsync(gpu, scratch + first_off, row, cudaMemcpyDeviceToHost, stream), "copy back") ||
                !cuda_ok(cudaStreamSynchronize(stream), "cudaStreamSynchronize"))
                return 1;
            gguftk_dequantize_rows(f, first, 0, 1, GGUFTK_F16, host, row);
            if (memcmp(gpu, host, row) != 0) {
                fprintf(stderr, "layer %ld: row 0 of %s differs between GPU and host\n", layer, t.name);
                ++mismatches;
            }
            free(gpu);
            free(host);
        }
    }
    if (!cuda_ok(cudaStreamSynchronize(stream), "cudaStreamSynchronize")) return 1;
    printf("%ld layers dequantized one at a time on the GPU: %.1f MB quantized in VRAM, %.1f MB FP16 scratch; "
           "%s\n",
           n_layers, (double)vram_quantized / 1e6, (double)scratch_bytes / 1e6,
           mismatches ? "MISMATCHES against the host" : "every layer's first row equals the host's");
    for (int64_t i = 0; i < n; ++i)
        if (quantized[i]) cudaFree(quantized[i]);
    cudaFree(scratch);
    cudaStreamDestroy(stream);
    free(quantized);
    gguftk_close(f);
    return mismatches ? 1 : 0;
}
