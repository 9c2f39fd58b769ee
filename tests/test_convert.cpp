// The conversion pipeline through the library: planning, the output writer, the CPU engine.
// (tests/cli/test_dequant*.py cover the same ground through the binary, with outside readers.)
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bit_compare.h"
#include "fixtures.h"
#include "gguf_builder.h"
#include "convert/convert.h"
#include "container/error.h"
#include "container/gguf.h"

using namespace gguftk;
namespace fs = std::filesystem;

namespace {

using test::fixture;

// A fresh, empty directory under the temp dir, removed with everything in it at the end.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "gguftk-convert-XXXXXX").string();
        REQUIRE(mkdtemp(tmpl.data()));
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::vector<std::string> list() const {
        std::vector<std::string> v;
        for (const auto& e : fs::directory_iterator(path)) v.push_back(e.path().filename().string());
        std::sort(v.begin(), v.end());
        return v;
    }
};

ConversionResult convert(const ConversionPlan& plan, const std::string& out, unsigned threads, bool stats = false) {
    OutputWriter w(plan, out, false);
    RunControl c;
    c.stats = stats;
    ConversionResult r = make_cpu_engine(threads)->run(plan, w, c);
    w.commit();
    return r;
}

std::vector<uint8_t> read_all(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

}  // namespace

TEST_CASE("plan: quantized converted, integers and (without --all) floats copied") {
    const GgufFile in = GgufFile::open(fixture("all-types.gguf"));
    for (bool all : {false, true}) {
        ConvertOptions o;
        o.all_floats = all;
        const ConversionPlan plan = plan_conversion(in, o);
        REQUIRE(plan.jobs().size() == in.tensors().size());
        for (const TensorJob& j : plan.jobs()) {
            const TensorInfo& t = in.tensors()[j.tensor];
            INFO(t.name);
            switch (t.type->cls) {
                case TypeClass::Quantized: CHECK(j.converts()); break;
                case TypeClass::Integer: CHECK(!j.converts()); break;
                case TypeClass::Float: CHECK(j.converts() == (all && t.type->type != GgmlType::F16)); break;
            }
            CHECK(j.in_offset == t.offset);
            CHECK(j.in_size == t.size);
            CHECK(j.out_size == (j.converts() ? t.n_elements * 2 : t.size));
        }
    }
}

TEST_CASE("plan: every output byte placed once, inside its file, tensors aligned") {
    const GgufFile in = GgufFile::open(fixture("all-types.gguf"));
    for (OutputFormat fmt : all_output_formats()) {
        ConvertOptions o;
        o.format = fmt;
        o.to = OutType::F32;
        const ConversionPlan plan = plan_conversion(in, o);
        INFO(output_format_name(fmt));
        std::vector<std::vector<std::pair<uint64_t, uint64_t>>> ranges(plan.files().size());
        for (size_t f = 0; f < plan.files().size(); ++f) ranges[f].push_back({0, plan.files()[f].header.size()});
        for (const TensorJob& j : plan.jobs()) {
            REQUIRE(j.file < plan.files().size());
            CHECK(j.out_offset + j.out_size <= plan.files()[j.file].size);
            if (fmt == OutputFormat::Gguf) CHECK(j.out_offset % in.alignment() == 0);
            ranges[j.file].push_back({j.out_offset, j.out_offset + j.out_size});
        }
        for (auto& r : ranges) {
            std::sort(r.begin(), r.end());
            for (size_t i = 1; i < r.size(); ++i) CHECK(r[i].first >= r[i - 1].second);
        }
        CHECK(plan.files().size() == (is_directory_format(fmt) ? in.tensors().size() + 1 : 1));
    }
}

TEST_CASE("output formats and target types: the lists the tools offer, each name read back") {
    CHECK(all_output_formats().size() == 4);
    for (OutputFormat f : all_output_formats()) CHECK(parse_output_format(output_format_name(f)) == f);
    CHECK(all_out_types().size() == 3);
    CHECK(all_out_types().front() == OutType::F16);  // the default, listed first
    for (OutType t : all_out_types()) {
        CHECK(parse_out_type(out_type_name(t)) == t);
        for (OutputFormat f : all_output_formats())  // only NumPy lacks a type: bfloat16
            CHECK((unwritable_values(f, t) != nullptr) == (f == OutputFormat::Npy && t == OutType::BF16));
    }
}

