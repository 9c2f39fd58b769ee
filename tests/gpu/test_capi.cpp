// libgguftk's CUDA functions (gguftk_cuda_*) against its host functions, byte for byte, on the
// caller's stream; and their errors. Exits 77 (skipped) when there is no CUDA device.
//
// - gguftk_cuda_dequantize: every tensor of all-types.gguf, every output type; and a tensor large
//   enough that its blocks go through the 64 MiB device scratch in several chunks (ragged last);
// - gguftk_cuda_dequantize_blocks: random blocks of every type, one block to many;
// - errors (misaligned pointers, dst too small, unknown and integer types) leave the device
//   buffer as it was.
#include <cstring>

#include "fixtures.h"
#include "gguf_builder.h"
#include "gguftk/gguftk.h"
#include "gpu_test.h"

using namespace gguftk;

namespace {

constexpr gguftk_out_type kOuts[] = {GGUFTK_F32, GGUFTK_F16, GGUFTK_BF16};
size_t out_size(gguftk_out_type t) { return t == GGUFTK_F32 ? 4 : 2; }

struct Stream {
    cudaStream_t s = nullptr;
    Stream() { GPU_OK(cudaStreamCreate(&s)); }
    ~Stream() { cudaStreamDestroy(s); }
};

struct File {
    gguftk_file* f = nullptr;
    explicit File(const std::string& path) { REQUIRE_MESSAGE(gguftk_open(path.c_str(), &f) == GGUFTK_OK, gguftk_last_error()); }
    ~File() { gguftk_close(f); }
};

std::vector<uint8_t> host_tensor(gguftk_file* f, int64_t i, gguftk_out_type o, uint64_t n_elements) {
    std::vector<uint8_t> v(n_elements * out_size(o));
    REQUIRE_MESSAGE(gguftk_dequantize(f, i, o, v.data(), v.size(), 0) == GGUFTK_OK, gguftk_last_error());
    return v;
}

}  // namespace

TEST_CASE("a GPU answers") { CHECK(gguftk_cuda_available() == 1); }

TEST_CASE("gguftk_cuda_dequantize gives the host's bytes for every tensor of the fixture") {
    File src(test::fixture("all-types.gguf"));
    Stream stream;
    int checked = 0;
    for (int64_t i = 0; i < gguftk_tensor_count(src.f); ++i) {
        gguftk_tensor_info t;
        gguftk_type_info ti;
        REQUIRE(gguftk_tensor_info_at(src.f, i, &t) == GGUFTK_OK);
        REQUIRE(gguftk_type_info_of(t.type, &ti) == GGUFTK_OK);
        INFO("tensor " << t.name);
        for (gguftk_out_type o : kOuts) {
            const uint64_t bytes = t.n_elements * out_size(o);
            test::DeviceBuffer dst(bytes + 64);
            dst.poison();
            const int rc = gguftk_cuda_dequantize(src.f, i, o, dst.get(), bytes, stream.s);
            if (!ti.has_decoder) {
                CHECK(rc == GGUFTK_ERR_UNSUPPORTED_TYPE);
                CHECK(dst.download(0, bytes + 64) == std::vector<uint8_t>(bytes + 64, 0xA5));
                continue;
            }
            REQUIRE_MESSAGE(rc == GGUFTK_OK, gguftk_last_error());
            GPU_OK(cudaStreamSynchronize(stream.s));
            CHECK(dst.download(0, bytes) == host_tensor(src.f, i, o, t.n_elements));
            CHECK(dst.download(bytes, 64) == std::vector<uint8_t>(64, 0xA5));
        }
        checked += ti.has_decoder;
    }
    CHECK(checked >= 31);
}

TEST_CASE("gguftk_cuda_dequantize goes through its scratch in chunks") {
    // Q8_0: 2.5M blocks are 85 MB, more than the 64 MiB scratch: two chunks, the last ragged.
    constexpr uint64_t kBlocks = 2'500'000;
    std::mt19937_64 rng(7);
    const auto blocks = test::random_blocks<formats::Q8_0>(kBlocks, test::Scales::Sane, rng);
    test::SimpleGguf g = test::simple_gguf({{"big", {32 * 1000, kBlocks / 1000}, 8, blocks.size()}});
    std::memcpy(g.bytes.data() + g.data_offsets[0], blocks.data(), blocks.size());
    test::TempFile tmp(g.bytes);
    File f(tmp.path());
    Stream stream;
    const uint64_t bytes = kBlocks * 32 * 2;
    test::DeviceBuffer dst(bytes);
    REQUIRE_MESSAGE(gguftk_cuda_dequantize(f.f, 0, GGUFTK_F16, dst.get(), bytes, stream.s) == GGUFTK_OK,
                    gguftk_last_error());
    GPU_OK(cudaStreamSynchronize(stream.s));
    CHECK(dst.download(0, bytes) == host_tensor(f.f, 0, GGUFTK_F16, kBlocks * 32));
}

