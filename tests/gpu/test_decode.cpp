// The GPU decoders against ggml's reference files and against the CPU path, byte for byte.
//
// Every type is decoded on the GPU to F32, F16 and BF16 and compared with
// - all-types.ref-f32.gguf / ref-f16.gguf (ggml's own dequantization; BF16: ggml's float32
//   rounded to nearest even by the test's own definition),
// - gguftk::decode_blocks (the CPU reference) on random blocks, at sizes chosen to hit the
//   kernel's edges: one block, around the tile size, ragged last tiles, more tiles than the
//   grid has warps, tensors at every address mod 16, and outputs past 2^31 bytes.
// Outputs are poisoned before each launch, so an element the kernel forgot shows.
#include <algorithm>
#include <cstdlib>
#include <set>

#include "bit_compare.h"
#include "cuda_decode.h"
#include "fixtures.h"
#include "formats/decode.h"
#include "container/gguf.h"
#include "gpu_test.h"
#include "tile.h"

using namespace gguftk;

namespace {

constexpr OutType kOuts[] = {OutType::F32, OutType::F16, OutType::BF16};

int elem_bytes(OutType o) { return int(out_type_size(o)); }

// Decodes host blocks on the GPU, from `misalign` bytes past a 16-byte boundary, and returns
// the output bytes.
std::vector<uint8_t> gpu_decode(GgmlType t, const std::vector<uint8_t>& blocks, uint64_t n_blocks, OutType out,
                                unsigned misalign = 0) {
    const TypeInfo& ti = type_info(t);
    test::DeviceBuffer src(blocks.size() + misalign);
    GPU_OK(cudaMemcpy(src.get() + misalign, blocks.data(), blocks.size(), cudaMemcpyHostToDevice));
    const uint64_t out_bytes = n_blocks * ti.block_elems * out_type_size(out);
    test::DeviceBuffer dst(out_bytes);
    dst.poison();
    GPU_OK(cuda::decode_blocks_async(t, src.get() + misalign, n_blocks, out, dst.get(), nullptr));
    GPU_OK(cudaDeviceSynchronize());
    return dst.download(0, out_bytes);
}

std::vector<uint8_t> cpu_decode(GgmlType t, const std::vector<uint8_t>& blocks, uint64_t n_blocks, OutType out) {
    std::vector<uint8_t> y(n_blocks * type_info(t).block_elems * out_type_size(out));
    decode_blocks(t, blocks.data(), n_blocks, out, y.data());
    return y;
}

// Every type with a decoder; GGUFTK_TEST_TYPES=Q4_0,F16 limits the random-block tests to
// those (scripts/gpu-check, for the slow run under compute-sanitizer).
std::vector<GgmlType> decodable_types(bool all = false) {
    const char* only = all ? nullptr : std::getenv("GGUFTK_TEST_TYPES");
    std::vector<GgmlType> v;
    for (const TypeInfo& t : all_types()) {
        const std::string list = std::string(",") + (only ? only : "") + ",";
        if (has_decoder(t.type) && (!only || list.find("," + std::string(t.name) + ",") != std::string::npos))
            v.push_back(t.type);
    }
    return v;
}

}  // namespace

