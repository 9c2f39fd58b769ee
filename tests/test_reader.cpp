// The reader on well-formed files: the ggml-written fixture, and files built by the test
// builder in both byte orders, with every value type and nested arrays.
//
// The fixture's expected tensor table is gguf-py's (GGUFReader 0.19, taught Q2_0's id 42, which
// its enum lacks). Two sizes differ from gguf-py on purpose: Q8_1 is 36 bytes per block in ggml
// (block_q8_1 holds two halves), gguf-py still says 40; the next tensor's offset in the file,
// written by ggml, confirms 36. The metadata values are the ones the fixture's generator wrote,
// as gguf-py reads them.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "fixtures.h"
#include "gguf_builder.h"
#include "container/gguf.h"

using namespace gguftk;
using namespace gguftk::test;

namespace {

struct Expected {
    const char* name;
    const char* type;
    std::vector<uint64_t> shape;
    uint64_t offset;
    uint64_t size;
};

const std::vector<Expected> kFixtureTensors = {
    {"f32.weight", "F32", {1024, 4}, 2784, 16384},
    {"f16.weight", "F16", {1024, 4}, 19168, 8192},
    {"q4_0.weight", "Q4_0", {1024, 4}, 27360, 2304},
    {"q4_1.weight", "Q4_1", {1024, 4}, 29664, 2560},
    {"q5_0.weight", "Q5_0", {1024, 4}, 32224, 2816},
    {"q5_1.weight", "Q5_1", {1024, 4}, 35040, 3072},
    {"q8_0.weight", "Q8_0", {1024, 4}, 38112, 4352},
    {"q8_1.weight", "Q8_1", {1024, 4}, 42464, 4608},  // gguf-py: 5120 (stale 40-byte block)
    {"q2_K.weight", "Q2_K", {1024, 4}, 47072, 1344},
    {"q3_K.weight", "Q3_K", {1024, 4}, 48416, 1760},
    {"q4_K.weight", "Q4_K", {1024, 4}, 50176, 2304},
    {"q5_K.weight", "Q5_K", {1024, 4}, 52480, 2816},
    {"q6_K.weight", "Q6_K", {1024, 4}, 55296, 3360},
    {"q8_K.weight", "Q8_K", {1024, 4}, 58656, 4672},
    {"iq2_xxs.weight", "IQ2_XXS", {1024, 4}, 63328, 1056},
    {"iq2_xs.weight", "IQ2_XS", {1024, 4}, 64384, 1184},
    {"iq3_xxs.weight", "IQ3_XXS", {1024, 4}, 65568, 1568},
    {"iq1_s.weight", "IQ1_S", {1024, 4}, 67136, 800},
    {"iq4_nl.weight", "IQ4_NL", {1024, 4}, 67936, 2304},
    {"iq3_s.weight", "IQ3_S", {1024, 4}, 70240, 1760},
    {"iq2_s.weight", "IQ2_S", {1024, 4}, 72000, 1312},
    {"iq4_xs.weight", "IQ4_XS", {1024, 4}, 73312, 2176},
    {"i8.weight", "I8", {1024, 4}, 75488, 4096},
    {"i16.weight", "I16", {1024, 4}, 79584, 8192},
    {"i32.weight", "I32", {1024, 4}, 87776, 16384},
    {"i64.weight", "I64", {1024, 4}, 104160, 32768},
    {"f64.weight", "F64", {1024, 4}, 136928, 32768},
    {"iq1_m.weight", "IQ1_M", {1024, 4}, 169696, 896},
    {"bf16.weight", "BF16", {1024, 4}, 170592, 8192},
    {"tq1_0.weight", "TQ1_0", {1024, 4}, 178784, 864},
    {"tq2_0.weight", "TQ2_0", {1024, 4}, 179648, 1056},
    {"mxfp4.weight", "MXFP4", {1024, 4}, 180704, 2176},
    {"nvfp4.weight", "NVFP4", {1024, 4}, 182880, 2304},
    {"q1_0.weight", "Q1_0", {1024, 4}, 185184, 576},
    {"q2_0.weight", "Q2_0", {1024, 4}, 185760, 1152},
    {"q4_K.3d", "Q4_K", {256, 3, 2}, 186912, 864},
    {"q8_0.4d", "Q8_0", {32, 2, 2, 2}, 187776, 272},
    {"f32.1d", "F32", {1024}, 188064, 4096},
    {"q6_K.zero_row", "Q6_K", {256, 2}, 192160, 420},
    {"q5_0.large", "Q5_0", {64, 2}, 192608, 88},
};

const GgufFile& fixture() {
    static const GgufFile f = GgufFile::open(test::fixture("all-types.gguf"));
    return f;
}

Value value_of(const GgufFile& f, std::string_view key, uint64_t max_items = UINT64_MAX) {
    const KeyValue* kv = f.find_key(key);
    REQUIRE_MESSAGE(kv != nullptr, key);
    return f.value(*kv, max_items);
}

}  // namespace

