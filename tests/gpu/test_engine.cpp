// gguf-dequant's CUDA engine against the CPU engine: the same output files, byte for byte, and
// the same statistics, on the all-types fixture and on a model whose tensors span several
// pipeline chunks with ragged ends.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "fixtures.h"
#include "check/check.h"
#include "convert/convert.h"
#include "container/gguf.h"
#include "container/writer.h"
#include "gpu_test.h"

using namespace gguftk;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string t = (fs::temp_directory_path() / "gguftk-gpu-XXXXXX").string();
        REQUIRE(mkdtemp(t.data()) != nullptr);
        path = t;
    }
    ~TempDir() { fs::remove_all(path); }
};

std::vector<uint8_t> slurp(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

ConversionResult convert(Engine& e, const GgufFile& in, const ConvertOptions& o, const fs::path& out) {
    const ConversionPlan plan = plan_conversion(in, o);
    OutputWriter w(plan, out.string(), true);
    RunControl c;
    c.stats = true;
    ConversionResult r = e.run(plan, w, c);
    w.commit();
    return r;
}

// Both engines on `in`, every output type; outputs and statistics must agree.
void compare_engines(const GgufFile& in, bool all_floats, const fs::path& dir) {
    std::string why;
    auto gpu = make_cuda_engine(0, &why);
    REQUIRE_MESSAGE(gpu != nullptr, why);
    auto cpu = make_cpu_engine(0);
    for (OutType to : {OutType::F16, OutType::F32, OutType::BF16}) {
        INFO(in.path() << " to " << out_type_name(to) << (all_floats ? " --all" : ""));
        ConvertOptions o;
        o.to = to;
        o.all_floats = all_floats;
        const ConversionResult rg = convert(*gpu, in, o, dir / "gpu.gguf");
        const ConversionResult rc = convert(*cpu, in, o, dir / "cpu.gguf");
        CHECK(rg.bytes_read == rc.bytes_read);
        CHECK(rg.bytes_written == rc.bytes_written);
        auto a = slurp(dir / "gpu.gguf");
        const auto b = slurp(dir / "cpu.gguf");
        REQUIRE(a.size() == b.size());
        // Bitwise, except the payloads of NaNs made by arithmetic on NaN or infinite scales of
        // quantized tensors (the processor's choice: see unify_nans); float tensors' NaNs are
        // converted, never made, and compared bitwise.
        const ConversionPlan plan = plan_conversion(in, o);
        for (const TensorJob& j : plan.jobs())
            if (j.converts() && j.in_type->cls == TypeClass::Quantized)
                test::unify_nans(a.data() + j.out_offset, b.data() + j.out_offset, j.n_elements, j.out);
        CHECK_MESSAGE(a == b, "output files differ");
        REQUIRE(rg.stats.size() == rc.stats.size());
        for (size_t i = 0; i < rg.stats.size(); ++i) {
            const TensorStats &g = rg.stats[i], &c = rc.stats[i];
            INFO("job " << i);
            CHECK(g.finite == c.finite);
            CHECK(g.nan == c.nan);
            CHECK(g.inf == c.inf);
            if (g.finite && c.finite) {
                CHECK(g.min == c.min);
                CHECK(g.max == c.max);
                CHECK(g.absmax == c.absmax);
                // Summation order differs between the engines; in double, the means agree closely.
                CHECK(std::abs(g.mean() - c.mean()) <= 1e-9 * std::max(1.0, c.absmax));
            }
        }
    }
}

}  // namespace