TEST_CASE("plan: what cannot be converted is refused before anything is written") {
    const GgufFile in = GgufFile::open(fixture("all-types.gguf"));
    ConvertOptions o;
    o.tensor_globs = {"no-such-*"};
    CHECK_THROWS_WITH_AS(plan_conversion(in, o), doctest::Contains("no tensor matches"), Error);
    o.tensor_globs = {};
    o.format = OutputFormat::Npy;
    o.to = OutType::BF16;
    CHECK_THROWS_WITH_AS(plan_conversion(in, o), doctest::Contains("bfloat16"), Error);

    const auto be = test::simple_gguf({{"w", {32, 2}, 8, 2 * 34}}, {}, 0, 32, /*big_endian=*/true);
    const GgufFile bef = GgufFile::parse(be.bytes);
    CHECK_THROWS_WITH_AS(plan_conversion(bef, ConvertOptions{}), doctest::Contains("big-endian"), Error);
}

TEST_CASE("CPU engine: every type equals ggml's reference, any thread count") {
    const GgufFile in = GgufFile::open(fixture("all-types.gguf"));
    for (const auto& target : {std::pair{OutType::F16, "all-types.ref-f16.gguf"}, std::pair{OutType::F32, "all-types.ref-f32.gguf"}}) {
        // Plain variables, not a structured binding: INFO captures `to` in a lambda, which
        // clang before 16 refuses for a binding (the asan preset builds with clang 14).
        const OutType to = target.first;
        const char* const ref_name = target.second;
        const GgufFile ref = GgufFile::open(fixture(ref_name));
        ConvertOptions o;
        o.to = to;
        o.all_floats = true;
        const ConversionPlan plan = plan_conversion(in, o);
        std::vector<uint8_t> first;
        for (unsigned threads : {1u, 3u}) {
            TempDir dir;
            const std::string out = (dir.path / "out.gguf").string();
            const ConversionResult r = convert(plan, out, threads);
            CHECK(r.bytes_read == plan.bytes_in());
            const GgufFile got = GgufFile::open(out);
            REQUIRE(got.tensors().size() == in.tensors().size());
            for (size_t i = 0; i < in.tensors().size(); ++i) {
                const TensorInfo& s = in.tensors()[i];
                const TensorInfo& g = got.tensors()[i];
                INFO(s.name, " -> ", out_type_name(to), ", ", threads, " threads");
                CHECK(g.name == s.name);
                if (s.type->cls == TypeClass::Integer) {
                    CHECK(g.type == s.type);
                    CHECK(std::ranges::equal(got.data(g), in.data(s)));
                    continue;
                }
                const TensorInfo* r_t = ref.find_tensor(s.name);
                REQUIRE(r_t);
                CHECK(g.type->type == out_ggml_type(to));
                CHECK(test::first_mismatch(got.data(g), ref.data(*r_t), int(out_type_size(to))) == "");
            }
            auto bytes = read_all(out);
            if (first.empty()) first = bytes;
            else CHECK(bytes == first);
            CHECK(dir.list() == std::vector<std::string>{"out.gguf"});
        }
    }
}

TEST_CASE("CPU engine: stats of each converted tensor") {
    const GgufFile in = GgufFile::open(fixture("all-types.gguf"));
    const GgufFile ref = GgufFile::open(fixture("all-types.ref-f32.gguf"));
    ConvertOptions o;
    o.to = OutType::F32;
    const ConversionPlan plan = plan_conversion(in, o);
    TempDir dir;
    const ConversionResult r = convert(plan, (dir.path / "o.gguf").string(), 2, true);
    REQUIRE(r.stats.size() == plan.jobs().size());
    for (size_t i = 0; i < plan.jobs().size(); ++i) {
        const TensorJob& j = plan.jobs()[i];
        if (!j.converts()) continue;
        const TensorInfo& t = in.tensors()[j.tensor];
        INFO(t.name);
        const auto d = ref.data(*ref.find_tensor(t.name));
        std::vector<float> v(d.size() / 4);
        memcpy(v.data(), d.data(), d.size());
        const TensorStats& s = r.stats[i];
        CHECK(s.finite + s.nan + s.inf == t.n_elements);
        CHECK(s.min == *std::min_element(v.begin(), v.end()));
        CHECK(s.max == *std::max_element(v.begin(), v.end()));
        double sum = 0;
        for (float x : v) sum += x;
        CHECK(s.mean() == doctest::Approx(sum / double(v.size())).epsilon(1e-9));
    }
}

