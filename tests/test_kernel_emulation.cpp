// The CUDA decode kernel's tiling, run on the host: every type, every output type, against
// the CPU decoder, byte for byte. No GPU needed, so CI tests the kernel's index math even on
// machines that never see one.
//
// The kernel (kernels/decode_kernel.cuh) runs tile.h's walk_tiles, a loop over tiles around
// the helpers of kernels/tile.h: which 16-byte pieces and single bytes a warp copies into shared memory, which
// lane decodes which part of which block, where the rounded values go in the swizzled output
// tile and which bytes leave from where. Here the same loop and helpers run for 32 lanes in
// turn, in the kernel's order (load the next tile into the other buffer, decode this one, write
// it out), with cp.async modelled as copies that land at the waits in commit groups, memcpy for
// the stores, over the same buffer sizes, with the format's decode_part and the rounding
// functions the kernel calls (rounding.h; on the host the hardware's pair
// conversion is modelled with its canonical NaN, so a NaN that slips past the kernel's NaN
// test shows). Every copy is checked: reads inside the tensor, 16-byte pieces aligned,
// buffer bytes inside their buffers, each needed byte loaded once, each output byte written
// once; shared memory starts as noise and is scrambled before every tile, as stale bytes
// would be.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../kernels/tile.h"
#include "bit_compare.h"
#include "formats/all.h"
#include "formats/decode.h"
#include "gpu/random_blocks.h"

using namespace gguftk;
using namespace gguftk::cuda;

namespace {

constexpr OutType kOuts[] = {OutType::F32, OutType::F16, OutType::BF16};

// What the emulation saw go wrong: the first fault in words, and how many.
struct Faults {
    uint64_t count = 0;
    std::string first;
    template <class... A>
    void add(const A&... what) {
        if (count++ == 0) {
            std::ostringstream s;
            (s << ... << what);
            first = s.str();
        }
    }
};

// One warp's shared memory: two input buffers and the output tile, as the kernel declares
// them, each between guard bytes that must stay as they were.
template <class F, OutType O>
class WarpShared {
public:
    using T = Tile<F>;
    static constexpr int kGuard = 64;