TEST_CASE("fixture: header") {
    const GgufFile& f = fixture();
    CHECK(f.version() == 3);
    CHECK_FALSE(f.big_endian());
    CHECK(f.alignment() == 32);
    CHECK(f.data_offset() == 2784);  // gguf-py's data_offset
    CHECK(f.file_size() == 192704);
    CHECK(f.metadata().size() == 18);
    CHECK(f.tensors().size() == kFixtureTensors.size());
}

TEST_CASE("fixture: every tensor's type, shape, offset and size") {
    const GgufFile& f = fixture();
    REQUIRE(f.tensors().size() == kFixtureTensors.size());
    for (size_t i = 0; i < kFixtureTensors.size(); ++i) {
        const Expected& e = kFixtureTensors[i];
        const TensorInfo& t = f.tensors()[i];
        CAPTURE(e.name);
        CHECK(t.name == e.name);
        CHECK(t.type->name == e.type);
        REQUIRE(t.n_dims == e.shape.size());
        uint64_t n = 1;
        for (size_t d = 0; d < 4; ++d) {
            const uint64_t want = d < e.shape.size() ? e.shape[d] : 1;
            CHECK(t.ne[d] == want);
            n *= want;
        }
        CHECK(t.n_elements == n);
        CHECK(t.offset == e.offset);
        CHECK(t.size == e.size);
        CHECK(f.data(t).data() == f.bytes().data() + e.offset);
        CHECK(f.find_tensor(e.name) == &t);
    }
    CHECK(f.find_tensor("nope") == nullptr);
}

