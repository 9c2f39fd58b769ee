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
#include "gguftk/decode.h"

using namespace gguftk;
using namespace gguftk::formats;

namespace {

// Random bytes, except that fp16 and fp32 fields hold small normal numbers, so that no
// infinity or NaN hides a value that was computed from the wrong bytes.
template <class F>
void fill_block(std::mt19937& rng, uint8_t* b) {
    for (int i = 0; i < F::block_bytes; ++i) b[i] = uint8_t(rng());
    for (const Field& f : F::fields) {
        if (f.kind == FieldKind::Fp16) {
            for (int i = 0; i < f.size; i += 2) {
                const uint16_t h = uint16_t(0x2c00 + rng() % 0x1000) | uint16_t(rng() & 0x8000);
                b[f.offset + i] = uint8_t(h);
                b[f.offset + i + 1] = uint8_t(h >> 8);
            }
        } else if (f.kind == FieldKind::Fp32) {
            const uint32_t u = 0x3c000000u + rng() % 0x1000000u;
            std::memcpy(b + f.offset, &u, 4);
        }
    }
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
