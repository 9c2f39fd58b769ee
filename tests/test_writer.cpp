// The GGUF header writer: what it writes, the reader reads back; and given the entries and
// tensors of a file ggml wrote, it writes the very bytes ggml wrote.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "fixtures.h"
#include "container/error.h"
#include "container/gguf.h"
#include "container/writer.h"

using namespace gguftk;

namespace {

Value scalar(ValueType t, uint64_t u = 0, int64_t i = 0, double f = 0, std::string s = {}) {
    Value v;
    v.type = t;
    v.u = u;
    v.i = i;
    v.f = f;
    v.s = std::move(s);
    return v;
}

Value array(ValueType elem, std::vector<Value> items) {
    Value v;
    v.type = ValueType::ARRAY;
    v.elem_type = elem;
    v.count = items.size();
    v.items = std::move(items);
    return v;
}

}  // namespace

TEST_CASE("what the writer writes, the reader reads back") {
    GgufHeaderWriter w(64);
    w.add_uint32("general.alignment", 64);
    w.add_string("general.architecture", "llama");
    w.add("u8", scalar(ValueType::UINT8, 200));
    w.add("i8", scalar(ValueType::INT8, 0, -100));
    w.add("u16", scalar(ValueType::UINT16, 60000));
    w.add("i16", scalar(ValueType::INT16, 0, -30000));
    w.add("i32", scalar(ValueType::INT32, 0, -2000000000));
    w.add("f32", scalar(ValueType::FLOAT32, 0, 0, 0.125));
    w.add("bool", scalar(ValueType::BOOL, 1));
    w.add("u64", scalar(ValueType::UINT64, 0xfedcba9876543210ull));
    w.add("i64", scalar(ValueType::INT64, 0, -(int64_t(1) << 62)));
    w.add("f64", scalar(ValueType::FLOAT64, 0, 0, -1.0e300));
    w.add("strings", array(ValueType::STRING, {scalar(ValueType::STRING, 0, 0, 0, "a"), scalar(ValueType::STRING, 0, 0, 0, "")}));
    w.add("nested", array(ValueType::ARRAY, {array(ValueType::INT32, {scalar(ValueType::INT32, 0, 7)}),
                                              array(ValueType::INT32, {})}));
    const uint64_t ne_a[] = {256, 3};
    const uint64_t ne_b[] = {5};
    const uint64_t ne_c[] = {32, 2, 2, 2};
    const uint64_t off_a = w.add_tensor("a", ne_a, GgmlType::Q4_K);
    const uint64_t off_b = w.add_tensor("b", ne_b, GgmlType::F32);
    const uint64_t off_c = w.add_tensor("c", ne_c, GgmlType::Q8_0);
    CHECK(off_a == 0);
    CHECK(off_b == 448);            // 3 * 144 = 432 bytes, padded to 64
    CHECK(off_c == 448 + 64);       // 20 bytes, padded
    CHECK(w.data_size() == 512 + 320);  // 8 blocks * 34 = 272, padded to 320
    CHECK(w.n_kv() == 14);
    CHECK(w.n_tensors() == 3);

    std::vector<uint8_t> file = w.finish();
    CHECK(file.size() % 64 == 0);
    const uint64_t head = file.size();
    file.resize(head + w.data_size(), 0);
    const GgufFile f = GgufFile::parse(file);

    CHECK(f.version() == 3);
    CHECK(f.alignment() == 64);
    CHECK(f.data_offset() == head);
    REQUIRE(f.metadata().size() == 14);
    auto val = [&](const char* key) { return f.value(*f.find_key(key)); };
    CHECK(f.get_string("general.architecture") == "llama");
    CHECK(val("u8").u == 200);
    CHECK(val("i8").i == -100);
    CHECK(val("u16").u == 60000);
    CHECK(val("i16").i == -30000);
    CHECK(val("i32").i == -2000000000);
    CHECK(val("f32").f == 0.125);
    CHECK(val("f32").type == ValueType::FLOAT32);
    CHECK(val("bool").u == 1);
    CHECK(val("u64").u == 0xfedcba9876543210ull);
    CHECK(val("i64").i == -(int64_t(1) << 62));
    CHECK(val("f64").f == -1.0e300);
    const Value s = val("strings");
    REQUIRE(s.items.size() == 2);
    CHECK(s.items[0].s == "a");
    CHECK(s.items[1].s.empty());
    const Value n = val("nested");
    REQUIRE(n.items.size() == 2);
    CHECK(n.items[0].items.at(0).i == 7);
    CHECK(n.items[1].count == 0);

    REQUIRE(f.tensors().size() == 3);
    const TensorInfo& a = f.tensors()[0];
    CHECK(a.name == "a");
    CHECK(a.type->type == GgmlType::Q4_K);
    CHECK(a.n_dims == 2);
    CHECK(a.ne[1] == 3);
    CHECK(a.offset == head + off_a);
    CHECK(f.tensors()[1].offset == head + off_b);
    CHECK(f.tensors()[2].offset == head + off_c);
    CHECK(f.tensors()[2].n_dims == 4);
}

TEST_CASE("copying the entries and tensor infos of ggml's file reproduces its header byte for byte") {
    const GgufFile in = GgufFile::open(test::fixture("all-types.gguf"));
    GgufHeaderWriter w(in.alignment());
    for (const KeyValue& kv : in.metadata()) w.add_raw(in.bytes().subspan(kv.offset, kv.end - kv.offset));
    for (const TensorInfo& t : in.tensors()) {
        const uint64_t rel = w.add_tensor(t.name, std::span(t.ne.data(), t.n_dims), t.type->type);
        CHECK(rel + in.data_offset() == t.offset);
    }
    const std::vector<uint8_t> head = w.finish();
    REQUIRE(head.size() == in.data_offset());
    CHECK(memcmp(head.data(), in.bytes().data(), head.size()) == 0);
    CHECK(head.size() + w.data_size() <= in.file_size());
}

TEST_CASE("the writer refuses what it cannot write faithfully") {
    CHECK_THROWS_AS(GgufHeaderWriter(0), Error);
    CHECK_THROWS_AS(GgufHeaderWriter(48), Error);
    GgufHeaderWriter w;
    const uint64_t five[] = {1, 1, 1, 1, 1};
    const uint64_t not_blocks[] = {100, 2};
    CHECK_THROWS_AS(w.add_tensor("x", std::span(five, 5), GgmlType::F32), Error);
    CHECK_THROWS_AS(w.add_tensor("x", std::span(five, 0), GgmlType::F32), Error);
    CHECK_THROWS_AS(w.add_tensor("x", not_blocks, GgmlType::Q4_K), Error);
    const uint64_t huge[] = {uint64_t(1) << 40, uint64_t(1) << 40};
    CHECK_THROWS_AS(w.add_tensor("x", huge, GgmlType::F32), Error);
    CHECK(w.n_tensors() == 0);
    Value bad;
    bad.type = ValueType(99);
    CHECK_THROWS_AS(w.add("k", bad), Error);
}
