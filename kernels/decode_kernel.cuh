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
//   nothing (nor need the tensor be), so the tile is copied into shared memory as 16-byte
//   pieces with cp.async: coalesced, and in flight while the warp decodes the previous tile
//   (two input buffers).
// - Each lane then runs the format's decode_part on one part (or, for the one-element float
//   "blocks", eight) at a time from shared memory: the same definition the CPU runs, so the
//   same float32 bits. It rounds (rounding.h) and puts the values into a shared output tile
//   as 16-byte pieces, swizzled so that lanes writing parts 32 to 128 bytes apart do not
//   collide in the same memory banks.
// - The output tile leaves as 16-byte coalesced streaming stores.
//
// Plain floats (F32, F16, BF16, F64) from a 16-byte-aligned tensor skip the tiles: a simpler
// kernel (direct_kernel, below) reads them as 16-byte words straight into registers.
//
// Indexing is 64-bit wherever it spans the tensor: outputs over 2^31 bytes are routine.
//
// The index math (tile.h) is host and device code, emulated lane by lane on the host by
// tests/test_kernel_emulation.cpp; this file keeps only the copy instructions, the warp's
// synchronization and the launch.
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "formats/format.h"
#include "formats/decode.h"
#include "launch.h"
#include "tile.h"

namespace gguftk::cuda {

__device__ __forceinline__ void cp_async_16(void* smem, const void* gmem) {
    const uint32_t s = uint32_t(__cvta_generic_to_shared(smem));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(gmem) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

// At least 8 thread blocks (32 warps) per SM, so at most 64 registers a thread: the fully
// unrolled read-out of an F32 tile (8 16-byte pieces a lane) would otherwise take up to 80,
// leaving 24 warps, and with them fewer tiles in flight, on a kernel that lives on bytes in
// flight. Shared memory allows 8 for every quantized format (at most 26.3 KiB a block with the
// 1 KiB the hardware reserves, of 228); F16 and BF16 to F32 (33 KiB) hold 6. (More blocks,
// fewer registers: at 12 a block, 19 of the 62 quantized kernels spill.) Rechecked after issue
// 19's trims and 32 values a lane (tile.h's kLaneElems; cuobjdump -res-usage, nvcc 13, sm_90):
// 83 of the 93 tiled kernels use all 64 registers and 29 have 8-24 bytes of stack; on the
// steady path (scripts/kernel-cost --path) 2-3 local loads and stores a tile for
// 14 kernels to F16 or BF16, 9 for IQ4_XS to F16, 10-12 for Q4_1 and Q5_1. 7 blocks (72
// registers) would end those spills for an eighth fewer warps in flight, which the kernels
// live on: a trade only a measurement can settle, so still 8.
inline constexpr int kMinBlocksPerSm = 8;

// One lane's steps of tile.h's walk_tiles, with the copy instructions and warp barriers.
template <class F, OutType O>
struct LaneOps {
    using T = Tile<F>;
    uint8_t (*in)[T::in_buffer];  // this warp's two input buffers
    uint8_t* out_s;               // this warp's output tile
    const uint8_t* base;          // the 16-byte boundary at or before the tensor
    TensorSpan span;
    uint8_t* dst;
    int lane;

    __device__ __forceinline__ int load(int buf, uint64_t tile, int nb) {
        uint8_t* smem = in[buf];
        return load_tile<F>(
            span, tile, nb, lane, [&](uint64_t at, int p) { cp_async_16(smem + 16 * p, base + at); },
            [&](uint64_t at, int b) { smem[b] = base[at]; });
    }
    __device__ __forceinline__ void commit() { cp_async_commit(); }
    __device__ __forceinline__ void wait_previous() {
        cp_async_wait<1>();
        __syncwarp();
    }
    __device__ __forceinline__ void decode(int buf, int head, int nb) { decode_tile<F, O>(in[buf] + head, nb, out_s, lane); }
    __device__ __forceinline__ void sync() { __syncwarp(); }
    __device__ __forceinline__ void write(uint64_t tile, int nb) {
        uint8_t* g = dst + tile * uint64_t(T::out_bytes(O));
        write_tile<F, O>(
            nb * F::block_elems * int(out_type_size(O)), lane,
            [&](int i, int s) { __stcs(reinterpret_cast<uint4*>(g) + i, reinterpret_cast<const uint4*>(out_s)[s]); },
            [&](int h, int s) { reinterpret_cast<uint16_t*>(g)[h] = reinterpret_cast<const uint16_t*>(out_s)[s]; });
    }
    __device__ __forceinline__ void wait_all() { cp_async_wait<0>(); }
};

template <class F, OutType O>
__global__ void __launch_bounds__(kThreads, kMinBlocksPerSm) decode_kernel(const uint8_t* __restrict__ src, uint64_t n_blocks,
                                                          uint8_t* __restrict__ dst) {
    using T = Tile<F>;
    static_assert(T::shared_bytes(O) <= kSharedBudget);
    __shared__ alignas(16) uint8_t in_all[kWarps][2][T::in_buffer];
    __shared__ alignas(128) uint8_t out_all[kWarps][T::out_bytes(O)];
    const int warp = int(threadIdx.x) / kWarpLanes;
    const unsigned misalign = unsigned(reinterpret_cast<uintptr_t>(src) % 16);
    LaneOps<F, O> ops{in_all[warp],
                      out_all[warp],
                      src - misalign,
                      tensor_span<F>(misalign, n_blocks * F::block_bytes),
                      dst,
                      int(threadIdx.x) % kWarpLanes};
    walk_tiles<F>(first_tile(blockIdx.x, warp), tile_stride(gridDim.x), n_blocks, ops);
}

// The plain-float path (tile.h's Direct): no shared memory, so threads are limited only by
// registers; 256 a block, a grid the size of what the GPU holds at once, walking the groups.
inline constexpr int kDirectThreads = 256;

// A group's input, as loaded: one 8-byte word or whole 16-byte words.
template <int Bytes>
struct GroupIn {
    uint4 w[Bytes / 16];
    __device__ __forceinline__ void load(const uint8_t* src, uint64_t g) {
        const uint4* p = reinterpret_cast<const uint4*>(src) + g * (Bytes / 16);
#pragma unroll
        for (int i = 0; i < Bytes / 16; ++i) w[i] = __ldcs(p + i);
    }
};
template <>
struct GroupIn<8> {
    uint2 w[1];
    __device__ __forceinline__ void load(const uint8_t* src, uint64_t g) {
        w[0] = __ldcs(reinterpret_cast<const uint2*>(src) + g);
    }
};

template <class F, OutType O>
__global__ void __launch_bounds__(kDirectThreads) direct_kernel(const uint8_t* __restrict__ src, uint64_t n,
                                                                uint8_t* __restrict__ dst) {
    using D = Direct<F, O>;
    const uint64_t groups = n / D::group;
    const uint64_t stride = uint64_t(gridDim.x) * blockDim.x;
    for (uint64_t g = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; g < groups; g += stride) {
        GroupIn<D::in_bytes> in;
        in.load(src, g);
        uint4 out;
        decode_group<F, O>(reinterpret_cast<const uint8_t*>(in.w), D::group, reinterpret_cast<uint8_t*>(&out));
        __stcs(reinterpret_cast<uint4*>(dst) + g, out);
    }
    // The last n % group values, by one thread, byte by byte: nothing past the tensor is touched.
    const int rest = int(n - groups * D::group);
    if (rest > 0 && blockIdx.x == 0 && threadIdx.x == 0) {
        uint8_t in[D::in_bytes];
        alignas(16) uint8_t out[D::out_bytes];
        const uint8_t* from = src + groups * D::in_bytes;
        for (int b = 0; b < rest * F::block_bytes; ++b) in[b] = from[b];
        decode_group<F, O>(in, rest, out);
        uint8_t* to = dst + groups * D::out_bytes;
        for (int b = 0; b < rest * int(out_type_size(O)); ++b) to[b] = out[b];
    }
}

inline constexpr int kMaxDevices = 64;

// Thread blocks of `kernel` (of `threads` threads) that device `device` holds at once: asked
// once per kernel and device (the template instance's own cache), since the attribute and
// occupancy queries take more host time than a small launch's whole kernel.
template <auto kernel, int threads>
cudaError_t resident_blocks(int device, uint64_t* resident) {
    static std::atomic<uint64_t> resident_of[kMaxDevices];  // 0: not asked yet
    const bool cached = device >= 0 && device < kMaxDevices;
    *resident = cached ? resident_of[device].load(std::memory_order_relaxed) : 0;
    if (*resident != 0) return cudaSuccess;
    int sms = 0, per_sm = 0;
    cudaError_t e = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    if (e == cudaSuccess) e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, 0);
    if (e != cudaSuccess) return e;
    *resident = uint64_t(sms > 0 ? sms : 1) * uint64_t(per_sm > 0 ? per_sm : 1);
    if (cached) resident_of[device].store(*resident, std::memory_order_relaxed);
    return cudaSuccess;
}

template <class F, OutType O>
cudaError_t launch_kernel(const DecodeLaunch& a) {
    int device = 0;
    cudaError_t e = cudaGetDevice(&device);
    if (e != cudaSuccess) return e;
    const uint8_t* src = a.src;
    uint64_t n_blocks = a.n_blocks;
    uint8_t* dst = a.dst;
    void* args[] = {&src, &n_blocks, &dst};
    uint64_t resident = 0;
    // cudaLaunchKernel returns this launch's own status; cudaGetLastError after <<<>>> would
    // also return an earlier call's unchecked error, naming the wrong culprit.
    if constexpr (kDirect<F>) {
        if (reinterpret_cast<uintptr_t>(src) % 16 == 0) {
            if ((e = resident_blocks<direct_kernel<F, O>, kDirectThreads>(device, &resident)) != cudaSuccess) return e;
            const uint64_t groups = n_blocks / Direct<F, O>::group;
            const uint64_t wanted = (groups + kDirectThreads - 1) / kDirectThreads;
            const unsigned grid = unsigned(std::max<uint64_t>(1, std::min(wanted, resident)));
            return cudaLaunchKernel(reinterpret_cast<const void*>(direct_kernel<F, O>), dim3(grid), dim3(kDirectThreads),
                                    args, 0, a.stream);
        }
    }
    if ((e = resident_blocks<decode_kernel<F, O>, kThreads>(device, &resident)) != cudaSuccess) return e;
    const unsigned grid = grid_blocks(tile_count<F>(n_blocks), resident);
    return cudaLaunchKernel(reinterpret_cast<const void*>(decode_kernel<F, O>), dim3(grid), dim3(kThreads), args, 0,
                            a.stream);
}

template <class F>
cudaError_t launch_decode(const DecodeLaunch& a) {
    if (a.n_blocks == 0) return cudaSuccess;
    if (reinterpret_cast<uintptr_t>(a.dst) % 16 != 0) return cudaErrorMisalignedAddress;
    switch (a.out) {
        case OutType::F32: return launch_kernel<F, OutType::F32>(a);
        case OutType::F16: return launch_kernel<F, OutType::F16>(a);
        case OutType::BF16: return launch_kernel<F, OutType::BF16>(a);
    }
    return cudaErrorInvalidValue;
}

// Every format of a family: what each decode_<family>.cu defines launch_family<Family> as.
template <class... F>
bool launch_in(formats::FormatList<F...>, GgmlType t, const DecodeLaunch& a, cudaError_t* e) {
    return ((t == F::type ? (*e = launch_decode<F>(a), true) : false) || ...);
}

}  // namespace gguftk::cuda