TEST_CASE("gguftk_cuda_dequantize_blocks gives the host's bytes for random blocks of every type") {
    std::mt19937_64 rng(11);
    Stream stream;
    int types = 0;
    for (const TypeInfo& ti : all_types()) {
        if (!has_decoder(ti.type)) continue;
        formats::visit_format(ti.type, [&]<class F>() {
            for (uint64_t n : {uint64_t{1}, uint64_t{7}, uint64_t{1000}, uint64_t{70001}}) {
                const auto blocks = test::random_blocks<F>(n, test::Scales::Sane, rng);
                test::DeviceBuffer src(blocks.size());
                src.upload(blocks);
                for (gguftk_out_type o : kOuts) {
                    INFO(ti.name << " x " << n << " to " << int(o));
                    const uint64_t bytes = n * F::block_elems * out_size(o);
                    std::vector<uint8_t> want(bytes);
                    REQUIRE(gguftk_dequantize_blocks(uint32_t(ti.type), blocks.data(), n, o, want.data(), bytes) ==
                            GGUFTK_OK);
                    test::DeviceBuffer dst(bytes);
                    dst.poison();
                    REQUIRE_MESSAGE(gguftk_cuda_dequantize_blocks(uint32_t(ti.type), src.get(), n, o, dst.get(), bytes,
                                                                  stream.s) == GGUFTK_OK,
                                    gguftk_last_error());
                    GPU_OK(cudaStreamSynchronize(stream.s));
                    CHECK(dst.download(0, bytes) == want);
                }
            }
        });
        ++types;
    }
    CHECK(types >= 31);
}

TEST_CASE("gguftk_cuda_* errors write nothing") {
    File src(test::fixture("all-types.gguf"));
    const int64_t q4k = gguftk_find_tensor(src.f, "q4_K.weight");
    gguftk_tensor_info t;
    REQUIRE(gguftk_tensor_info_at(src.f, q4k, &t) == GGUFTK_OK);
    const uint64_t bytes = t.n_elements * 2;
    test::DeviceBuffer dst(bytes + 64), blocks(t.size + 64);
    dst.poison();
    const std::vector<uint8_t> poison(bytes + 64, 0xA5);

    CHECK(gguftk_cuda_dequantize(src.f, q4k, GGUFTK_F16, dst.get(), bytes - 1, nullptr) == GGUFTK_ERR_DST_TOO_SMALL);
    CHECK(gguftk_cuda_dequantize(src.f, q4k, GGUFTK_F16, dst.get() + 2, bytes, nullptr) == GGUFTK_ERR_INVALID_ARGUMENT);
    CHECK(std::string(gguftk_last_error()).find("aligned") != std::string::npos);
    CHECK(gguftk_cuda_dequantize(src.f, 999, GGUFTK_F16, dst.get(), bytes, nullptr) == GGUFTK_ERR_OUT_OF_RANGE);
    CHECK(gguftk_cuda_dequantize(src.f, q4k, gguftk_out_type(2), dst.get(), bytes, nullptr) ==
          GGUFTK_ERR_UNSUPPORTED_TYPE);
    CHECK(gguftk_cuda_dequantize_blocks(t.type, blocks.get() + 1, 4, GGUFTK_F16, dst.get(), bytes, nullptr) ==
          GGUFTK_ERR_INVALID_ARGUMENT);
    CHECK(gguftk_cuda_dequantize_blocks(100, blocks.get(), 4, GGUFTK_F16, dst.get(), bytes, nullptr) ==
          GGUFTK_ERR_UNSUPPORTED_TYPE);
    CHECK(gguftk_cuda_dequantize_blocks(24, blocks.get(), 4, GGUFTK_F16, dst.get(), bytes, nullptr) ==
          GGUFTK_ERR_UNSUPPORTED_TYPE);
    CHECK(gguftk_cuda_dequantize_blocks(t.type, blocks.get(), 16, GGUFTK_F16, dst.get(), 16 * 256 * 2 - 1, nullptr) ==
          GGUFTK_ERR_DST_TOO_SMALL);
    GPU_OK(cudaDeviceSynchronize());
    CHECK(dst.download(0, bytes + 64) == poison);
}

int main(int argc, char** argv) { return test::run_gpu_tests(argc, argv); }
