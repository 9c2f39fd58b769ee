#pragma once
// The one decode kernel, templated over a format of lib/formats and the output type.
//
// The work is memory-bound: a Q4_K element is 4.5 bits in and 16 bits out, and the arithmetic
// per element is a handful of instructions. So the kernel is shaped around moving bytes, and
// around keeping enough of them in flight:
//
// - Each warp works alone on a tile of whole format blocks (about 1024 elements) at a time,
//   walking the tensor with a stride of all the warps of a grid sized to fill the GPU once.
//   Warps synchronize only with themselves (__syncwarp), so one warp's stall never holds up
//   another: a block-wide barrier per tile cost a tenth of the bandwidth.
// - A tile's input bytes are contiguous, but blocks of 18, 34 or 210 bytes are aligned to
//   nothing, so the tile is copied into shared memory as 16-byte pieces with cp.async:
//   coalesced, and in flight while the warp decodes the previous tile (two input buffers).
// - Each lane then runs the format's decode_part on one part (or, for the one-element float
//   "blocks", eight) at a time from shared memory: the same definition the CPU runs, so the
//   same float32 bits. It rounds (rounding.cuh) and puts the values into a shared output tile
//   as 16-byte pieces, swizzled so that lanes writing parts 32 to 128 bytes apart do not
//   collide in the same memory banks.
// - The output tile leaves as 16-byte coalesced streaming stores.
//
// Indexing is 64-bit wherever it spans the tensor: outputs over 2^31 bytes are routine.
#include <cuda_runtime.h>

#include <cstdint>

#include "formats/format.h"
#include "gguftk/decode.h"
#include "launch.h"
#include "rounding.cuh"

