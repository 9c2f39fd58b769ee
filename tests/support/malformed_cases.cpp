#include "malformed_cases.h"

#include <string_view>
#include <tuple>

#include "gguf_builder.h"

namespace gguftk::test {
namespace {

constexpr uint32_t F32 = 0, Q4_2_REMOVED = 4, Q8_0 = 8, Q4_K = 12, Q4_0_4_4_REMOVED = 31;
constexpr uint64_t P62 = uint64_t{1} << 62, P63 = uint64_t{1} << 63;

// A valid file whose every field position is recorded, to cut or corrupt afterwards.
// The first key and string are long so that truncating inside them still leaves more bytes
// than the tensor and metadata counts need at minimum: the truncation, not the count, is found.
struct Base {
    GgufBuilder b;
    uint64_t kv0 = 0, kv0_value = 0;     // key length field; string length field of the value
    uint64_t kv1 = 0, kv1_value = 0;     // general.alignment: type field; u32 value
    uint64_t kv2_items = 0;              // first item of the array
    uint64_t t0 = 0, t0_dims = 0, t0_offset = 0;
    uint64_t t1 = 0, t1_offset = 0;
    uint64_t data = 0;
    std::string key0 = "long.key." + std::string(141, 'k');  // 150 bytes

    explicit Base(bool be = false) : b(be) {
        b.header(3, 2, 3);
        kv0 = b.size();
        b.kv(key0, vt::STRING);
        kv0_value = b.size();
        b.str(std::string(200, 'v'));
        b.kv("general.alignment", vt::UINT32);
        kv1 = b.size() - 4;
        kv1_value = b.size();
        b.u32(32);
        b.kv("arr", vt::ARRAY).array(vt::UINT32, 4);
        kv2_items = b.size();
        b.u32(1).u32(2).u32(3).u32(4);
        t0 = b.size();
        b.str("a");
        t0_dims = b.size();
        b.u32(2).u64(256).u64(2).u32(Q4_K);  // 2 blocks of 144 bytes
        t0_offset = b.size();
        b.u64(0);
        t1 = b.size();
        b.tensor_info("b", {64}, F32, 288);
        t1_offset = b.size() - 8;
        b.pad_to(32);
        data = b.size();
        b.zeros(288 + 256);
    }
};

// A file with one tensor info written by `info` right after the header (n_tensors 1, no
// metadata: the info starts at offset 24), then 4 KiB of data.
template <class F>
std::vector<uint8_t> one_tensor(F info) {
    GgufBuilder b;
    b.header(3, 1, 0);
    info(b);
    b.pad_to(32).zeros(4096);
    return b.bytes();
}

}  // namespace

std::vector<MalformedCase> malformed_cases() {
    std::vector<MalformedCase> cs;
    auto add = [&](std::string name, std::vector<uint8_t> bytes, std::string what, uint64_t offset) {
        cs.push_back({std::move(name), std::move(bytes), std::move(what), offset});
    };
    const Base base;
    const GgufBuilder& bb = base.b;

    // --- truncation at every stage ---
    add("empty-file", {}, "truncated magic", 0);
    add("truncated-in-magic", bb.prefix(2), "truncated magic", 0);
    add("truncated-in-version", bb.prefix(6), "truncated version", 4);
    add("truncated-in-counts", bb.prefix(20), "truncated metadata count", 16);
    add("truncated-in-key", bb.prefix(base.kv0 + 8 + 100), "length 150 exceeds the 100 bytes left", base.kv0);
    add("truncated-in-value-type", bb.prefix(base.kv0_value - 2), "truncated value type", base.kv0_value - 4);
    add("truncated-in-string-value", bb.prefix(base.kv0_value + 8 + 150), "length 200 exceeds the 150 bytes left",
        base.kv0_value);
    add("truncated-in-scalar-value", bb.prefix(base.kv1_value + 2), "truncated value of 'general.alignment'",
        base.kv1_value);
    // An array cut short is caught by its count: 4 UINT32 items cannot fit in the 6 bytes left.
    add("truncated-in-array", bb.prefix(base.kv2_items + 6), "array 'arr' claims 4 UINT32 items but only 6 bytes",
        base.kv2_items - 8);
    add("truncated-in-tensor-info", bb.prefix(base.t0_dims + 4 + 8 + 3), "truncated tensor dimension",
        base.t0_dims + 12);
    add("truncated-before-data", bb.prefix(base.data), "tensor 'a': data [", base.t0_offset);
    add("truncated-in-tensor-data", bb.prefix(bb.size() - 10), "tensor 'b': data [", base.t1_offset);

    // --- counts and lengths against the bytes left ---
    {
        GgufBuilder b = bb;
        b.patch_u64(8, P63);
        add("tensor-count-2^63", b.bytes(), "tensor count 9223372036854775808 cannot fit", 8);
    }
    {
        GgufBuilder b = bb;
        b.patch_u64(16, P63);
        add("kv-count-2^63", b.bytes(), "metadata count 9223372036854775808 cannot fit", 16);
    }
    {
        GgufBuilder b = bb;
        b.patch_u64(base.kv0, P62);
        add("key-length-2^62", b.bytes(), "length 4611686018427387904 exceeds", base.kv0);
    }
    {
        GgufBuilder b = bb;
        b.patch_u64(base.kv0, bb.size() - base.kv0 - 8 + 1);  // one byte more than the file has
        add("key-length-past-eof", b.bytes(), "exceeds", base.kv0);
    }
    {
        GgufBuilder b = bb;
        b.patch_u64(base.kv0_value, P62);
        add("string-length-2^62", b.bytes(), "length 4611686018427387904 exceeds", base.kv0_value);
    }
    {
        GgufBuilder b = bb;
        b.patch_u64(base.kv2_items - 8, P62);
        add("array-length-2^62", b.bytes(), "array 'arr' claims 4611686018427387904 UINT32 items", base.kv2_items - 8);
    }
    {
        GgufBuilder b;
        b.header(3, 0, 1).kv("strs", vt::ARRAY).array(vt::STRING, P62).str("x");
        add("string-array-length-2^62", b.bytes(), "claims 4611686018427387904 STRING items", 24 + 12 + 4 + 4);
    }
    {
        GgufBuilder b = bb;
        b.patch_u32(base.kv2_items - 12, 13);
        add("array-element-type-unknown", b.bytes(), "array element type of 'arr' 13 is not a GGUF value type",
            base.kv2_items - 12);
    }
    {
        GgufBuilder b = bb;
        b.patch_u32(base.kv0_value - 4, 13);
        add("value-type-13", b.bytes(), "13 is not a GGUF value type", base.kv0_value - 4);
    }
    {
        GgufBuilder b = bb;
        b.patch_u32(base.kv0_value - 4, 0xffffffff);
        add("value-type-2^32-1", b.bytes(), "4294967295 is not a GGUF value type", base.kv0_value - 4);
    }
    {
        GgufBuilder b;
        b.header(3, 0, 1).kv("deep", vt::ARRAY);
        for (int i = 0; i < 9; ++i) b.array(vt::ARRAY, 1);
        b.array(vt::UINT8, 0);
        add("arrays-nested-too-deep", b.bytes(), "nests arrays deeper than", 24 + 12 + 4 + 8 * 12);
    }
    {
        GgufBuilder d;
        d.header(3, 0, 2).kv_u32("k", 1);
        const uint64_t second = d.size();
        d.kv_u32("k", 2);
        add("duplicate-key", d.bytes(), "duplicate key 'k' (first at offset 24)", second);
    }

    // --- tensor infos ---
    constexpr uint64_t at = 24;  // one_tensor's info; its name "t" takes 9 bytes
    add("n-dims-5",
        one_tensor([](GgufBuilder& b) { b.str("t").u32(5).u64(32).u64(1).u64(1).u64(1).u64(1).u32(F32).u64(0); }),
        "tensor 't': n_dims 5 is not in 1..4", at + 9);
    add("n-dims-2^32-1",
        one_tensor([](GgufBuilder& b) { b.str("t").u32(0xffffffff).u64(32).u32(F32).u64(0); }),
        "n_dims 4294967295 is not in 1..4", at + 9);
    add("n-dims-0", one_tensor([](GgufBuilder& b) { b.str("t").u32(0).u32(F32).u64(0); }),
        "n_dims 0 is not in 1..4", at + 9);
    add("dims-product-overflow",
        one_tensor([](GgufBuilder& b) { b.tensor_info("t", {(1ull << 42) + 1, (1ull << 42) + 1}, F32, 0); }),
        "has more than 2^63-1 elements", at + 13);
    add("dims-product-2^64",
        one_tensor([](GgufBuilder& b) { b.tensor_info("t", {1ull << 32, 1ull << 16, 1ull << 16}, Q8_0, 0); }),
        "has more than 2^63-1 elements", at + 13);
    add("dim-above-int64",
        one_tensor([](GgufBuilder& b) { b.tensor_info("t", {32, P63}, F32, 0); }),
        "dimension 1 is 9223372036854775808, above 2^63-1", at + 13 + 8);
    add("type-unknown", one_tensor([](GgufBuilder& b) { b.tensor_info("t", {32}, 43, 0); }),
        "tensor 't': unknown type 43", at + 21);
    add("type-2^32-1", one_tensor([](GgufBuilder& b) { b.tensor_info("t", {32}, 0xffffffff, 0); }),
        "unknown type 4294967295", at + 21);
    add("type-removed-4", one_tensor([](GgufBuilder& b) { b.tensor_info("t", {32}, Q4_2_REMOVED, 0); }),
        "tensor 't': type 4 (Q4_2) was removed from ggml", at + 21);
    add("type-removed-31",
        one_tensor([](GgufBuilder& b) { b.tensor_info("t", {32}, Q4_0_4_4_REMOVED, 0); }),
        "type 31 (Q4_0_4_4) was removed from ggml", at + 21);
    add("row-not-multiple-of-block",
        one_tensor([](GgufBuilder& b) { b.tensor_info("t", {100, 2}, Q4_K, 0); }),
        "row length 100 is not a multiple of Q4_K's block of 256", at + 13);
    add("offset-misaligned", one_tensor([](GgufBuilder& b) { b.tensor_info("t", {32}, F32, 16); }),
        "data offset 16 is not a multiple of the alignment 32", at + 25);
    add("offset-past-eof",
        one_tensor([](GgufBuilder& b) { b.tensor_info("t", {32}, F32, uint64_t{1} << 40); }),
        "extends past the end of the file", at + 25);
    add("offset-wraps",
        one_tensor([](GgufBuilder& b) { b.tensor_info("t", {32}, F32, ~uint64_t{0} - 31); }),
        "wraps around", at + 25);
    add("size-past-eof",
        one_tensor([](GgufBuilder& b) { b.tensor_info("t", {1024, 1024}, F32, 0); }),
        "extends past the end of the file", at + 33);
    {
        GgufBuilder b;
        b.header(3, 2, 0).tensor_info("a", {64}, F32, 0);
        const uint64_t second = b.size();
        b.tensor_info("b", {32}, F32, 128);  // a is 256 bytes at 0: b starts inside it
        b.pad_to(32).zeros(512);
        add("offsets-overlap", b.bytes(), "tensor 'b': data [", second + 25);
    }
    {
        GgufBuilder b;
        b.header(3, 2, 0).tensor_info("a", {32}, F32, 0);
        const uint64_t second = b.size();
        b.tensor_info("a", {32}, F32, 128);
        b.pad_to(32).zeros(512);
        add("duplicate-tensor-name", b.bytes(), "duplicate tensor name 'a' (first at offset 24)", second);
    }
    {
        // Names in errors are escaped: a file cannot recolour the terminal through an error line.
        GgufBuilder b;
        b.header(3, 2, 0).tensor_info("\x1b[31mred\n", {32}, F32, 0);
        const uint64_t second = b.size();
        b.tensor_info("\x1b[31mred\n", {32}, F32, 128);
        b.pad_to(32).zeros(512);
        add("duplicate-tensor-name-with-escapes", b.bytes(), "duplicate tensor name '\\x1b[31mred\\n'", second);
    }

    // --- alignment ---
    for (auto [name, value, what] : {std::tuple{"alignment-0", 0u, "general.alignment 0 is not a power of two"},
                                    std::tuple{"alignment-3", 3u, "general.alignment 3 is not a power of two"},
                                    std::tuple{"alignment-2^31", 1u << 31, "general.alignment 2147483648 is larger"}}) {
        GgufBuilder b = bb;
        b.patch_u32(base.kv1_value, value);
        add(name, b.bytes(), what, base.kv1_value);
    }
    {
        GgufBuilder b;
        b.header(3, 0, 1).kv("general.alignment", vt::UINT64).u64(32);
        add("alignment-wrong-type", b.bytes(), "general.alignment must be UINT32, not UINT64", 24 + 8 + 17);
    }
    {
        GgufBuilder b;
        b.header(3, 0, 1).kv("general.alignment", vt::INT32).i32(32);
        add("alignment-int32", b.bytes(), "general.alignment must be UINT32, not INT32", 24 + 8 + 17);
    }

    // --- header ---
    {
        GgufBuilder b = bb;
        b.patch_u32(4, 1);
        add("version-1", b.bytes(), "unsupported version 1", 4);
    }
    {
        GgufBuilder b = bb;
        b.patch_u32(4, 99);
        add("version-99", b.bytes(), "unsupported version 99", 4);
    }
    {
        GgufBuilder b = bb;
        b.patch_u32(0, 0x47554747);  // "GGUG"
        add("bad-magic", b.bytes(), "bad magic", 0);
    }
    {
        GgufBuilder b;
        b.header(3, 0, 0, "GGML").zeros(64);
        add("bad-magic-ggml", b.bytes(), "not a GGUF file", 0);
    }

    // --- big-endian files get the same checks, with their fields swapped ---
    {
        Base be(true);
        GgufBuilder b = be.b;
        b.patch_u64(16, P63);
        add("big-endian-kv-count-2^63", b.bytes(), "metadata count 9223372036854775808 cannot fit", 16);
    }
    {
        Base be(true);
        add("big-endian-truncated-in-tensor-data", be.b.prefix(be.b.size() - 1), "tensor 'b': data [", be.t1_offset);
    }
    return cs;
}

}  // namespace gguftk::test