TEST_CASE("every type on the GPU gives exactly ggml's float32, float16 and bfloat16 values") {
    const GgufFile src = GgufFile::open(test::fixture("all-types.gguf"));
    const GgufFile ref32 = GgufFile::open(test::fixture("all-types.ref-f32.gguf"));
    const GgufFile ref16 = GgufFile::open(test::fixture("all-types.ref-f16.gguf"));
    std::set<std::string> checked;
    for (const TensorInfo& t : src.tensors()) {
        if (t.type->cls == TypeClass::Integer) continue;
        INFO("tensor " << t.name << " (" << t.type->name << ")");
        const TensorInfo* r32 = ref32.find_tensor(t.name);
        const TensorInfo* r16 = ref16.find_tensor(t.name);
        REQUIRE(r32 != nullptr);
        REQUIRE(r16 != nullptr);
        REQUIRE(r32->n_elements == t.n_elements);
        const auto data = src.data(t);
        const std::vector<uint8_t> blocks(data.begin(), data.end());
        const auto want32 = ref32.data(*r32), want16 = ref16.data(*r16);
        std::vector<uint8_t> want_bf16(t.n_elements * 2);
        for (uint64_t i = 0; i < t.n_elements; ++i) {
            float v;
            std::memcpy(&v, want32.data() + 4 * i, 4);
            const uint16_t b = test::bf16_by_definition(v);
            std::memcpy(want_bf16.data() + 2 * i, &b, 2);
        }
        const auto got32 = gpu_decode(t.type->type, blocks, t.n_blocks(), OutType::F32);
        const auto got16 = gpu_decode(t.type->type, blocks, t.n_blocks(), OutType::F16);
        const auto gotbf = gpu_decode(t.type->type, blocks, t.n_blocks(), OutType::BF16);
        const std::string b32 = test::first_mismatch(got32, want32, 4);
        const std::string b16 = test::first_mismatch(got16, want16, 2);
        const std::string bbf = test::first_mismatch(gotbf, want_bf16, 2);
        CHECK_MESSAGE(b32.empty(), "f32: " << b32);
        CHECK_MESSAGE(b16.empty(), "f16: " << b16);
        CHECK_MESSAGE(bbf.empty(), "bf16: " << bbf);
        checked.insert(std::string(t.type->name));
    }
    // Every type with a decoder was in the fixture, and so was checked here.
    for (GgmlType t : decodable_types(true)) CHECK_MESSAGE(checked.count(std::string(type_info(t).name)), type_info(t).name);
}

TEST_CASE("random blocks of every type decode on the GPU exactly as on the CPU, at awkward sizes") {
    std::mt19937_64 rng(0x6775'6674'6b00ull);
    uint64_t nan_pairs = 0;  // NaNs whose payloads differed: the special scales did make some
    for (GgmlType t : decodable_types()) {
        formats::visit_format(t, [&]<class F>() {
            const uint64_t tile = cuda::Tile<F>::blocks;
            // 1 block; around one tile; a ragged end; more tiles than the grid has warps (132 SMs x
            // 8 thread blocks x 4 warps), so that warps take several.
            const uint64_t sizes[] = {1, 2, tile - 1 > 0 ? tile - 1 : 1, tile, tile + 1, 3 * tile + 7, 2200 * tile * 4 + 3};
            for (uint64_t n : sizes) {
                for (test::Scales how : {test::Scales::Sane, test::Scales::Special}) {
                    if (how == test::Scales::Special && n > 4 * tile) continue;  // the big size: sane only
                    const auto blocks = test::random_blocks<F>(n, how, rng);
                    const std::string scales = how == test::Scales::Special ? ", special scales" : "";
                    for (OutType o : kOuts) {
                        INFO(type_info(t).name << " to " << out_type_name(o) << ", " << n << " blocks" << scales);
                        auto got = gpu_decode(t, blocks, n, o);
                        const auto want = cpu_decode(t, blocks, n, o);
                        // Sane scales: every bit. Special ones: the payloads of NaNs that
                        // arithmetic makes are the hardware's (unify_nans). The plain float
                        // types make none, only convert theirs: every bit, NaNs included.
                        if (how == test::Scales::Special && F::block_elems > 1) {
                            REQUIRE(got.size() == want.size());
                            nan_pairs += test::unify_nans(got.data(), want.data(), n * F::block_elems, o);
                        }
                        const std::string bad = test::first_mismatch(got, want, elem_bytes(o));
                        CHECK_MESSAGE(bad.empty(), bad);
                    }
                }
            }
        });
    }
    CHECK(nan_pairs > 0);
}

TEST_CASE("a tensor at any source address decodes exactly as on the CPU") {
    // The kernel copies 16-byte-aligned pieces; a tensor inside a larger buffer starts anywhere,
    // and its first and last bytes around a boundary go singly. Every offset mod 16.
    std::mt19937_64 rng(16);
    for (GgmlType t : decodable_types()) {
        formats::visit_format(t, [&]<class F>() {
            const uint64_t tile = cuda::Tile<F>::blocks;
            for (uint64_t n : {uint64_t(1), tile + 1, 9 * tile + 1}) {
                const auto blocks = test::random_blocks<F>(n, test::Scales::Sane, rng);
                for (OutType o : kOuts) {
                    const auto want = cpu_decode(t, blocks, n, o);
                    for (unsigned misalign = 0; misalign < 16; ++misalign) {
                        INFO(type_info(t).name << " to " << out_type_name(o) << ", " << n << " blocks at 16k+" << misalign);
                        const std::string bad = test::first_mismatch(gpu_decode(t, blocks, n, o, misalign), want, elem_bytes(o));
                        CHECK_MESSAGE(bad.empty(), bad);
                    }
                }
            }
        });
    }
}