TEST_CASE("CPU engine: a file parsed from memory converts too (no file to pread)") {
    const auto g = test::simple_gguf({{"w", {64, 3}, 8, 6 * 34}, {"i", {5}, 26, 20}});
    const GgufFile in = GgufFile::parse(g.bytes);
    const ConversionPlan plan = plan_conversion(in, ConvertOptions{});
    TempDir dir;
    convert(plan, (dir.path / "o.gguf").string(), 2);
    const GgufFile out = GgufFile::open((dir.path / "o.gguf").string());
    REQUIRE(out.tensors().size() == 2);
    std::vector<uint8_t> want(64 * 3 * 2);
    decode_blocks(GgmlType::Q8_0, in.data(in.tensors()[0]).data(), 6, OutType::F16, want.data());
    CHECK(std::ranges::equal(out.data(out.tensors()[0]), want));
    CHECK(std::ranges::equal(out.data(out.tensors()[1]), in.data(in.tensors()[1])));
}

TEST_CASE("output writer: nothing visible until commit, nothing left without it") {
    const GgufFile in = GgufFile::open(fixture("all-types.gguf"));
    for (OutputFormat fmt : {OutputFormat::Gguf, OutputFormat::Npy}) {
        ConvertOptions o;
        o.format = fmt;
        const ConversionPlan plan = plan_conversion(in, o);
        TempDir dir;
        const std::string out = (dir.path / "out").string();
        {
            OutputWriter w(plan, out, false);
            CHECK(dir.list().size() == 1);  // the temp, hidden beside OUT
            CHECK(dir.list()[0].rfind(".out.tmp-", 0) == 0);
            CHECK_THROWS_AS(w.write(0, plan.files()[0].size, std::span<const uint8_t>(plan.files()[0].header)), Error);
        }  // an engine failing would end like this: no commit
        CHECK(dir.list().empty());
        {
            OutputWriter w(plan, out, false);
            w.commit();
        }
        CHECK(dir.list() == std::vector<std::string>{"out"});
        CHECK_THROWS_WITH_AS(OutputWriter(plan, out, false), doctest::Contains("--force"), Error);
        { OutputWriter(plan, out, true).commit(); }
        CHECK(dir.list() == std::vector<std::string>{"out"});
    }
}

TEST_CASE("output writer: the input is never the output, under any name") {
    TempDir dir;
    const fs::path src = dir.path / "in.gguf";
    fs::copy_file(fixture("all-types.gguf"), src);
    fs::create_symlink(src, dir.path / "sym.gguf");
    fs::create_hard_link(src, dir.path / "hard.gguf");
    const GgufFile in = GgufFile::open(src.string());
    const ConversionPlan plan = plan_conversion(in, ConvertOptions{});
    for (const char* name : {"in.gguf", "sym.gguf", "hard.gguf"})
        CHECK_THROWS_WITH_AS(OutputWriter(plan, (dir.path / name).string(), true), doctest::Contains("input"), Error);
    CHECK(dir.list() == std::vector<std::string>{"hard.gguf", "in.gguf", "sym.gguf"});
}

TEST_CASE("directory outputs: tensor names never escape the directory, and never collide") {
    const auto g = test::simple_gguf({{"../evil", {4}, 0, 16},
                                      {"a/b", {4}, 0, 16},
                                      {"a_b", {4}, 0, 16},
                                      {".hidden", {4}, 0, 16},
                                      {"manifest.json", {4}, 0, 16}});
    const GgufFile in = GgufFile::parse(g.bytes);
    ConvertOptions o;
    o.format = OutputFormat::Raw;
    const ConversionPlan plan = plan_conversion(in, o);
    std::vector<std::string> names;
    for (const OutputFile& f : plan.files()) {
        CHECK(f.name.find('/') == std::string::npos);
        CHECK(f.name[0] != '.');
        names.push_back(f.name);
    }
    std::sort(names.begin(), names.end());
    CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
    TempDir dir;
    convert(plan, (dir.path / "out").string(), 1);
    CHECK(dir.list() == std::vector<std::string>{"out"});
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir.path / "out")) n += e.is_regular_file();
    CHECK(n == 6);
}