TEST_CASE("fixture: every metadata value") {
    const GgufFile& f = fixture();
    const std::vector<std::pair<const char*, ValueType>> order = {
        {"general.architecture", ValueType::STRING}, {"general.name", ValueType::STRING},
        {"fixture.u8", ValueType::UINT8},            {"fixture.i8", ValueType::INT8},
        {"fixture.u16", ValueType::UINT16},          {"fixture.i16", ValueType::INT16},
        {"fixture.u32", ValueType::UINT32},          {"fixture.i32", ValueType::INT32},
        {"fixture.f32", ValueType::FLOAT32},         {"fixture.bool", ValueType::BOOL},
        {"fixture.string", ValueType::STRING},       {"fixture.u64", ValueType::UINT64},
        {"fixture.i64", ValueType::INT64},           {"fixture.f64", ValueType::FLOAT64},
        {"fixture.arr_i32", ValueType::ARRAY},       {"fixture.arr_f32", ValueType::ARRAY},
        {"fixture.arr_str", ValueType::ARRAY},       {"fixture.arr_empty", ValueType::ARRAY},
    };
    REQUIRE(f.metadata().size() == order.size());
    for (size_t i = 0; i < order.size(); ++i) {
        CHECK(f.metadata()[i].key == order[i].first);
        CHECK(f.metadata()[i].type == order[i].second);
    }
    CHECK(value_of(f, "general.architecture").s == "fixture");
    CHECK(value_of(f, "general.name").s == "every ggml type");
    CHECK(value_of(f, "fixture.u8").u == 200);
    CHECK(value_of(f, "fixture.i8").i == -100);
    CHECK(value_of(f, "fixture.u16").u == 60000);
    CHECK(value_of(f, "fixture.i16").i == -30000);
    CHECK(value_of(f, "fixture.u32").u == 4000000000u);
    CHECK(value_of(f, "fixture.i32").i == -2000000000);
    CHECK(value_of(f, "fixture.f32").f == 3.25);
    CHECK(value_of(f, "fixture.bool").u == 1);
    CHECK(value_of(f, "fixture.string").s == "h\xc3\xa9llo \"quoted\"\ttab");
    CHECK(value_of(f, "fixture.u64").u == 18000000000000000000ull);
    CHECK(value_of(f, "fixture.i64").i == -9000000000000000000ll);
    CHECK(value_of(f, "fixture.f64").f == 2.718281828459045);

    const Value ai = value_of(f, "fixture.arr_i32");
    CHECK(ai.elem_type == ValueType::INT32);
    REQUIRE(ai.count == 5);
    REQUIRE(ai.items.size() == 5);
    const int64_t want_i[] = {1, -2, 3, -4, 5};
    for (size_t k = 0; k < 5; ++k) CHECK(ai.items[k].i == want_i[k]);

    const Value af = value_of(f, "fixture.arr_f32");
    CHECK(af.elem_type == ValueType::FLOAT32);
    REQUIRE(af.items.size() == 3);
    CHECK(af.items[0].f == 0.5);
    CHECK(af.items[1].f == -1.5);
    CHECK(af.items[2].f == static_cast<double>(0.001f));

    const Value as = value_of(f, "fixture.arr_str");
    CHECK(as.elem_type == ValueType::STRING);
    REQUIRE(as.items.size() == 4);
    CHECK(as.items[0].s == "<s>");
    CHECK(as.items[1].s == "</s>");
    CHECK(as.items[2].s == "");
    CHECK(as.items[3].s == "\xe2\x96\x81the");  // U+2581 LOWER ONE EIGHTH BLOCK, as SentencePiece writes

    const Value ae = value_of(f, "fixture.arr_empty");
    CHECK(ae.count == 0);
    CHECK(ae.items.empty());

    CHECK(f.get_uint("fixture.u64") == 18000000000000000000ull);
    CHECK(f.get_uint("fixture.i8") == std::nullopt);  // negative
    CHECK(f.get_uint("fixture.string") == std::nullopt);
    CHECK(f.get_string("general.architecture") == "fixture");
    CHECK(f.get_string("fixture.u8") == std::nullopt);
    CHECK(f.get_uint("missing") == std::nullopt);
}

TEST_CASE("fixture: entries are located exactly") {
    const GgufFile& f = fixture();
    // The first entry starts right after the 24-byte header; each ends where the next begins.
    uint64_t at = 24;
    for (const KeyValue& kv : f.metadata()) {
        CHECK(kv.offset == at);
        CHECK(kv.value_offset == kv.offset + 8 + kv.key.size());
        at = kv.end;
    }
    CHECK(f.tensors().front().info_offset == at);
}

TEST_CASE("value(kv, max_items) shortens arrays but keeps the count") {
    const GgufFile& f = fixture();
    const Value v = value_of(f, "fixture.arr_str", 2);
    CHECK(v.count == 4);
    REQUIRE(v.items.size() == 2);
    CHECK(v.items[1].s == "</s>");
    CHECK(value_of(f, "fixture.arr_str", 0).items.empty());
}