    explicit WarpShared(std::mt19937_64& rng) : noise_(rng()), mem_(size_t(4 * kGuard + 2 * T::in_buffer + T::out_bytes(O))) {
        scramble(mem_.data(), int(mem_.size()));
        guards_ = mem_;
    }
    uint8_t* in(int buf) { return mem_.data() + kGuard + buf * (T::in_buffer + kGuard); }
    uint8_t* out() { return mem_.data() + 3 * kGuard + 2 * T::in_buffer; }
    // New noise each time (splitmix64: cheap, and any noise will do).
    void scramble(uint8_t* p, int n) {
        for (int i = 0; i < n; i += 8) {
            uint64_t z = (noise_ += 0x9e3779b97f4a7c15ull);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            z ^= z >> 31;
            std::memcpy(p + i, &z, size_t(std::min(8, n - i)));
        }
    }
    bool guards_intact() const {
        const size_t at[] = {0, size_t(kGuard + T::in_buffer), size_t(2 * kGuard + 2 * T::in_buffer),
                             mem_.size() - kGuard};
        for (size_t a : at)
            if (std::memcmp(mem_.data() + a, guards_.data() + a, kGuard) != 0) return false;
        return true;
    }

private:
    uint64_t noise_;
    std::vector<uint8_t> mem_, guards_;
};

// Runs decode_kernel<F, O> over `n_blocks` blocks at `src` on a grid of at most `resident`
// thread blocks, lane by lane; returns the output.
template <class F, OutType O>
std::vector<uint8_t> emulate_kernel(const uint8_t* src, uint64_t n_blocks, uint64_t resident, std::mt19937_64& rng,
                                    Faults& f) {
    using T = Tile<F>;
    constexpr int osz = int(out_type_size(O));
    constexpr int out_bytes = T::out_bytes(O);
    static_assert(T::shared_bytes(O) <= kSharedBudget);
    const uint64_t total = n_blocks * F::block_bytes;
    const unsigned misalign = unsigned(reinterpret_cast<uintptr_t>(src) % 16);
    const uint64_t n_tiles = tile_count<F>(n_blocks);
    const unsigned grid = grid_blocks(n_tiles, resident);
    const uint64_t stride = tile_stride(grid);

    std::vector<uint8_t> out(n_blocks * F::block_elems * osz, 0xA5);
    std::vector<uint8_t> writes(out.size(), 0);  // times each output byte was written
    // Tensor byte of position `pos` (counted from the 16-byte boundary before src), if it is one.
    auto tensor_byte = [&](uint64_t pos, const char* what) -> const uint8_t* {
        if (pos < misalign || pos - misalign >= total) {
            f.add(what, " reads position ", pos, ", outside the tensor [", misalign, ", ", misalign + total, ")");
            return nullptr;
        }
        return src + (pos - misalign);
    };

    for (unsigned block = 0; block < grid; ++block) {
        for (int warp = 0; warp < kWarps; ++warp) {
            WarpShared<F, O> smem(rng);
            // Copies land only when a wait says so, in commit groups, as cp.async's do: a
            // decode that ran ahead of its wait would read the buffer's noise.
            struct Copy {
                uint8_t* to;
                const uint8_t* from;
                int n;
            };
            std::vector<Copy> issued;
            std::vector<std::vector<Copy>> groups;
            auto land = [&](size_t keep) {
                while (groups.size() > keep) {
                    for (const Copy& c : groups.front()) std::memcpy(c.to, c.from, size_t(c.n));
                    groups.erase(groups.begin());
                }
            };
            // Copies tile `t` into buffer `buf` as the 32 lanes issue it; returns the head.
            // Buffer byte b must hold the tensor byte at position origin + b, origin the
            // 16-byte boundary at or before the tile's first byte.
            const TensorSpan span = tensor_span<F>(misalign, total);
            auto issue_load = [&](int buf, uint64_t t) {
                const int nb = blocks_in<F>(t, n_blocks);
                const uint64_t start = misalign + t * uint64_t(T::in_bytes), origin = start & ~uint64_t(15);
                uint8_t* in = smem.in(buf);
                smem.scramble(in, T::in_buffer);
                std::vector<int> loaded(T::in_buffer, 0);
                if (tile_load<F>(t, nb, misalign, total).singles() > kMaxSingles) f.add("tile ", t, ": too many single bytes");
                int head = -1;
                for (int lane = 0; lane < kWarpLanes; ++lane) {
                    const int h = load_tile<F>(
                        span, t, nb, lane,
                        [&](uint64_t at, int p) {
                            if (p < 0 || 16 * p + 16 > T::in_buffer) return f.add("tile ", t, ": piece ", p, " outside the buffer");
                            if (at % 16 != 0 || at != origin + 16 * uint64_t(p))
                                return f.add("tile ", t, ": piece ", p, " from position ", at);
                            const uint8_t* first = tensor_byte(at, "a piece");
                            const uint8_t* last = tensor_byte(at + 15, "a piece");
                            if (!first || !last) return;
                            issued.push_back({in + 16 * p, first, 16});  // cp.async.cg 16
                            for (int i = 0; i < 16; ++i) ++loaded[16 * p + i];
                        },
                        [&](uint64_t at, int b) {
                            if (b < 0 || b >= T::in_buffer) return f.add("tile ", t, ": byte ", b, " outside the buffer");
                            if (at != origin + uint64_t(b)) return f.add("tile ", t, ": byte ", b, " from position ", at);
                            const uint8_t* from = tensor_byte(at, "a single byte");
                            if (!from) return;
                            issued.push_back({in + b, from, 1});  // a plain store: lands at once
                            ++loaded[b];
                        });
                    if (lane > 0 && h != head) f.add("tile ", t, ": lanes disagree on the head");
                    head = h;
                }
                if (uint64_t(head) != start - origin) f.add("tile ", t, ": head ", head, ", not ", start - origin);
                // The tile's blocks, exactly once each byte (a byte copied twice means lanes overlap).
                const int need_end = head + nb * F::block_bytes;
                if (need_end > T::in_buffer) f.add("tile ", t, ": blocks end at buffer byte ", need_end);
                for (int b = head; b < std::min(need_end, T::in_buffer); ++b)
                    if (loaded[b] != 1) return f.add("tile ", t, ": buffer byte ", b, " loaded ", loaded[b], " times"), head;
                for (int b = 0; b < T::in_buffer; ++b)
                    if (loaded[b] > 1) return f.add("tile ", t, ": buffer byte ", b, " loaded ", loaded[b], " times"), head;
                return head;
            };

            // The kernel's own loop (tile.h's walk_tiles), each step done for the 32 lanes.
            auto decode_all = [&](int buf, int head, int nb) {
                smem.scramble(smem.out(), out_bytes);
                for (int lane = 0; lane < kWarpLanes; ++lane) decode_tile<F, O>(smem.in(buf) + head, nb, smem.out(), lane);
                if (!smem.guards_intact()) f.add("a tile: shared memory written outside its buffers");
            };
            auto write_all = [&](uint64_t tile, int nb) {
                const uint64_t at = tile * uint64_t(out_bytes);
                const uint8_t* out_s = smem.out();
                auto put = [&](uint64_t off, const uint8_t* from, int n, int s_off) {
                    if (s_off < 0 || s_off + n > out_bytes) return f.add("tile ", tile, ": shared output byte ", s_off, " read");
                    if (off % uint64_t(n) != 0) return f.add("tile ", tile, ": store to output byte ", off, " misaligned");
                    if (off + n > out.size()) return f.add("tile ", tile, ": store to output byte ", off, " past the end");
                    std::memcpy(out.data() + off, from + s_off, size_t(n));
                    for (int i = 0; i < n; ++i) ++writes[off + i];
                };
                for (int lane = 0; lane < kWarpLanes; ++lane)
                    write_tile<F, O>(
                        nb * F::block_elems * osz, lane, [&](int i, int s) { put(at + 16 * uint64_t(i), out_s, 16, 16 * s); },
                        [&](int h, int s) { put(at + 2 * uint64_t(h), out_s, 2, 2 * s); });
            };
            // Lanes run one after another here, so the warp barriers have nothing to order.
            struct Ops {
                decltype(issue_load)& load_;
                decltype(decode_all)& decode_;
                decltype(write_all)& write_;
                decltype(land)& land_;
                std::vector<Copy>& issued_;
                std::vector<std::vector<Copy>>& groups_;
                int load(int buf, uint64_t t, int) { return load_(buf, t); }
                void commit() { groups_.push_back(std::move(issued_)), issued_.clear(); }
                void wait_previous() { land_(1); }
                void decode(int buf, int head, int nb) { decode_(buf, head, nb); }
                void sync() {}
                void write(uint64_t t, int nb) { write_(t, nb); }
                void wait_all() { land_(0); }
            } ops{issue_load, decode_all, write_all, land, issued, groups};
            walk_tiles<F>(first_tile(block, warp), stride, n_blocks, ops);
            if (!issued.empty() || !groups.empty()) f.add("warp ", warp, ": copies still in flight at exit");
        }
    }
    for (size_t i = 0; i < writes.size(); ++i)
        if (writes[i] != 1) {
            f.add("output byte ", i, " written ", int(writes[i]), " times");
            break;
        }
    return out;
}

// `n` random blocks placed so that their first byte is `misalign` past a 16-byte boundary.
struct Placed {
    std::vector<uint8_t> mem;
    const uint8_t* data;
    Placed(const std::vector<uint8_t>& blocks, unsigned misalign) : mem(blocks.size() + 32) {
        const size_t skew = (16 - reinterpret_cast<uintptr_t>(mem.data()) % 16) % 16 + misalign;
        std::memcpy(mem.data() + skew, blocks.data(), blocks.size());
        data = mem.data() + skew;
    }
};

// Whether value i of `out` in `v` is NaN, and the mask of its sign bit.
bool is_nan(const uint8_t* v, uint64_t i, OutType out) {
    if (out == OutType::F32) {
        uint32_t x;
        std::memcpy(&x, v + 4 * i, 4);
        return (x & 0x7fffffffu) > 0x7f800000u;
    }
    uint16_t x;
    std::memcpy(&x, v + 2 * i, 2);
    return (x & 0x7fff) > (out == OutType::F16 ? 0x7c00 : 0x7f80);
}

// For NaNs made by arithmetic in a quantized format's decoder: where both hold a NaN whose bits
// differ in the sign alone, copies want's into got, and returns how many. The CPU decoder's own
// NaN sign depends on its code generation (x * -1.f compiled as a multiply keeps a NaN's sign,
// folded into a negation flips it), so two builds of the same decode_part may disagree there;
// payloads are fixed (random_blocks puts at most one NaN or infinite scale in a block). A NaN
// that the kernel's NaN test let through to the hardware conversion comes out as the canonical
// 0x7fff, which differs from the CPU's in its payload, so it still shows.
uint64_t unify_nan_signs(std::vector<uint8_t>& got, const std::vector<uint8_t>& want, OutType out) {
    const int w = int(out_type_size(out));
    uint64_t n = 0;
    for (uint64_t i = 0; i < got.size() / w; ++i) {
        if (!is_nan(got.data(), i, out) || !is_nan(want.data(), i, out)) continue;
        uint8_t* g = got.data() + w * i;
        const uint8_t* x = want.data() + w * i;
        // Little-endian: the sign is the top bit of the last byte.
        if (std::memcmp(g, x, size_t(w - 1)) == 0 && (g[w - 1] ^ x[w - 1]) == 0x80) {
            g[w - 1] = x[w - 1];
            ++n;
        }
    }
    return n;
}

// Grids of 3 thread blocks (12 warps): small enough that the sizes below make every warp
// walk several tiles.
constexpr uint64_t kResident = 3;

template <class F>
void check_format(std::mt19937_64& rng, uint64_t& nan_values) {
    using T = Tile<F>;
    const uint64_t B = T::blocks, G = tile_stride(kResident) * B;  // a tile; a tile per warp of the grid
    std::vector<uint64_t> sizes = {1, B - 1, B, B + 1, 2 * G - 1, 2 * G, 2 * G + 1};
    sizes.erase(std::remove(sizes.begin(), sizes.end(), uint64_t(0)), sizes.end());
    for (uint64_t n : sizes) {
        for (test::Scales how : {test::Scales::Sane, test::Scales::Special}) {
            const auto blocks = test::random_blocks<F>(n, how, rng);
            // Every misalignment of the tensor for the small sizes; a few for the big ones.
            for (unsigned misalign = 0; misalign < 16; misalign += n > B + 1 ? 5 : 1) {
                const Placed src(blocks, misalign);
                for (OutType o : kOuts) {
                    std::ostringstream what;
                    what << type_info(F::type).name << " to " << out_type_name(o) << ", " << n << " blocks at 16k+"
                         << misalign << (how == test::Scales::Special ? ", special scales" : "");
                    INFO(what.str());
                    std::vector<uint8_t> want(n * F::block_elems * out_type_size(o));
                    decode_blocks(F::type, src.data, n, o, want.data());
                    Faults f;
                    std::vector<uint8_t> got;
                    switch (o) {
                        case OutType::F32: got = emulate_kernel<F, OutType::F32>(src.data, n, kResident, rng, f); break;
                        case OutType::F16: got = emulate_kernel<F, OutType::F16>(src.data, n, kResident, rng, f); break;
                        case OutType::BF16: got = emulate_kernel<F, OutType::BF16>(src.data, n, kResident, rng, f); break;
                    }
                    REQUIRE_MESSAGE(f.count == 0, f.count << " faults; the first: " << f.first);
                    // Sane scales make no NaN; the plain float types only move theirs: every bit.
                    if (how == test::Scales::Special && F::block_elems > 1) unify_nan_signs(got, want, o);
                    const std::string bad = test::first_mismatch(got, want, int(out_type_size(o)));
                    REQUIRE_MESSAGE(bad.empty(), bad);
                    if (o != OutType::F32)
                        for (uint64_t i = 0; i < got.size() / out_type_size(o); ++i) nan_values += is_nan(got.data(), i, o);
                }
            }
        }
    }
}

}  // namespace

