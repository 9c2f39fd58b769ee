#pragma once
// The decode kernel's tiling (decode_kernel.cuh): the sizes of a tile and of its shared-memory
// buffers, which bytes a warp copies in, which lane decodes which part of which block, where
// the values go in the swizzled output tile, and which output bytes leave from where.
//
// Host and device, with no CUDA header when the compiler is not nvcc: the kernel runs these
// functions on the GPU, and tests/test_kernel_emulation.cpp runs the same ones on the host,
// lane by lane, with memcpy standing in for cp.async, against the CPU decoder. Only the copy
// instructions and the warp's synchronization stay in the kernel.
//
// Every per-lane loop has a trip count known at compile time (that of a full tile, the one
// nearly every tile is): the loops unroll into predicated copies, with no bounds arithmetic
// per element; a ragged last tile only switches some of them off.
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#include <vector_types.h>
#endif

#include "formats/format.h"
#include "formats/decode.h"
#include "rounding.h"

namespace gguftk::cuda {

inline constexpr int kWarpLanes = 32;
inline constexpr int kWarps = 4;  // warps per thread block: small blocks pack the SMs finely
inline constexpr int kThreads = kWarpLanes * kWarps;
// Static shared memory a thread block may declare (the hardware's limit without opting in).
inline constexpr int kSharedBudget = 48 * 1024;

// Values a lane decodes together, where a format's parts and blocks allow.
inline constexpr int kLaneElems = 32;

template <class F>
struct Tile {
    // Lanes decode this many consecutive parts of one block together: 8 values of the plain
    // floats (one-value parts), so that each lane writes at least 16 bytes; of a quantized
    // format, 32 values where its parts are smaller and its blocks larger, so that what its
    // parts share (the block's scale, a word of scales or signs) is read and converted once a
    // lane instead of once a part.
    static constexpr int group = F::block_elems == 1          ? 8
                                 : F::part_elems >= kLaneElems ? 1
                                 : F::block_elems < kLaneElems ? F::block_elems / F::part_elems
                                                               : kLaneElems / F::part_elems;
    static constexpr int part_elems = F::part_elems * group;
    static constexpr int parts_per_block = F::block_elems / F::part_elems;
    // About 1024 values; for the plain floats about 2 KiB of input (F64 would need 8).
    static constexpr int target_elems = F::block_elems == 1 ? 2048 / F::block_bytes : 1024;
    static constexpr int blocks = target_elems / F::block_elems > 0 ? target_elems / F::block_elems : 1;
    static constexpr int elems = blocks * F::block_elems;
    static constexpr int in_bytes = blocks * F::block_bytes;
    // A full tile's decode units (a lane's group of parts) and 16-byte input pieces.
    static constexpr int units = blocks * parts_per_block / group;
    // Shared input buffer: the tile's bytes start anywhere in their first 16-byte piece (head
    // 0..15) and end anywhere in their last.
    static constexpr int in_buffer = (in_bytes + 15 + 15) / 16 * 16;
    static constexpr int in_pieces = in_buffer / 16;
    static constexpr int out_bytes(OutType o) { return elems * int(out_type_size(o)); }
    // Shared memory of one thread block: each warp's two input buffers and its output tile.
    static constexpr int shared_bytes(OutType o) { return kWarps * (2 * in_buffer + out_bytes(o)); }

