// THE bit-exactness test: every tensor of the all-types fixture, decoded by the library, must
// give exactly the bytes ggml's own dequantization wrote into the reference files - float32 in
// all-types.ref-f32.gguf, float16 (round to nearest even) in all-types.ref-f16.gguf. BF16
// output must be the round-to-nearest-even bfloat16 of ggml's float32 value.
//
// A type without a decoder makes this test fail, naming it; integer tensors must not decode.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "bit_compare.h"
#include "fixtures.h"
#include "formats/float_bits.h"
#include "formats/decode.h"
#include "container/gguf.h"

using namespace gguftk;

namespace {

std::vector<uint8_t> decode_tensor(const GgufFile& f, const TensorInfo& t, OutType out) {
    std::vector<uint8_t> y(t.n_elements * out_type_size(out));
    decode_blocks(t.type->type, f.data(t).data(), t.n_blocks(), out, y.data());
    return y;
}

std::span<const uint8_t> ref_bytes(const GgufFile& f, const TensorInfo& src, GgmlType want_type) {
    const TensorInfo* r = f.find_tensor(src.name);
    REQUIRE_MESSAGE(r != nullptr, src.name << " missing from " << f.path());
    REQUIRE(r->type->type == want_type);
    REQUIRE(r->n_elements == src.n_elements);
    REQUIRE(r->ne == src.ne);
    return f.data(*r);
}

}  // namespace

TEST_CASE("every type decodes to exactly ggml's float32, float16 and bfloat16 values") {
    const GgufFile src = GgufFile::open(test::fixture("all-types.gguf"));
    const GgufFile ref32 = GgufFile::open(test::fixture("all-types.ref-f32.gguf"));
    const GgufFile ref16 = GgufFile::open(test::fixture("all-types.ref-f16.gguf"));

    std::set<std::string> no_decoder, passed_types, seen_types;
    int compared = 0;
    for (const TensorInfo& t : src.tensors()) {
        const std::string type(t.type->name);
        seen_types.insert(type);
        INFO("tensor " << t.name << " (" << type << ")");
        if (t.type->cls == TypeClass::Integer) {
            CHECK_FALSE(has_decoder(t.type->type));
            CHECK(ref32.find_tensor(t.name) == nullptr);  // ggml has nothing to compare with either
            continue;
        }
        const auto want32 = ref_bytes(ref32, t, GgmlType::F32);
        const auto want16 = ref_bytes(ref16, t, GgmlType::F16);
        if (!has_decoder(t.type->type)) {
            no_decoder.insert(type);
            continue;
        }

        const auto got32 = decode_tensor(src, t, OutType::F32);
        const std::string bad32 = test::first_mismatch(got32, want32, 4);
        CHECK_MESSAGE(bad32.empty(), t.name << " (" << type << ") to f32: " << bad32);

        const auto got16 = decode_tensor(src, t, OutType::F16);
        const std::string bad16 = test::first_mismatch(got16, want16, 2);
        CHECK_MESSAGE(bad16.empty(), t.name << " (" << type << ") to f16: " << bad16);

        // bfloat16 has no ggml reference file: round ggml's float32 values by definition.
        std::vector<uint8_t> want_bf16(t.n_elements * 2);
        bool rounding_agrees = true;
        for (uint64_t i = 0; i < t.n_elements; ++i) {
            float v;
            std::memcpy(&v, want32.data() + 4 * i, 4);
            const uint16_t b = test::bf16_by_definition(v);
            rounding_agrees &= b == formats::f32_to_bf16(v);
            std::memcpy(want_bf16.data() + 2 * i, &b, 2);
        }
        CHECK_MESSAGE(rounding_agrees, "f32_to_bf16 differs from round-to-nearest-even on " << t.name);
        const auto gotbf = decode_tensor(src, t, OutType::BF16);
        const std::string badbf = test::first_mismatch(gotbf, want_bf16, 2);
        CHECK_MESSAGE(badbf.empty(), t.name << " (" << type << ") to bf16: " << badbf);

        if (bad32.empty() && bad16.empty() && badbf.empty()) passed_types.insert(type);
        ++compared;
    }

    std::string missing;
    for (const auto& n : no_decoder) missing += " " + n;
    CHECK_MESSAGE(no_decoder.empty(), "types with no decoder yet:" << missing);

    // The fixture holds every storage type, so this test covers them all.
    for (const TypeInfo& ti : all_types()) CHECK_MESSAGE(seen_types.count(std::string(ti.name)), ti.name);
    CHECK(compared >= 31);
    std::string ok;
    for (const auto& n : passed_types) ok += " " + n;
    MESSAGE("byte-exact:" << ok);
}

TEST_CASE("decoding a tensor in pieces gives the bytes of decoding it whole") {
    // The conversion pipeline hands decode_blocks arbitrary runs of whole blocks.
    const GgufFile src = GgufFile::open(test::fixture("all-types.gguf"));
    for (const TensorInfo& t : src.tensors()) {
        if (!has_decoder(t.type->type)) continue;
        INFO("tensor " << t.name);
        const auto whole = decode_tensor(src, t, OutType::F16);
        std::vector<uint8_t> pieces(whole.size());
        const uint64_t n = t.n_blocks();
        const uint64_t bytes_out = uint64_t(t.type->block_elems) * 2;
        for (uint64_t b = 0, step = 1; b < n; b += step, step = step * 3 % 7 + 1) {
            const uint64_t k = std::min(step, n - b);
            decode_blocks(t.type->type, src.data(t).data() + b * t.type->block_bytes, k, OutType::F16,
                          pieces.data() + b * bytes_out);
        }
        CHECK(pieces == whole);
    }
}