namespace {

// Every value type once, plus nested arrays, in either byte order.
std::vector<uint8_t> all_values_file(bool big_endian) {
    GgufBuilder b(big_endian);
    b.header(3, 1, 16);
    b.kv("u8", vt::UINT8).u8(0xfe);
    b.kv("i8", vt::INT8).i8(-2);
    b.kv("u16", vt::UINT16).u16(0xbeef);
    b.kv("i16", vt::INT16).i16(-12345);
    b.kv("u32", vt::UINT32).u32(0xdeadbeef);
    b.kv("i32", vt::INT32).i32(-123456789);
    b.kv("f32", vt::FLOAT32).f32(-0.15625f);
    b.kv("bool", vt::BOOL).u8(1);
    b.kv("str", vt::STRING).str("bytes \x01\xff ok");
    b.kv("u64", vt::UINT64).u64(0x0123456789abcdefull);
    b.kv("i64", vt::INT64).i64(INT64_MIN);
    b.kv("f64", vt::FLOAT64).f64(1e300);
    b.kv("arr", vt::ARRAY).array(vt::UINT16, 3).u16(1).u16(2).u16(0xffff);
    // [[1, 2], [], [3]] of INT64
    b.kv("nested", vt::ARRAY).array(vt::ARRAY, 3);
    b.array(vt::INT64, 2).i64(1).i64(2).array(vt::INT64, 0).array(vt::INT64, 1).i64(3);
    b.kv("strs", vt::ARRAY).array(vt::STRING, 2).str("a").str("");
    b.kv("general.alignment", vt::UINT32).u32(64);
    b.tensor_info("w", {32, 3}, 8 /*Q8_0*/, 0);
    b.pad_to(64).zeros(3 * 34);
    return b.bytes();
}

}  // namespace

TEST_CASE("every value type, both byte orders") {
    for (bool be : {false, true}) {
        CAPTURE(be);
        const std::vector<uint8_t> bytes = all_values_file(be);
        const GgufFile f = GgufFile::parse(bytes);
        CHECK(f.big_endian() == be);
        CHECK(f.version() == 3);
        CHECK(f.alignment() == 64);
        CHECK(f.data_offset() % 64 == 0);
        CHECK(value_of(f, "u8").u == 0xfe);
        CHECK(value_of(f, "i8").i == -2);
        CHECK(value_of(f, "u16").u == 0xbeef);
        CHECK(value_of(f, "i16").i == -12345);
        CHECK(value_of(f, "u32").u == 0xdeadbeef);
        CHECK(value_of(f, "i32").i == -123456789);
        CHECK(value_of(f, "f32").f == -0.15625);
        CHECK(value_of(f, "bool").u == 1);
        CHECK(value_of(f, "str").s == std::string("bytes \x01\xff ok"));
        CHECK(value_of(f, "u64").u == 0x0123456789abcdefull);
        CHECK(value_of(f, "i64").i == INT64_MIN);
        CHECK(value_of(f, "f64").f == 1e300);
        const Value arr = value_of(f, "arr");
        REQUIRE(arr.items.size() == 3);
        CHECK(arr.items[2].u == 0xffff);
        const Value nested = value_of(f, "nested");
        CHECK(nested.elem_type == ValueType::ARRAY);
        REQUIRE(nested.items.size() == 3);
        CHECK(nested.items[0].elem_type == ValueType::INT64);
        REQUIRE(nested.items[0].items.size() == 2);
        CHECK(nested.items[0].items[1].i == 2);
        CHECK(nested.items[1].count == 0);
        REQUIRE(nested.items[2].items.size() == 1);
        CHECK(nested.items[2].items[0].i == 3);
        const Value shortened = value_of(f, "nested", 1);
        CHECK(shortened.count == 3);
        REQUIRE(shortened.items.size() == 1);
        CHECK(shortened.items[0].count == 2);
        CHECK(shortened.items[0].items.size() == 1);
        const Value strs = value_of(f, "strs");
        REQUIRE(strs.items.size() == 2);
        CHECK(strs.items[0].s == "a");
        REQUIRE(f.tensors().size() == 1);
        const TensorInfo& t = f.tensors()[0];
        CHECK(t.ne[0] == 32);
        CHECK(t.ne[1] == 3);
        CHECK(t.size == 3 * 34);
        CHECK(t.offset == f.data_offset());
        CHECK(value_type_name(f.find_key("nested")->elem_type) == "ARRAY");
    }
}