    static_assert(F::block_elems % F::part_elems == 0, "parts tile a block");
    static_assert(F::block_elems == 1 || parts_per_block % group == 0, "a unit's parts lie in one block");
    static_assert(part_elems % 8 == 0, "a unit's F16 values are whole 16-byte pieces");
    static_assert(blocks * parts_per_block % group == 0, "a full tile is whole units");
    static_assert(elems % 64 == 0, "a tile's output is whole 128-byte swizzle rows");
    static_assert(in_buffer >= 15 + in_bytes && in_buffer % 16 == 0, "the worst head still fits the buffer");
    static_assert(kWarps * (2 * in_buffer + elems * 4) <= kSharedBudget, "static shared memory (F32 output) over the limit");
};

// Calls f(i) for this lane's share of i in [0, n): lane, lane + 32, ... The trip count is that
// of N, a compile-time bound on n, so the loop unrolls into predicated calls.
template <int N, class Fn>
GGUFTK_HD void lane_loop(int lane, int n, Fn&& f) {
#if defined(__CUDACC__)
#pragma unroll
#endif
    for (int k = 0; k < (N + kWarpLanes - 1) / kWarpLanes; ++k) {
        const int i = lane + kWarpLanes * k;
        if (i < n) f(i);
    }
}

// --- The walk over the tensor -------------------------------------------------------------

template <class F>
GGUFTK_HD constexpr uint64_t tile_count(uint64_t n_blocks) {
    return (n_blocks + Tile<F>::blocks - 1) / Tile<F>::blocks;
}
// Blocks in tile `tile`: a full tile's, except in the last tile.
template <class F>
GGUFTK_HD constexpr int blocks_in(uint64_t tile, uint64_t n_blocks) {
    const uint64_t left = n_blocks - tile * Tile<F>::blocks;
    return left < uint64_t(Tile<F>::blocks) ? int(left) : Tile<F>::blocks;
}
// Each warp works alone on tiles first_tile, first_tile + tile_stride, ...
GGUFTK_HD constexpr uint64_t first_tile(unsigned block, int warp) { return uint64_t(block) * kWarps + unsigned(warp); }
GGUFTK_HD constexpr uint64_t tile_stride(unsigned grid) { return uint64_t(grid) * kWarps; }
// Thread blocks to launch: one warp per tile, at most what the GPU holds at once (`resident`).
GGUFTK_HD constexpr unsigned grid_blocks(uint64_t n_tiles, uint64_t resident) {
    const uint64_t wanted = (n_tiles + kWarps - 1) / kWarps;
    return unsigned(wanted < resident ? wanted : resident);
}

// --- Loading a tile's bytes ----------------------------------------------------------------

// How a warp copies one tile's input into its shared buffer. Positions count from `base`, the
// 16-byte boundary at or before the tensor's first byte (which is at `misalign`); buffer byte
// b holds the tensor byte at base + origin + b. The tile's bytes lie in the aligned 16-byte
// pieces that cover them, copied whole (cp.async), except where such a piece would reach
// outside the tensor: at its very start (only when the tensor is not 16-byte aligned) and at
// its very end the bytes go singly, so that nothing outside the tensor is ever read.
struct TileLoad {
    uint64_t origin;           // multiple of 16
    int head;                  // buffer byte of the tile's first block (0..15)
    int piece_lo, piece_hi;    // buffer pieces [piece_lo, piece_hi) copied whole
    int head_end;              // buffer bytes [head, head_end) copied singly (tensor start)
    int tail_begin, tail_end;  // buffer bytes [tail_begin, tail_end) copied singly (tensor end)