TEST_CASE("the decode kernel, emulated lane by lane, writes the CPU decoder's bytes for every type and output") {
    std::mt19937_64 rng(0x656d'756c'6174'65ull);
    uint64_t nan_values = 0, types = 0, float_or_quantized = 0;
    for (const TypeInfo& t : all_types()) {
        float_or_quantized += t.cls != TypeClass::Integer;
        types += formats::visit_format(t.type, [&]<class F>() { check_format<F>(rng, nan_values); });
    }
    CHECK(types == float_or_quantized);
    // The special scales did make NaNs in F16 and BF16 outputs: the kernel's slow path ran.
    CHECK(nan_values > 0);
}

namespace {

// The plain-float kernel's group (tile.h's decode_group) against the CPU decoder: every count
// of values a group may hold (a full group, or the tensor's last n % group), random and special
// values, every output type (a group is 8 values to F16 and BF16, 4 to F32).
template <class F>
void check_group(std::mt19937_64& rng) {
    for (int n = 1; n <= 8; ++n)
        for (test::Scales how : {test::Scales::Sane, test::Scales::Special}) {
            const auto values = test::random_blocks<F>(uint64_t(n), how, rng);
            for (OutType o : kOuts) {
                if (o == OutType::F32 && n > Direct<F, OutType::F32>::group) continue;
                INFO(type_info(F::type).name << " to " << out_type_name(o) << ", " << n << " values");
                std::vector<uint8_t> want(n * out_type_size(o));
                decode_blocks(F::type, values.data(), uint64_t(n), o, want.data());
                alignas(16) uint8_t out[16];
                std::memset(out, 0xa5, sizeof out);
                switch (o) {
                    case OutType::F32: decode_group<F, OutType::F32>(values.data(), n, out); break;
                    case OutType::F16: decode_group<F, OutType::F16>(values.data(), n, out); break;
                    case OutType::BF16: decode_group<F, OutType::BF16>(values.data(), n, out); break;
                }
                const std::vector<uint8_t> got(out, out + want.size());
                const std::string bad = test::first_mismatch(got, want, int(out_type_size(o)));
                REQUIRE_MESSAGE(bad.empty(), bad);
            }
        }
}

}  // namespace

TEST_CASE("the plain-float kernel's groups write the CPU decoder's bytes") {
    std::mt19937_64 rng(0x6772'6f75'70ull);
    int formats_seen = 0;
    for (const TypeInfo& t : all_types())
        formats::visit_format(t.type, [&]<class F>() {
            if constexpr (kDirect<F>) {
                check_group<F>(rng);
                ++formats_seen;
            }
        });
    CHECK(formats_seen == 4);  // F32, F16, BF16, F64
}

TEST_CASE("the tile math at the edges of the tensor") {
    using T = Tile<formats::Q4_0>;  // 18-byte blocks, 32 to a tile: 576 bytes
    SUBCASE("a 16-byte-aligned tensor: whole pieces, the end singly") {
        const TileLoad a = tile_load<formats::Q4_0>(0, 32, 0, 18 * 100);
        CHECK(a.origin == 0);
        CHECK(a.head == 0);
        CHECK(a.piece_lo == 0);
        CHECK(a.piece_hi == 36);
        CHECK(a.singles() == 0);
        // The last tile (4 blocks, bytes 1728..1800): the piece at 1792 would pass the end.
        const TileLoad z = tile_load<formats::Q4_0>(3, 4, 0, 18 * 100);
        CHECK(z.origin == 1728);
        CHECK(z.pieces() == 4);
        CHECK(z.singles() == 8);
        CHECK(z.single(0) == 64);
    }
    SUBCASE("a tensor 5 bytes past a boundary: its first piece singly") {
        const TileLoad a = tile_load<formats::Q4_0>(0, 1, 5, 18);
        CHECK(a.head == 5);
        CHECK(a.pieces() == 0);
        CHECK(a.singles() == 18);
        CHECK(a.single(0) == 5);
        CHECK(a.single(10) == 15);
        CHECK(a.single(11) == 16);
    }
    SUBCASE("the plain tiles, loaded without tile_load, are exactly the whole tiles that need no single bytes") {
        using F = formats::Q4_0;
        for (unsigned misalign = 0; misalign < 16; ++misalign)
            for (uint64_t n = 1; n <= 5 * T::blocks + 2; ++n) {
                const uint64_t total = n * F::block_bytes;
                const TensorSpan span = tensor_span<F>(misalign, total);
                for (uint64_t t = 0; t < tile_count<F>(n); ++t) {
                    const int nb = blocks_in<F>(t, n);
                    const bool plain = nb == T::blocks && tile_load<F>(t, nb, misalign, total).singles() == 0;
                    INFO("misalign " << misalign << ", " << n << " blocks, tile " << t);
                    CHECK(plain == (t >= span.plain_first && t < span.plain_end));
                }
            }
    }
    SUBCASE("swizzle permutes each 128-byte row") {
        for (int row = 0; row < 4; ++row) {
            std::vector<int> seen(8, 0);
            for (int i = 0; i < 8; ++i) {
                const int s = swizzle(8 * row + i);
                REQUIRE(s / 8 == row);
                ++seen[s % 8];
            }
            CHECK(std::count(seen.begin(), seen.end(), 1) == 8);
        }
    }
    CHECK(T::in_buffer == 592);
}

TEST_CASE("the host model of the hardware's pair rounding: float_bits.h's bits, NaN canonical") {
    const float nan = formats::f32_from_bits(0xffc12345u);
    CHECK(f16_pair_no_nan(1.0f, -2.0f) == (0x3c00u | 0xc000u << 16));
    CHECK(f16_pair_no_nan(nan, 1.0f) == (0x7fffu | 0x3c00u << 16));
    CHECK(bf16_pair_no_nan(1.0f, nan) == (0x3f80u | 0x7fffu << 16));
    // The exact functions keep NaN's sign and payload.
    CHECK(f16_pair(nan, 1.0f) == (uint32_t(formats::f32_to_fp16(nan)) | 0x3c00u << 16));
    const float inf = std::numeric_limits<float>::infinity();
    const float y[8] = {0, 1, 2, 3, 4, 5, 6, nan};
    const float z[8] = {0, 1, 2, 3, 4, 5, 6, inf};
    CHECK(any_nan(y));
    CHECK_FALSE(any_nan(z));  // infinity needs no slow path
    // The tile kernel's test of the rounded words: the hardware's NaN in any half of any word
    // (the last word of an odd count too), and nothing else: not infinity, not the largest
    // finite or negative values, in F16 and BF16.
    for (int at = 0; at < 10; ++at) {
        uint32_t h[5], b[5];
        for (int i = 0; i < 5; ++i) {
            const float lo = at == 2 * i ? nan : -inf, hi = at == 2 * i + 1 ? nan : i == 2 ? inf : -65504.0f;
            h[i] = f16_pair_no_nan(lo, hi);
            b[i] = bf16_pair_no_nan(lo, hi);
        }
        CHECK(any_hw_nan(h));
        CHECK(any_hw_nan(b));
    }
    const uint32_t none[3] = {f16_pair_no_nan(inf, 65504.0f), f16_pair_no_nan(-inf, -0.0f), bf16_pair_no_nan(inf, 3e38f)};
    CHECK_FALSE(any_hw_nan(none));
}

TEST_CASE("F64's NaN rule is the host's own conversion, which the GPU cannot give by itself") {
    // floats.h spells out what float(d) does to a NaN, so that the GPU (whose conversion writes
    // one canonical NaN) writes the CPU's bits. Held here to the host's conversion, for NaNs of
    // both signs, quiet and signalling, with random payloads.
    std::mt19937_64 rng(64);
    int differ = 0;
    for (int i = 0; i < 100000; ++i) {
        uint64_t u = rng() | 0x7ff0000000000000ull;
        if ((u & 0xfffffffffffffull) == 0) u |= 1;  // infinity: make it a NaN
        double d;
        std::memcpy(&d, &u, 8);
        volatile double vd = d;  // the conversion at run time, by the processor
        const float host = float(vd);
        float y;
        formats::F64::decode_part(reinterpret_cast<const uint8_t*>(&u), 0, &y);
        differ += formats::f32_bits(y) != formats::f32_bits(host);
    }
    CHECK(differ == 0);
}