TEST_CASE("a big-endian file reads the same as its little-endian twin") {
    const std::vector<uint8_t> le = all_values_file(false), be = all_values_file(true);
    const GgufFile a = GgufFile::parse(le), b = GgufFile::parse(be);
    REQUIRE(a.metadata().size() == b.metadata().size());
    for (size_t i = 0; i < a.metadata().size(); ++i) {
        CHECK(a.metadata()[i].key == b.metadata()[i].key);
        CHECK(a.metadata()[i].offset == b.metadata()[i].offset);
        CHECK(a.metadata()[i].end == b.metadata()[i].end);
    }
    CHECK(a.tensors()[0].offset == b.tensors()[0].offset);
}

TEST_CASE("version 2 files read like version 3") {
    const SimpleGguf s = simple_gguf({{"t", {64}, 0 /*F32*/, 256}}, {}, 0, 32, false, 2);
    const GgufFile f = GgufFile::parse(s.bytes);
    CHECK(f.version() == 2);
    CHECK(f.tensors()[0].offset == s.data_offsets[0]);
}

TEST_CASE("empty tensors and files without tensors") {
    {
        GgufBuilder b;
        b.header(3, 0, 1).kv_str("general.name", "no tensors");  // no padding after: ggml accepts that
        const GgufFile f = GgufFile::parse(b.bytes());
        CHECK(f.tensors().empty());
        // 24-byte header, key (8 + 12), type 4, string (8 + 10): 66, rounded up to 32.
        CHECK(f.data_offset() == 96);
        CHECK(f.file_size() == 66);
    }
    {
        // ggml allows zero-sized dimensions (it only rejects negative ones): no elements, no bytes,
        // and an empty tensor overlaps nothing, even when it shares an offset.
        GgufBuilder b;
        b.header(3, 2, 0).tensor_info("empty", {0, 4}, 12 /*Q4_K*/, 0).tensor_info("x", {32}, 0, 0);
        b.pad_to(32).zeros(128);
        const GgufFile f = GgufFile::parse(b.bytes());
        CHECK(f.tensors()[0].n_elements == 0);
        CHECK(f.tensors()[0].size == 0);
        CHECK(f.tensors()[1].size == 128);
    }
}

TEST_CASE("the reader maps the file and touches no tensor data") {
    // A file whose data section is a hole: reading the header must not need it. (Checked by
    // parsing a file whose tensor data would be garbage; the reader never looks at it.)
    const SimpleGguf s = simple_gguf({{"a", {256, 2}, 12 /*Q4_K*/, 288}, {"b", {32}, 8 /*Q8_0*/, 34}});
    TempFile tmp(s.bytes);
    const GgufFile f = GgufFile::open(tmp.path());
    CHECK(f.path() == tmp.path());
    CHECK(f.file_size() == s.bytes.size());
    REQUIRE(f.tensors().size() == 2);
    CHECK(f.tensors()[1].offset == s.data_offsets[1]);
    CHECK(std::memcmp(f.data(f.tensors()[1]).data(), s.bytes.data() + s.data_offsets[1], 34) == 0);
}

TEST_CASE("open: missing file and directories are errors naming the file") {
    CHECK_THROWS_AS(GgufFile::open("/nonexistent/x.gguf"), Error);
    try {
        GgufFile::open("/");
        FAIL("a directory was accepted");
    } catch (const Error& e) {
        CHECK(e.file() == "/");
        CHECK(std::string(e.what()).find("not a regular file") != std::string::npos);
    }
}