// A tensor whose output is over 2^31 (and, for the float input, whose input is over 2^31
// bytes): any 32-bit byte or element index wraps. The input repeats a run of 997 random blocks
// (a prime, so a misplaced write lands where different values belong), and every period of
// the output is compared with the CPU's decoding of the run.
template <class F>
void check_large(uint64_t n_blocks, OutType out) {
    std::mt19937_64 rng(n_blocks);
    constexpr uint64_t kPeriod = 997;
    const auto run = test::random_blocks<F>(kPeriod, test::Scales::Sane, rng);
    const auto want = cpu_decode(F::type, run, kPeriod, out);
    const uint64_t in_bytes = n_blocks * F::block_bytes, out_bytes = n_blocks * F::block_elems * out_type_size(out);
    INFO(type_info(F::type).name << " to " << out_type_name(out) << ": " << in_bytes << " bytes in, " << out_bytes
                                 << " bytes out");

    test::DeviceBuffer src(in_bytes);
    for (uint64_t b = 0; b < n_blocks; b += kPeriod) {
        const uint64_t k = std::min(kPeriod, n_blocks - b);
        GPU_OK(cudaMemcpy(src.get() + b * F::block_bytes, run.data(), k * F::block_bytes, cudaMemcpyHostToDevice));
    }
    test::DeviceBuffer dst(out_bytes);
    dst.poison();
    GPU_OK(cuda::decode_blocks_async(F::type, src.get(), n_blocks, out, dst.get(), nullptr));
    GPU_OK(cudaDeviceSynchronize());

    // Compare in slabs of whole periods.
    const uint64_t period_bytes = want.size();
    const uint64_t slab = period_bytes * 4096;
    uint64_t bad_periods = 0, first_bad = UINT64_MAX;
    std::string first_msg;
    for (uint64_t off = 0; off < out_bytes; off += slab) {
        const uint64_t n = std::min(slab, out_bytes - off);
        const auto got = dst.download(off, n);
        for (uint64_t p = 0; p < n; p += period_bytes) {
            const uint64_t len = std::min(period_bytes, n - p);
            if (std::memcmp(got.data() + p, want.data(), len) != 0) {
                if (bad_periods++ == 0) {
                    first_bad = off + p;
                    first_msg = test::first_mismatch(std::span(got.data() + p, len), std::span(want.data(), len),
                                                     elem_bytes(out));
                }
            }
        }
    }
    CHECK_MESSAGE(bad_periods == 0, bad_periods << " periods differ, the first at output byte " << first_bad
                                                << ": " << first_msg);
}

TEST_CASE("outputs over 2^31 bytes are complete and in place (64-bit indexing)") {
    size_t free_bytes = 0, total = 0;
    GPU_OK(cudaMemGetInfo(&free_bytes, &total));
    // Q4_0 to f32: 0.34 GB in, 2.4 GB out. F32 to f16: 2.4 GB in, 1.2 GB out.
    const uint64_t q4_blocks = 600'000'000 / 32 + 5;
    const uint64_t f32_elems = 600'000'007;
    // A GPU that is there but cannot hold the test fails it (a skip would hide the gap).
    REQUIRE_MESSAGE(free_bytes >= (4ull << 30), "needs 4 GiB of free GPU memory, " << free_bytes << " bytes free");
    check_large<formats::Q4_0>(q4_blocks, OutType::F32);
    check_large<formats::F32>(f32_elems, OutType::F16);
}

TEST_CASE("an unaligned destination and types without a decoder are refused, not run") {
    test::DeviceBuffer src(1024), dst(8192);
    CHECK(cuda::decode_blocks_async(GgmlType::Q4_0, src.get(), 4, OutType::F32, dst.get() + 4, nullptr) ==
          cudaErrorMisalignedAddress);
    CHECK(cuda::decode_blocks_async(GgmlType::I32, src.get(), 4, OutType::F32, dst.get(), nullptr) ==
          cudaErrorInvalidValue);
    CHECK(cuda::decode_blocks_async(GgmlType::Q4_0, src.get(), 0, OutType::F32, dst.get(), nullptr) == cudaSuccess);
}

int main(int argc, char** argv) { return gguftk::test::run_gpu_tests(argc, argv); }
