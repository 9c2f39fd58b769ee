// The format contract of lib/formats/format.h, for every format that has a decoder: decode_part
// writes exactly its own elements and depends on no other part (a GPU thread runs one alone).
// The rest of the contract (the fields tile the block, parts divide it, the type table is made
// from the descriptions) is checked when lib/formats/all.h compiles.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "formats/all.h"
#include "formats/random_block.h"
#include "formats/decode.h"

using namespace gguftk;
using namespace gguftk::formats;

namespace {

// Random bytes, except that fp16 and fp32 scales (and values) are small normal numbers, so
// that no infinity or NaN hides a value that was computed from the wrong bytes.
template <class F>
void fill_block(std::mt19937& rng, uint8_t* b) {
    random_block<F>(b, rng, [&](FieldKind kind, uint64_t bits) -> uint64_t {
        switch (kind) {
            case FieldKind::Fp16: {
                const uint32_t magnitude = rng();  // drawn before the sign, in this order
                return uint16_t(0x2c00 + magnitude % 0x1000) | uint16_t(rng() & 0x8000);
            }
            case FieldKind::Fp32: return 0x3c000000u + rng() % 0x1000000u;
            default: return bits;
        }
    });
}

template <class F>
void check_parts() {
    INFO("type " << std::string(type_info(F::type).name));
    std::mt19937 rng(uint32_t(F::type) + 1);
    constexpr uint32_t kGuard = 0x7fa5a5a5u;  // a signalling NaN no decoder produces
    for (int trial = 0; trial < 20; ++trial) {
        // An odd address: blocks in a file have no alignment.
        std::vector<uint8_t> storage(F::block_bytes + 1);
        uint8_t* block = storage.data() + 1;
        fill_block<F>(rng, block);

        std::vector<float> whole(F::block_elems);
        decode_block<F>(block, whole.data());

        // Each part on its own, last first, into a buffer guarded on both sides.
        std::vector<uint32_t> buf(F::block_elems + 2 * F::part_elems, kGuard);
        for (int p = parts_per_block<F> - 1; p >= 0; --p) {
            float y[F::part_elems + 2];
            uint32_t guard_bits[F::part_elems + 2];
            std::fill(std::begin(guard_bits), std::end(guard_bits), kGuard);
            std::memcpy(y, guard_bits, sizeof y);
            F::decode_part(block, p, y + 1);
            uint32_t out[F::part_elems + 2];
            std::memcpy(out, y, sizeof y);
            INFO("part " << p);
            CHECK(out[0] == kGuard);
            CHECK(out[F::part_elems + 1] == kGuard);
            for (int i = 0; i < F::part_elems; ++i) {
                CHECK(out[i + 1] != kGuard);
                buf[F::part_elems + p * F::part_elems + i] = out[i + 1];
            }
        }
        CHECK(std::memcmp(buf.data() + F::part_elems, whole.data(), whole.size() * 4) == 0);

        // The library's block loop gives the same values from the same unaligned bytes.
        std::vector<float> lib(F::block_elems);
        decode_blocks(F::type, block, 1, OutType::F32, lib.data());
        CHECK(std::memcmp(lib.data(), whole.data(), whole.size() * 4) == 0);
    }
}

}  // namespace

TEST_CASE("decode_part writes exactly its part, independently of the other parts") {
    for (const TypeInfo& t : all_types()) {
        visit_format(t.type, [&]<class F>() { check_parts<F>(); });
    }
}

TEST_CASE("integer types have no decoder; float and quantized types of the done families do") {
    for (const TypeInfo& t : all_types()) {
        INFO("type " << std::string(t.name));
        if (t.cls == TypeClass::Integer) CHECK_FALSE(has_decoder(t.type));
    }
    for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::F64, GgmlType::Q4_0, GgmlType::Q4_1,
                       GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q8_1, GgmlType::Q2_K, GgmlType::Q3_K,
                       GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_K}) {
        CHECK(has_decoder(t));
    }
    uint8_t byte = 0;
    float out = 0;
    CHECK_THROWS(decode_blocks(GgmlType::I8, &byte, 1, OutType::F32, &out));
}

namespace {

// random_block sets exactly the numbers of the block that are scales or values (the float-kind
// fields, and a scale spread over other fields' bits), each to what the caller returned for it,
// and leaves every other byte as drawn.
template <class F>
void check_random_block_scales() {
    INFO("type " << std::string(type_info(F::type).name));
    uint8_t b[F::block_bytes];
    int calls = 0;
    random_block<F>(b, [] { return 0xa5u; }, [&](FieldKind k, uint64_t bits) {
        ++calls;
        const int w = float_kind_bytes(k);
        return ~bits & (w == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * w)) - 1);  // every bit flipped
    });
    uint8_t want[F::block_bytes];
    std::fill(std::begin(want), std::end(want), uint8_t(0xa5));
    int numbers = 0;
    for (const Field& f : F::fields) {
        const int w = float_kind_bytes(f.kind);
        if (w == 0) continue;
        numbers += f.size / w;
        std::fill(want + f.offset, want + f.offset + f.size, uint8_t(0x5a));
    }
    if constexpr (HasSpreadScale<F>) {
        ++numbers;
        CHECK(F::d_bits(b) == uint16_t(~F::d_bits(want)));
        F::set_d_bits(want, uint16_t(~F::d_bits(want)));
    }
    CHECK(calls == numbers);
    CHECK(std::memcmp(b, want, sizeof b) == 0);
}

}  // namespace

TEST_CASE("random blocks: the scales set are the format's float fields and IQ1_M's spread d") {
    for (const TypeInfo& t : all_types()) visit_format(t.type, [&]<class F>() { check_random_block_scales<F>(); });
    // The one format whose scale is no field of its own, and one whose scales all are.
    static_assert(HasSpreadScale<IQ1_M> && !HasSpreadScale<Q4_K>);
}