namespace {

// Shard `no` of a 3-shard model: split.* keys (split.tensors.count = `total`) and `tensors`.
std::vector<uint8_t> shard_bytes(uint16_t no, int32_t total, const std::vector<test::TensorSpec>& tensors,
                                 uint16_t count = 3) {
    test::GgufBuilder kv;
    namespace vt = test::vt;
    uint64_t n_kv = 3;
    if (no == 0) kv.kv_str("general.architecture", "x"), ++n_kv;
    kv.kv("split.no", vt::UINT16).u16(no).kv("split.count", vt::UINT16).u16(count);
    kv.kv("split.tensors.count", vt::INT32).i32(total);
    return test::simple_gguf(tensors, kv.bytes(), n_kv).bytes;
}

struct SplitSet {
    std::vector<std::vector<uint8_t>> bytes;
    std::vector<GgufFile> files;
    std::vector<const GgufFile*> ptrs;
    explicit SplitSet(std::vector<std::vector<uint8_t>> b) : bytes(std::move(b)) {
        for (size_t k = 0; k < bytes.size(); ++k)
            files.push_back(GgufFile::parse(bytes[k], "/nonexistent/m-0000" + std::to_string(k + 1) + "-of-00003.gguf"));
        for (const GgufFile& f : files) ptrs.push_back(&f);
    }
};

SplitSet good_split() {
    return SplitSet({shard_bytes(0, 4, {{"a", {64}, 8, 68}, {"b", {8}, 0, 32}}), shard_bytes(1, 4, {{"c", {32}, 8, 34}}),
                     shard_bytes(2, 4, {{"d", {4}, 0, 16}})});
}

}  // namespace

TEST_CASE("a split model: one output shard per input shard, the same tensors in each") {
    const SplitSet s = good_split();
    const GgufModel model = GgufModel::of(s.ptrs, 1);
    CHECK(model.split());
    CHECK(&model.given() == &s.files[1]);
    CHECK(model.n_tensors() == 4);
    REQUIRE(model.find_tensor("c").has_value());
    CHECK(model.find_tensor("c")->file == 1);
    const ConversionPlan plan = plan_conversion(model, ConvertOptions{});
    CHECK(plan.layout() == OutputLayout::Shards);
    REQUIRE(plan.files().size() == 3);
    REQUIRE(plan.jobs().size() == 4);
    const std::vector<uint32_t> inputs = {0, 0, 1, 2};
    for (size_t i = 0; i < 4; ++i) {
        CHECK(plan.jobs()[i].input == inputs[i]);
        CHECK(plan.jobs()[i].file == inputs[i]);
    }
    CHECK(plan.tensor(plan.jobs()[2]).name == "c");
    CHECK(output_paths(plan, "/o/m-f16.gguf") ==
          std::vector<std::string>{"/o/m-f16-00001-of-00003.gguf", "/o/m-f16-00002-of-00003.gguf", "/o/m-f16-00003-of-00003.gguf"});

    TempDir dir;
    convert(plan, (dir.path / "o.gguf").string(), 2);
    CHECK(dir.list() == std::vector<std::string>{"o-00001-of-00003.gguf", "o-00002-of-00003.gguf", "o-00003-of-00003.gguf"});
    const GgufFile o2 = GgufFile::open((dir.path / "o-00002-of-00003.gguf").string());
    REQUIRE(o2.tensors().size() == 1);
    std::vector<uint8_t> want(32 * 2);
    decode_blocks(GgmlType::Q8_0, s.files[1].data(s.files[1].tensors()[0]).data(), 1, OutType::F16, want.data());
    CHECK(std::ranges::equal(o2.data(o2.tensors()[0]), want));
    CHECK(o2.get_uint("split.no") == 1u);
    CHECK_FALSE(o2.find_key("general.file_type"));  // only in the shard with the model's metadata
    CHECK(GgufFile::open((dir.path / "o-00001-of-00003.gguf").string()).get_uint("general.file_type") == 1u);

    // The sizes inspect shows are the plan's, computed without keeping it.
    for (const bool merge : {false, true}) {
        ConvertOptions o;
        o.merge = merge;
        o.all_floats = true;
        const ConversionPlan p = plan_conversion(model, o);
        const ConversionSize size = conversion_size(model, o);
        CHECK(size.file_bytes == p.bytes_out());
        CHECK(size.files == p.files().size());
        uint64_t tensor_bytes = 0;
        for (const TensorJob& j : p.jobs()) tensor_bytes += j.out_size;
        CHECK(size.tensor_bytes == tensor_bytes);
    }
}