namespace gguftk::cuda {

inline constexpr int kWarps = 4;  // warps per thread block: small blocks pack the SMs finely
inline constexpr int kThreads = 32 * kWarps;

template <class F>
struct Tile {
    // Lanes decode this many consecutive parts together, so that each writes at least
    // 16 bytes (8 values): only the plain float types, whose parts are single values.
    static constexpr int group = F::part_elems >= 8 ? 1 : 8 / F::part_elems;
    static constexpr int part_elems = F::part_elems * group;
    static constexpr int parts_per_block = F::block_elems / F::part_elems;
    // About 1024 values; for the plain floats about 2 KiB of input (F64 would need 8).
    static constexpr int target_elems = F::block_elems == 1 ? 2048 / F::block_bytes : 1024;
    static constexpr int blocks = target_elems / F::block_elems > 0 ? target_elems / F::block_elems : 1;
    static constexpr int elems = blocks * F::block_elems;
    static constexpr int in_bytes = blocks * F::block_bytes;
    // Shared input buffer: the tile's bytes start anywhere in their first 16-byte piece and
    // end anywhere in their last.
    static constexpr int in_buffer = (in_bytes + 30) / 16 * 16;
    static_assert(elems % 64 == 0, "a tile's output must be whole 128-byte swizzle rows");
};

__device__ __forceinline__ void cp_async_16(void* smem, const void* gmem) {
    const uint32_t s = uint32_t(__cvta_generic_to_shared(smem));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(gmem) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

// Starts copying tile `tile` (`nb` blocks) into shared memory and returns where in `smem` its
// first block starts. The tile's bytes are rarely 16-byte aligned (blocks of 18, 110 bytes),
// so the aligned 16-byte pieces that cover them are copied asynchronously; only at the end of
// the tensor, where the last piece would reach past it, do the last bytes go one by one.
template <class F>
__device__ __forceinline__ int load_tile(uint8_t* smem, const uint8_t* src, uint64_t total, uint64_t tile, int nb,
                                         int lane) {
    const uint64_t start = tile * uint64_t(Tile<F>::in_bytes), end = start + uint64_t(nb) * F::block_bytes;
    const uint64_t first = start & ~uint64_t(15);
    const uint64_t covered = (end + 15) & ~uint64_t(15);
    const uint64_t stop = covered <= total ? covered : end & ~uint64_t(15);
    const int pieces = int(stop - first) / 16;
    for (int i = lane; i < pieces; i += 32) cp_async_16(smem + 16 * i, src + first + 16 * i);
    for (int i = int(stop - first) + lane; i < int(end - first); i += 32) smem[i] = src[first + i];
    return int(start - first);
}

// 16-byte piece `i` of the output tile lives at piece swizzle(i) of shared memory: the low
// three bits are XORed with the next three, which keeps each 128-byte row's pieces within the
// row (so the linear read-out stays conflict-free) and spreads lanes writing 32, 64 or 128
// bytes apart over different banks.
__device__ __forceinline__ int swizzle(int piece) { return piece ^ ((piece >> 3) & 7); }

// Rounds a lane's values to O and stores them, 16-byte piece by piece, from output byte
// `offset` of the tile (a multiple of 16: parts start at multiples of their own size).
template <OutType O, int N>
__device__ __forceinline__ void store_values(const float (&y)[N], uint8_t* out_s, int offset) {
    uint4* pieces = reinterpret_cast<uint4*>(out_s);
    const int first = offset / 16;
    if constexpr (O == OutType::F32) {
        static_assert(N % 4 == 0);
#pragma unroll
        for (int i = 0; i < N; i += 4)
            pieces[swizzle(first + i / 4)] = make_uint4(__float_as_uint(y[i]), __float_as_uint(y[i + 1]),
                                                        __float_as_uint(y[i + 2]), __float_as_uint(y[i + 3]));
    } else {
        static_assert(N % 8 == 0 && (N & (N - 1)) == 0);
        constexpr bool f16 = O == OutType::F16;
        if (all_finite(y)) [[likely]] {
#pragma unroll
            for (int i = 0; i < N; i += 8) {
                auto pair = [&](int k) { return f16 ? f16_pair_no_nan(y[k], y[k + 1]) : bf16_pair_no_nan(y[k], y[k + 1]); };
                pieces[swizzle(first + i / 8)] = make_uint4(pair(i), pair(i + 2), pair(i + 4), pair(i + 6));
            }
        } else {
#pragma unroll
            for (int i = 0; i < N; i += 8) {
                auto pair = [&](int k) { return f16 ? f16_pair(y[k], y[k + 1]) : bf16_pair(y[k], y[k + 1]); };
                pieces[swizzle(first + i / 8)] = make_uint4(pair(i), pair(i + 2), pair(i + 4), pair(i + 6));
            }
        }
    }
}

// Writes `bytes` (even) of the shared output tile to global memory: 16-byte streaming stores,
// then 2-byte ones for a ragged end (only in the last tile of a tensor of plain floats).
__device__ __forceinline__ void write_tile(uint8_t* g, const uint8_t* out_s, int bytes, int lane) {
    const uint4* pieces = reinterpret_cast<const uint4*>(out_s);
    const int n = bytes / 16;
    for (int i = lane; i < n; i += 32) __stcs(reinterpret_cast<uint4*>(g) + i, pieces[swizzle(i)]);
    for (int h = 8 * n + lane; h < bytes / 2; h += 32)
        reinterpret_cast<uint16_t*>(g)[h] = reinterpret_cast<const uint16_t*>(out_s)[8 * swizzle(h / 8) + h % 8];
}

template <class F, OutType O>
__global__ void __launch_bounds__(kThreads) decode_kernel(const uint8_t* __restrict__ src, uint64_t n_blocks,
                                                          uint8_t* __restrict__ dst) {
    using T = Tile<F>;
    constexpr int osz = int(out_type_size(O));
    __shared__ alignas(16) uint8_t in_all[kWarps][2][T::in_buffer];
    __shared__ alignas(128) uint8_t out_all[kWarps][T::elems * osz];
    const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
    uint8_t* out_s = out_all[warp];

    const uint64_t n_tiles = (n_blocks + T::blocks - 1) / T::blocks;
    const uint64_t total = n_blocks * F::block_bytes;
    const uint64_t stride = uint64_t(gridDim.x) * kWarps;
    auto blocks_in = [&](uint64_t tile) {
        const uint64_t left = n_blocks - tile * T::blocks;
        return left < uint64_t(T::blocks) ? int(left) : T::blocks;
    };

    uint64_t tile = uint64_t(blockIdx.x) * kWarps + warp;
    // Where the first block of this tile and of the next starts in their buffers.
    int head = 0, next_head = 0;
    if (tile < n_tiles) head = load_tile<F>(in_all[warp][0], src, total, tile, blocks_in(tile), lane);
    cp_async_commit();
    for (int buf = 0; tile < n_tiles; tile += stride, buf ^= 1, head = next_head) {
        // Prefetch the next tile into the other buffer, then wait for this one only.
        const uint64_t next = tile + stride;
        if (next < n_tiles) next_head = load_tile<F>(in_all[warp][buf ^ 1], src, total, next, blocks_in(next), lane);
        cp_async_commit();
        cp_async_wait<1>();
        __syncwarp();

        const int nb = blocks_in(tile);
        const uint8_t* in = in_all[warp][buf] + head;
        const int units = (nb * T::parts_per_block + T::group - 1) / T::group;
        for (int u = lane; u < units; u += 32) {
            float y[T::part_elems];
#pragma unroll
            for (int g = 0; g < T::group; ++g) {
                const int p = u * T::group + g;
                const int b = p / T::parts_per_block, part = p % T::parts_per_block;
                if (T::group == 1 || b < nb)
                    F::decode_part(in + b * F::block_bytes, part, y + g * F::part_elems);
                else
                    for (int j = 0; j < F::part_elems; ++j) y[g * F::part_elems + j] = 0.0f;  // past the end
            }
            store_values<O>(y, out_s, u * T::part_elems * osz);
        }
        __syncwarp();  // out_s complete; in[buf] free for the prefetch after next
        write_tile(dst + tile * uint64_t(T::elems) * osz, out_s, nb * F::block_elems * osz, lane);
        __syncwarp();  // out_s read out before the next tile's values go in
    }
    cp_async_wait<0>();
}

template <class F, OutType O>
cudaError_t launch_kernel(const DecodeLaunch& a) {
    const uint64_t n_tiles = (a.n_blocks + Tile<F>::blocks - 1) / Tile<F>::blocks;
    const uint64_t n_thread_blocks = (n_tiles + kWarps - 1) / kWarps;
    int device = 0, sms = 0, per_sm = 0;
    cudaError_t e = cudaGetDevice(&device);
    if (e == cudaSuccess) e = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    if (e == cudaSuccess) e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, decode_kernel<F, O>, kThreads, 0);
    if (e != cudaSuccess) return e;
    const uint64_t resident = uint64_t(sms) * uint64_t(per_sm > 0 ? per_sm : 1);
    const unsigned grid = unsigned(n_thread_blocks < resident ? n_thread_blocks : resident);
    decode_kernel<F, O><<<grid, kThreads, 0, a.stream>>>(a.src, a.n_blocks, a.dst);
    return cudaGetLastError();
}

template <class F>
cudaError_t launch_decode(const DecodeLaunch& a) {
    if (a.n_blocks == 0) return cudaSuccess;
    if ((reinterpret_cast<uintptr_t>(a.src) | reinterpret_cast<uintptr_t>(a.dst)) % 16 != 0)
        return cudaErrorMisalignedAddress;
    switch (a.out) {
        case OutType::F32: return launch_kernel<F, OutType::F32>(a);
        case OutType::F16: return launch_kernel<F, OutType::F16>(a);
        case OutType::BF16: return launch_kernel<F, OutType::BF16>(a);
    }
    return cudaErrorInvalidValue;
}

}  // namespace gguftk::cuda