namespace {

void same_occurrences(const Occurrences& a, const Occurrences& b) {
    CHECK(a.count == b.count);
    CHECK(a.first == b.first);
}

// gguf-dequant --check on both engines: the same report. The chunks differ between the engines,
// so the mean and std may differ in their last bits (summation order); nothing else may.
void compare_checks(const GgufFile& in) {
    std::string why;
    auto gpu = make_cuda_engine(0, &why);
    REQUIRE_MESSAGE(gpu != nullptr, why);
    CheckOptions o;
    o.overflow = OutType::F16;
    o.ranges.push_back({"*", ValueRange{-0.05, 0.05}});
    const GgufModel model = GgufModel::of(in);
    const CheckReport g = check_model(model, *gpu, o, RunControl{});
    const CheckReport c = check_model(model, *make_cpu_engine(0), o, RunControl{});
    REQUIRE(g.tensors.size() == c.tensors.size());
    for (size_t i = 0; i < g.tensors.size(); ++i) {
        const ValueStats &a = g.tensors[i].stats, &b = c.tensors[i].stats;
        INFO(g.tensors[i].tensor->name);
        CHECK(a.values == b.values);
        CHECK(a.finite == b.finite);
        CHECK(a.zero == b.zero);
        CHECK(a.zero_rows == b.zero_rows);
        for (auto m : {&ValueStats::nan, &ValueStats::inf, &ValueStats::overflow, &ValueStats::out_of_range})
            same_occurrences(a.*m, b.*m);
        CHECK((a.min == b.min || (std::isnan(a.min) && std::isnan(b.min))));
        CHECK((a.max == b.max || (std::isnan(a.max) && std::isnan(b.max))));
        CHECK((std::fabs(a.mean - b.mean) <= 1e-12 * std::fabs(b.mean) || (std::isnan(a.mean) && std::isnan(b.mean))));
        CHECK((std::fabs(a.stddev - b.stddev) <= 1e-12 * b.stddev || (std::isnan(a.stddev) && std::isnan(b.stddev))));
        CHECK(g.tensors[i].failures.size() == c.tensors[i].failures.size());
    }
}

}  // namespace

TEST_CASE("the CUDA engine writes what the CPU engine writes: the all-types fixture") {
    TempDir dir;
    const GgufFile in = GgufFile::open(test::fixture("all-types.gguf"));
    compare_engines(in, false, dir.path);
    compare_engines(in, true, dir.path);
    compare_checks(in);
}

TEST_CASE("the CUDA engine writes what the CPU engine writes: tensors over several chunks") {
    TempDir dir;
    std::mt19937_64 rng(42);
    // Sizes around the engine's 4M-element chunks, not multiples of them, plus specials
    // (NaN and infinite scales) for the NaN/Inf counts.
    struct T {
        std::string name;
        GgmlType type;
        uint64_t rows;
        test::Scales how;
    };
    const std::vector<T> tensors = {
        {"a.q4_k", GgmlType::Q4_K, 4097 * 3 + 5, test::Scales::Sane},    // 12.6M elements: 4 chunks
        {"b.q5_0", GgmlType::Q5_0, 1, test::Scales::Sane},               // one row
        {"c.iq2_xs", GgmlType::IQ2_XS, 300, test::Scales::Special},
        {"d.f32", GgmlType::F32, 4200, test::Scales::Special},           // copied, or converted with --all
        {"e.q8_0", GgmlType::Q8_0, 5000, test::Scales::Sane},
        {"f.i32", GgmlType::I32, 3, test::Scales::Sane},                 // always copied
        {"g.nvfp4", GgmlType::NVFP4, 77, test::Scales::Special},
    };
    GgufHeaderWriter w;
    w.add_string("general.architecture", "test");
    std::vector<std::pair<uint64_t, std::vector<uint8_t>>> data;
    for (const T& t : tensors) {
        const uint64_t ne0 = 1024;
        const uint64_t ne[2] = {ne0, t.rows};
        const uint64_t off = w.add_tensor(t.name, ne, t.type);
        const uint64_t n_blocks = ne0 * t.rows / type_info(t.type).block_elems;
        std::vector<uint8_t> bytes;
        if (t.type == GgmlType::I32) {
            bytes.resize(n_blocks * 4);
            for (auto& b : bytes) b = uint8_t(rng());
        } else {
            formats::visit_format(t.type, [&]<class F>() { bytes = test::random_blocks<F>(n_blocks, t.how, rng); });
        }
        data.emplace_back(off, std::move(bytes));
    }
    const auto head = w.finish();
    const fs::path model = dir.path / "model.gguf";
    {
        std::ofstream f(model, std::ios::binary);
        f.write(reinterpret_cast<const char*>(head.data()), std::streamsize(head.size()));
        uint64_t at = 0;
        for (auto& [off, bytes] : data) {
            const std::vector<char> pad(off - at, 0);
            f.write(pad.data(), std::streamsize(pad.size()));
            f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
            at = off + bytes.size();
        }
        const std::vector<char> pad(w.data_size() - at, 0);
        f.write(pad.data(), std::streamsize(pad.size()));
    }
    const GgufFile in = GgufFile::open(model.string());
    compare_engines(in, false, dir.path);
    compare_engines(in, true, dir.path);
    compare_checks(in);
}

TEST_CASE("a missing device is reported, not crashed on") {
    std::string why;
    CHECK(make_cuda_engine(1000, &why) == nullptr);
    CHECK(why == "no CUDA device 1000");
}

int main(int argc, char** argv) { return gguftk::test::run_gpu_tests(argc, argv); }
