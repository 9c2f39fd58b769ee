#pragma once
// The one decode kernel, templated over a format of lib/formats and the output type.
//
// The work is memory-bound: a Q4_K element is 4.5 bits in and 16 bits out, and the arithmetic
// per element is a handful of instructions. So the kernel is shaped around moving bytes:
//
// - A thread block owns a tile of whole format blocks at a time (about 4096 elements) and
//   walks the tensor tile by tile with a grid sized to fill every multiprocessor once.
// - A tile's input bytes are contiguous, but blocks of 18, 34 or 210 bytes are not aligned to
//   anything, so the tile is copied into shared memory as 16-byte pieces (cp.async: coalesced,
//   and in flight while the previous tile is decoded: two input buffers).
// - Each thread then runs the format's decode_part on one part at a time from shared memory
//   (the same definition the CPU runs, so the same float32 bits), rounds (rounding.cuh) and
//   puts the part's values into a shared output tile.
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

inline constexpr int kThreads = 256;

template <class F>
struct Tile {
    static constexpr int gcd(int a, int b) { return b == 0 ? a : gcd(b, a % b); }
    // Plain floats are all bytes and no arithmetic: a smaller tile keeps F64's input small.
    static constexpr int target_elems = F::block_elems == 1 ? 2048 : 4096;
    // Enough blocks that the tile's input is a whole number of 16-byte pieces.
    static constexpr int align_blocks = 16 / gcd(F::block_bytes, 16);
    static constexpr int want_blocks = target_elems / F::block_elems > 0 ? target_elems / F::block_elems : 1;
    static constexpr int blocks = (want_blocks + align_blocks - 1) / align_blocks * align_blocks;
    static constexpr int elems = blocks * F::block_elems;
    static constexpr int in_bytes = blocks * F::block_bytes;
    static constexpr int parts_per_block = F::block_elems / F::part_elems;
    static_assert(in_bytes % 16 == 0);
    static_assert(elems % 8 == 0, "a tile's output must be whole 16-byte pieces for every output type");
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

// Starts copying tile `tile` (`nb` blocks) into shared memory: whole 16-byte pieces
// asynchronously, a ragged end (only in the tensor's last tile) byte by byte.
template <class F>
__device__ __forceinline__ void load_tile(uint8_t* smem, const uint8_t* src, uint64_t tile, int nb) {
    const uint8_t* g = src + tile * uint64_t(Tile<F>::in_bytes);
    const int bytes = nb * F::block_bytes;
    const int pieces = bytes / 16;
    for (int i = threadIdx.x; i < pieces; i += kThreads) cp_async_16(smem + 16 * i, g + 16 * i);
    for (int i = 16 * pieces + threadIdx.x; i < bytes; i += kThreads) smem[i] = g[i];
}

// Rounds a part's values to O and stores them at `dst` in shared memory, in pieces as wide as
// the part allows (a part starts at a multiple of its own size, so the pieces are aligned).
template <OutType O, int N>
__device__ __forceinline__ void store_part(const float (&y)[N], uint8_t* dst) {
    if constexpr (O == OutType::F32) {
        if constexpr (N % 4 == 0) {
#pragma unroll
            for (int i = 0; i < N; i += 4)
                *reinterpret_cast<float4*>(dst + 4 * i) = make_float4(y[i], y[i + 1], y[i + 2], y[i + 3]);
        } else {
#pragma unroll
            for (int i = 0; i < N; ++i) reinterpret_cast<float*>(dst)[i] = y[i];
        }
    } else {
        auto pair = [](float lo, float hi) { return O == OutType::F16 ? f16_pair(lo, hi) : bf16_pair(lo, hi); };
        if constexpr (N % 8 == 0) {
#pragma unroll
            for (int i = 0; i < N; i += 8)
                *reinterpret_cast<uint4*>(dst + 2 * i) =
                    make_uint4(pair(y[i], y[i + 1]), pair(y[i + 2], y[i + 3]), pair(y[i + 4], y[i + 5]),
                               pair(y[i + 6], y[i + 7]));
        } else if constexpr (N % 2 == 0) {
#pragma unroll
            for (int i = 0; i < N; i += 2) reinterpret_cast<uint32_t*>(dst)[i / 2] = pair(y[i], y[i + 1]);
        } else {
#pragma unroll
            for (int i = 0; i < N; ++i)
                reinterpret_cast<uint16_t*>(dst)[i] = O == OutType::F16 ? f16_one(y[i]) : bf16_one(y[i]);
        }
    }
}

// Writes `bytes` (even) of the shared output tile to global memory: 16-byte streaming stores,
// then 2-byte ones for a ragged end (only in the last tile of a tensor of plain floats).
__device__ __forceinline__ void write_tile(uint8_t* g, const uint8_t* smem, int bytes) {
    const int pieces = bytes / 16;
    for (int i = threadIdx.x; i < pieces; i += kThreads)
        __stcs(reinterpret_cast<uint4*>(g) + i, reinterpret_cast<const uint4*>(smem)[i]);
    for (int i = 8 * pieces + threadIdx.x; i < bytes / 2; i += kThreads)
        reinterpret_cast<uint16_t*>(g)[i] = reinterpret_cast<const uint16_t*>(smem)[i];
}

template <class F, OutType O>
__global__ void __launch_bounds__(kThreads) decode_kernel(const uint8_t* __restrict__ src, uint64_t n_blocks,
                                                          uint8_t* __restrict__ dst) {
    using T = Tile<F>;
    constexpr int osz = int(out_type_size(O));
    __shared__ alignas(16) uint8_t in_s[2][T::in_bytes];
    __shared__ alignas(16) uint8_t out_s[T::elems * osz];

    const uint64_t n_tiles = (n_blocks + T::blocks - 1) / T::blocks;
    auto blocks_in = [&](uint64_t tile) {
        const uint64_t left = n_blocks - tile * T::blocks;
        return left < uint64_t(T::blocks) ? int(left) : T::blocks;
    };

    uint64_t tile = blockIdx.x;
    if (tile < n_tiles) load_tile<F>(in_s[0], src, tile, blocks_in(tile));
    cp_async_commit();
    for (int buf = 0; tile < n_tiles; tile += gridDim.x, buf ^= 1) {
        // Prefetch the next tile into the other buffer, then wait for this one only.
        const uint64_t next = tile + gridDim.x;
        if (next < n_tiles) load_tile<F>(in_s[buf ^ 1], src, next, blocks_in(next));
        cp_async_commit();
        cp_async_wait<1>();
        __syncthreads();

        const int nb = blocks_in(tile);
        const uint8_t* in = in_s[buf];
        for (int p = threadIdx.x; p < nb * T::parts_per_block; p += kThreads) {
            const int b = p / T::parts_per_block, part = p % T::parts_per_block;
            float y[F::part_elems];
            F::decode_part(in + b * F::block_bytes, part, y);
            store_part<O>(y, out_s + (b * F::block_elems + part * F::part_elems) * osz);
        }
        __syncthreads();  // out_s complete; in_s[buf] free for the prefetch after next
        write_tile(dst + tile * uint64_t(T::elems) * osz, out_s, nb * F::block_elems * osz);
        // The next iteration's barrier keeps out_s from being overwritten while it is read here.
    }
    cp_async_wait<0>();
}

template <class F, OutType O>
cudaError_t launch_kernel(const DecodeLaunch& a) {
    const uint64_t n_tiles = (a.n_blocks + Tile<F>::blocks - 1) / Tile<F>::blocks;
    int device = 0, sms = 0, per_sm = 0;
    cudaError_t e = cudaGetDevice(&device);
    if (e == cudaSuccess) e = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    if (e == cudaSuccess) e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, decode_kernel<F, O>, kThreads, 0);
    if (e != cudaSuccess) return e;
    const uint64_t resident = uint64_t(sms) * uint64_t(per_sm > 0 ? per_sm : 1);
    const unsigned grid = unsigned(n_tiles < resident ? n_tiles : resident);
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