    GGUFTK_HD constexpr int pieces() const { return piece_hi - piece_lo; }
    GGUFTK_HD constexpr int singles() const { return head_end - head + tail_end - tail_begin; }
    // Buffer byte of single byte k.
    GGUFTK_HD constexpr int single(int k) const { return k < head_end - head ? head + k : tail_begin + k - (head_end - head); }
};
// Fewer than 16 at each end of the tensor: one lane each.
inline constexpr int kMaxSingles = 30;

template <class F>
GGUFTK_HD constexpr TileLoad tile_load(uint64_t tile, int nb, unsigned misalign, uint64_t total) {
    const uint64_t start = misalign + tile * uint64_t(Tile<F>::in_bytes);
    const uint64_t end = start + uint64_t(nb) * F::block_bytes;
    const uint64_t limit = misalign + total;
    const uint64_t origin = start & ~uint64_t(15);
    const uint64_t lo = origin >= misalign ? origin : origin + 16;
    const uint64_t covered = (end + 15) & ~uint64_t(15);
    const uint64_t hi_piece = covered <= limit ? covered : end & ~uint64_t(15);
    const uint64_t hi = hi_piece > lo ? hi_piece : lo;
    const int head = int(start - origin);
    const int lo_b = int(lo - origin), hi_b = int(hi - origin), end_b = int(end - origin);
    const int head_end = lo_b < end_b ? lo_b : end_b;
    return TileLoad{origin, head, lo_b / 16, hi_b / 16, head_end > head ? head_end : head, hi_b,
                    end_b > hi_b ? end_b : hi_b};
}

// Where the tensor lies, for every tile's load: its misalignment, its bytes, and the tiles
// [plain_first, plain_end) that are whole with every 16-byte piece covering them inside the
// tensor (all but the first of a tensor that is not 16-byte aligned and the last one or two).
struct TensorSpan {
    unsigned misalign;
    uint64_t total;
    uint64_t plain_first, plain_end;
};
template <class F>
GGUFTK_HD constexpr TensorSpan tensor_span(unsigned misalign, uint64_t total) {
    constexpr uint64_t in = uint64_t(Tile<F>::in_bytes);
    const uint64_t whole = total / in;  // tiles of T::blocks blocks
    // The last whole tile's covering pieces may reach past the end; the one before it ends at
    // least in_bytes (>= 16) before the end, so its last piece does not.
    const bool last_fits = whole > 0 && ((misalign + whole * in + 15) & ~uint64_t(15)) <= misalign + total;
    const uint64_t end = whole > 0 && !last_fits ? whole - 1 : whole;
    return TensorSpan{misalign, total, misalign == 0 ? 0u : 1u, end};
}

// Issues this lane's share of the copies of tile `tile` (nb blocks) and returns the buffer byte
// where its first block starts: piece(at, p) copies the 16 bytes at base + at (a multiple of
// 16) into buffer piece p, byte(at, b) the byte at base + at into buffer byte b.
//
// A plain tile (TensorSpan's; nearly all) takes its own path: the pieces
// [0, (head + in_bytes + 15) / 16) and no single bytes, tile_load's answer for such a tile
// without its 64-bit bounds arithmetic. A lane's pieces are 512 bytes apart, so their
// addresses are one 64-bit sum and constant offsets; all but the last one or two of a tile's
// pieces are there whatever its head, so only those are tested.
template <class F, class Piece, class Byte>
GGUFTK_HD int load_tile(const TensorSpan& span, uint64_t tile, int nb, int lane, Piece&& piece, Byte&& byte) {
    using T = Tile<F>;
    if (tile >= span.plain_first && tile < span.plain_end) [[likely]] {
        // The low bits of the start need only the low bits of the product.
        const int head = int((span.misalign + unsigned(tile) * unsigned(T::in_bytes)) & 15);
        const uint64_t origin = span.misalign + tile * uint64_t(T::in_bytes) - unsigned(head);
        const int pieces = (head + T::in_bytes + 15) / 16;
        constexpr int always = (T::in_bytes + 15) / 16;  // pieces at head 0, the fewest
        const uint64_t at = origin + 16 * unsigned(lane);
#if defined(__CUDACC__)
#pragma unroll
#endif
        for (int k = 0; k < (T::in_pieces + kWarpLanes - 1) / kWarpLanes; ++k) {
            const int p = lane + kWarpLanes * k;
            if (kWarpLanes * (k + 1) <= always || p < pieces) piece(at + 16 * kWarpLanes * uint64_t(k), p);
        }
        return head;
    }
    const TileLoad t = tile_load<F>(tile, nb, span.misalign, span.total);
    lane_loop<T::in_pieces>(lane, t.pieces(), [&](int i) {
        const int p = t.piece_lo + i;
        piece(t.origin + 16 * uint64_t(p), p);
    });
    lane_loop<kMaxSingles>(lane, t.singles(), [&](int k) { byte(t.origin + uint64_t(t.single(k)), t.single(k)); });
    return t.head;
}

// --- Decoding into the output tile ---------------------------------------------------------

// Units (a lane's group of parts) in a tile of `nb` blocks, and which part of which block
// part g of unit u is.
template <class F>
GGUFTK_HD constexpr int units_in(int nb) {
    return (nb * Tile<F>::parts_per_block + Tile<F>::group - 1) / Tile<F>::group;
}
struct BlockPart {
    int block, part;
};
template <class F>
GGUFTK_HD constexpr BlockPart unit_part(int u, int g) {
    using T = Tile<F>;
    if constexpr (F::block_elems == 1) {
        const int p = u * T::group + g;
        return {p / T::parts_per_block, p % T::parts_per_block};
    } else {
        // Written so that the compiler sees one block for all of a unit's parts.
        constexpr int per_block = T::parts_per_block / T::group;
        return {u / per_block, u % per_block * T::group + g};
    }
}

// 16-byte piece `i` of the output tile lives at piece swizzle(i) of shared memory: the low
// three bits are XORed with the next three, which keeps each 128-byte row's pieces within the
// row (so the linear read-out stays conflict-free) and spreads lanes writing 32, 64 or 128
// bytes apart over different banks.
GGUFTK_HD constexpr int swizzle(int piece) { return piece ^ ((piece >> 3) & 7); }

GGUFTK_HD void store_piece(uint8_t* p, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
#if defined(__CUDA_ARCH__)
    *reinterpret_cast<uint4*>(p) = make_uint4(a, b, c, d);
#else
    const uint32_t w[4] = {a, b, c, d};
    memcpy(p, w, 16);
#endif
}

// A pair rounded to O (F16 or BF16) by the hardware, and exactly as float_bits.h does.
template <OutType O>
GGUFTK_HD uint32_t hw_pair(float lo, float hi) {
    return O == OutType::F16 ? f16_pair_no_nan(lo, hi) : bf16_pair_no_nan(lo, hi);
}
template <OutType O>
GGUFTK_HD uint32_t exact_pair(float lo, float hi) {
    return O == OutType::F16 ? f16_pair(lo, hi) : bf16_pair(lo, hi);
}

// Rounds a lane's values to O and stores them, 16-byte piece by piece, from output byte
// `offset` of the tile (a multiple of 16: parts start at multiples of their own size).
//
// To F16 and BF16 the hardware rounds first, and one test of the rounded words (any_hw_nan)
// sends a part holding a NaN (rare: a NaN or infinite scale) to float_bits.h's rounding, which
// keeps its sign and payload.
template <OutType O, int N>
GGUFTK_HD void store_values(const float (&y)[N], uint8_t* out_s, int offset) {
    const int first = offset / 16;
    if constexpr (O == OutType::F32) {
        static_assert(N % 4 == 0);
#if defined(__CUDACC__)
#pragma unroll
#endif
        for (int i = 0; i < N; i += 4)
            store_piece(out_s + 16 * swizzle(first + i / 4), formats::f32_bits(y[i]), formats::f32_bits(y[i + 1]),
                        formats::f32_bits(y[i + 2]), formats::f32_bits(y[i + 3]));
    } else {
        static_assert(N % 8 == 0);
        uint32_t w[N / 2];
#if defined(__CUDACC__)
#pragma unroll
#endif
        for (int i = 0; i < N / 2; ++i) w[i] = hw_pair<O>(y[2 * i], y[2 * i + 1]);
        // Both sides store, so that the exact one stays a side of an if-else, not a step that
        // every part takes (scripts/kernel-cost counts the cheaper side of an if-else).
        if (!any_hw_nan(w)) [[likely]] {
#if defined(__CUDACC__)
#pragma unroll
#endif
            for (int i = 0; i < N / 8; ++i)
                store_piece(out_s + 16 * swizzle(first + i), w[4 * i], w[4 * i + 1], w[4 * i + 2], w[4 * i + 3]);
        } else {
#if defined(__CUDACC__)
#pragma unroll
#endif
            for (int i = 0; i < N; i += 8) {
                auto pair = [&](int k) { return exact_pair<O>(y[k], y[k + 1]); };
                store_piece(out_s + 16 * swizzle(first + i / 8), pair(i), pair(i + 2), pair(i + 4), pair(i + 6));
            }
        }
    }
}

// This lane's share of decoding a tile of `nb` blocks, whose first block starts at `in`
// (shared memory), into the output tile `out_s`: each unit's parts through the format's
// decode_part (the CPU's definition), then rounded and stored.
template <class F, OutType O>
GGUFTK_HD void decode_tile(const uint8_t* in, int nb, uint8_t* out_s, int lane) {
    using T = Tile<F>;
    lane_loop<T::units>(lane, units_in<F>(nb), [&](int u) {
        float y[T::part_elems];
#if defined(__CUDACC__)
#pragma unroll
#endif
        for (int g = 0; g < T::group; ++g) {
            const BlockPart bp = unit_part<F>(u, g);
            if (F::block_elems > 1 || bp.block < nb)
                F::decode_part(in + bp.block * F::block_bytes, bp.part, y + g * F::part_elems);
            else
                for (int j = 0; j < F::part_elems; ++j) y[g * F::part_elems + j] = 0.0f;  // past the end
        }
        store_values<O>(y, out_s, u * T::part_elems * int(out_type_size(O)));
    });
}

// --- One warp's walk ----------------------------------------------------------------------

// A warp's whole loop over its tiles (first, first + stride, ...): while it decodes one tile,
// the next is already being copied into the other input buffer. The kernel runs it with the
// copy instructions and warp barriers as `ops`; tests/test_kernel_emulation.cpp runs the same
// loop with ops that do each step for the 32 lanes in turn. `ops` provides:
//   load(buf, tile, nb) -> int  issue the copies of tile (nb blocks) into buffer buf; returns
//                               the buffer byte where its first block starts
//   commit()                    close the group of copies issued so far
//   wait_previous()             wait for all but the newest group, then a warp barrier
//   decode(buf, head, nb)       decode_tile from buffer buf into the output tile
//   sync()                      a warp barrier
//   write(tile, nb)             write_tile's stores of the output tile
//   wait_all()                  wait for every copy (none may be in flight at exit)
template <class F, class Ops>
GGUFTK_HD void walk_tiles(uint64_t first, uint64_t stride, uint64_t n_blocks, Ops& ops) {
    const uint64_t n_tiles = tile_count<F>(n_blocks);
    uint64_t tile = first;
    int head = 0, next_head = 0;
    if (tile < n_tiles) head = ops.load(0, tile, blocks_in<F>(tile, n_blocks));
    ops.commit();
    for (int buf = 0; tile < n_tiles; tile += stride, buf ^= 1, head = next_head) {
        const uint64_t next = tile + stride;
        if (next < n_tiles) next_head = ops.load(buf ^ 1, next, blocks_in<F>(next, n_blocks));
        ops.commit();
        ops.wait_previous();
        const int nb = blocks_in<F>(tile, n_blocks);
        ops.decode(buf, head, nb);
        ops.sync();  // the output tile complete; buffer buf free for the prefetch after next
        ops.write(tile, nb);
        ops.sync();  // the output tile read out before the next tile's values go in
    }
    ops.wait_all();
}

// --- Plain floats straight from memory ----------------------------------------------------

// A tensor of plain floats (one-element blocks) that starts on a 16-byte boundary needs no
// staging: each thread reads a group of values straight into registers, decodes them with the
// format's decode_part and rounds them with store_values, as decode_tile does, then writes
// one 16-byte word. Staged through shared memory, these values were read a byte per instruction:
// F32 input ran at a third of the copy rate and F64 at a sixth on an H200 (2026-12-04).
template <class F>
inline constexpr bool kDirect = F::block_elems == 1;

// A group is 8 values (16 bytes of F16/BF16), or 4 for F32 output, so that each store
// instruction of a warp writes 512 contiguous bytes: two 16-byte stores a thread, 32 bytes
// apart, left every sector half-written by each (F16 to F32 ran at 62% of the copy rate).
template <class F, OutType O>
struct Direct {
    static constexpr int group = O == OutType::F32 ? 4 : 8;
    static constexpr int in_bytes = group * F::block_bytes, out_bytes = group * int(out_type_size(O));
    static_assert(out_bytes == 16, "a group's output is one 16-byte word");
    static_assert(in_bytes == 8 || in_bytes % 16 == 0, "a group's input is 8 bytes or whole 16-byte words");
};

// Decodes the first n (at most a group) values at `in` into `out` (a group's 16 bytes, 16-byte
// aligned); values past n are decoded as zeros and not meant to be written out.
template <class F, OutType O>
GGUFTK_HD void decode_group(const uint8_t* in, int n, uint8_t* out) {
    float y[Direct<F, O>::group];
#if defined(__CUDACC__)
#pragma unroll
#endif
    for (int k = 0; k < Direct<F, O>::group; ++k) {
        if (k < n)
            F::decode_part(in + k * F::block_bytes, 0, y + k);
        else
            y[k] = 0.0f;
    }
    if constexpr (O == OutType::F32) {
        using formats::f32_bits;
        store_piece(out, f32_bits(y[0]), f32_bits(y[1]), f32_bits(y[2]), f32_bits(y[3]));
    } else {
        // Here the values are tested, not the rounded words as store_values does: for 8 values
        // it costs the same (four compares), and keeps the two roundings an if-else. Tested
        // after rounding, the one word in registers merges them into an if-then that
        // scripts/kernel-cost would count as run.
        uint32_t w[4];
        if (!any_nan(y)) [[likely]] {
            for (int i = 0; i < 4; ++i) w[i] = hw_pair<O>(y[2 * i], y[2 * i + 1]);
        } else {
            for (int i = 0; i < 4; ++i) w[i] = exact_pair<O>(y[2 * i], y[2 * i + 1]);
        }
        store_piece(out, w[0], w[1], w[2], w[3]);
    }
}

// --- Writing the output tile out -----------------------------------------------------------

// This lane's share of writing the first `bytes` (even) of the output tile: piece(i, s) writes
// output piece i from shared piece s; half(h, s) the 2-byte value h from shared half s, for a
// ragged end (only in the last tile of a tensor of plain floats).
//
// A whole tile (every tile but a tensor's last) has its own path, with the piece count a
// constant: no bounds test per piece, and the ragged end's loop, which only a plain-float tile
// can need, is not compiled at all where a block's output is whole 16-byte pieces (every
// quantized type).
template <class F, OutType O, class Piece, class Half>
GGUFTK_HD void write_tile(int bytes, int lane, Piece&& piece, Half&& half) {
    constexpr int whole = Tile<F>::out_bytes(O) / 16;
    if (bytes == Tile<F>::out_bytes(O)) [[likely]] {
        // swizzle(lane + 32 k) = swizzle(lane or lane + 32) + 32 k, by k's parity: 32 k adds
        // 4 k to the row bits, which flips the XOR's bit 2 for odd k only. So two swizzles a
        // lane, and the rest constant offsets.
        const int s[2] = {swizzle(lane), swizzle(lane + kWarpLanes)};
#if defined(__CUDACC__)
#pragma unroll
#endif
        for (int k = 0; k < (whole + kWarpLanes - 1) / kWarpLanes; ++k) {
            const int i = lane + kWarpLanes * k;
            if (whole % kWarpLanes == 0 || i < whole) piece(i, s[k & 1] + kWarpLanes * (k & ~1));
        }
        return;
    }
    const int n = bytes / 16;
    lane_loop<whole>(lane, n, [&](int i) { piece(i, swizzle(i)); });
    if constexpr (F::block_elems * int(out_type_size(O)) % 16 != 0)
        lane_loop<7>(lane, bytes / 2 - 8 * n, [&](int k) {
            const int h = 8 * n + k;
            half(h, 8 * swizzle(h / 8) + h % 8);
        });
}

}  // namespace gguftk::cuda