TEST_CASE("a split model merged: one file, no split.* keys") {
    const SplitSet s = good_split();
    ConvertOptions o;
    o.merge = true;
    const ConversionPlan plan = plan_conversion(GgufModel::of(s.ptrs), o);
    CHECK(plan.layout() == OutputLayout::File);
    REQUIRE(plan.files().size() == 1);
    TempDir dir;
    convert(plan, (dir.path / "m.gguf").string(), 1);
    const GgufFile m = GgufFile::open((dir.path / "m.gguf").string());
    CHECK(m.tensors().size() == 4);
    CHECK_FALSE(m.find_key("split.no"));
    CHECK_FALSE(m.find_key("split.count"));
    CHECK_FALSE(m.find_key("split.tensors.count"));
    CHECK(m.get_string("general.architecture") == "x");
}

TEST_CASE("a split model that does not hold together is refused, naming the shard") {
    auto refused = [](SplitSet s, const char* words, size_t shard) {
        try {
            (void)GgufModel::of(s.ptrs);
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK(std::string(e.what()).find(words) != std::string::npos);
            CHECK(e.file() == s.files[shard].path());
        }
    };
    refused(SplitSet({shard_bytes(0, 4, {{"a", {8}, 0, 32}, {"b", {8}, 0, 32}}), shard_bytes(1, 4, {{"c", {8}, 0, 32}}),
                      shard_bytes(2, 4, {{"a", {8}, 0, 32}})}),
            "tensor 'a' is also in", 2);
    refused(SplitSet({shard_bytes(0, 5, {{"a", {8}, 0, 32}}), shard_bytes(1, 5, {{"b", {8}, 0, 32}}),
                      shard_bytes(2, 5, {{"c", {8}, 0, 32}})}),
            "split.tensors.count is 5, but the 3 shards hold 3 tensors", 0);
    refused(SplitSet({shard_bytes(0, 3, {{"a", {8}, 0, 32}}), shard_bytes(2, 3, {{"b", {8}, 0, 32}}),
                      shard_bytes(2, 3, {{"c", {8}, 0, 32}})}),
            "split.no is 2, but this is shard 2 of 3", 1);
    refused(SplitSet({shard_bytes(0, 3, {{"a", {8}, 0, 32}}), shard_bytes(1, 3, {{"b", {8}, 0, 32}}, 4),
                      shard_bytes(2, 3, {{"c", {8}, 0, 32}})}),
            "split.count is 4", 1);
}

TEST_CASE("a split output appears whole or not at all: a failed rename takes back the shards already in place") {
    const SplitSet s = good_split();
    const ConversionPlan plan = plan_conversion(GgufModel::of(s.ptrs), ConvertOptions{});
    TempDir dir;
    const std::string out = (dir.path / "o.gguf").string();
    {
        OutputWriter w(plan, out, false);
        REQUIRE(w.paths().size() == 3);
        make_cpu_engine(1)->run(plan, w, RunControl{});
        // Shards are renamed last to first: the first one's place taken by a directory now
        // makes its rename fail after the other two are in place.
        fs::create_directory(w.paths()[0]);
        CHECK_THROWS_WITH_AS(w.commit(), doctest::Contains("cannot rename"), Error);
    }
    CHECK(dir.list() == std::vector<std::string>{"o-00001-of-00003.gguf"});  // the directory only
    CHECK(fs::is_directory(dir.path / "o-00001-of-00003.gguf"));
}

TEST_CASE("output shard names") {
    CHECK(output_shard_paths("m.gguf", 2) == std::vector<std::string>{"m-00001-of-00002.gguf", "m-00002-of-00002.gguf"});
    CHECK(output_shard_paths("d/m-00002-of-00002.gguf", 2) ==
          std::vector<std::string>{"d/m-00001-of-00002.gguf", "d/m-00002-of-00002.gguf"});
    CHECK(output_shard_paths("m-00002-of-00005.gguf", 2)[0] == "m-00002-of-00005-00001-of-00002.gguf");
    CHECK(output_shard_paths("out", 2)[1] == "out-00002-of-00002.gguf");
}
