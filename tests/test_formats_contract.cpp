// The format contract of lib/formats/format.h, checked for every format that has a decoder:
// the description agrees with the type table, the fields tile the block, and decode_part
// writes exactly its own elements and depends on no other part (a GPU thread runs one alone).
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

template <class F>
void check_description() {
    const TypeInfo& info = type_info(F::type);
    INFO("type " << std::string(info.name));
    CHECK(uint32_t(F::block_elems) == info.block_elems);
    CHECK(uint32_t(F::block_bytes) == info.block_bytes);
    REQUIRE(F::part_elems > 0);
    CHECK(F::block_elems % F::part_elems == 0);
    CHECK(std::strlen(F::formula) > 0);

    std::vector<Field> fields(std::begin(F::fields), std::end(F::fields));
    std::sort(fields.begin(), fields.end(), [](const Field& a, const Field& b) { return a.offset < b.offset; });
    int at = 0;
    for (const Field& f : fields) {
        INFO("field " << f.name);
        CHECK(std::strlen(f.name) > 0);
        CHECK(std::strlen(f.meaning) > 0);
        CHECK(f.size > 0);
        CHECK(int(f.offset) == at);  // no gap, no overlap
        at = f.offset + f.size;
        switch (f.kind) {
            case FieldKind::Fp16:
            case FieldKind::Int16: CHECK(f.size % 2 == 0); break;
            case FieldKind::Fp32: CHECK(f.size % 4 == 0); break;
            default: break;
        }
    }
    CHECK(at == F::block_bytes);
}

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

TEST_CASE("every format description agrees with the type table and tiles its block") {
    int described = 0;
    for (const TypeInfo& t : all_types()) {
        visit_format(t.type, [&]<class F>() {
            check_description<F>();
            ++described;
        });
    }
    CHECK(described >= 16);  // at least the floats, legacy and k-quant families
}

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
