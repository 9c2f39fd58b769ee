// gguf-hexdump's model (lib/src/hexdump_*.cpp): fields, decoded series, values, the header view.
//
// Expectations come from outside the code under test: the values from decode_blocks and from
// ggml's reference file, the scales from packing chosen values into a block by the documented
// layout (the inverse direction, written here), per-element codes from the formulas in the
// format comments, and header offsets from the bytes of the file.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bit_compare.h"
#include "fixtures.h"
#include "formats/float_bits.h"
#include "gguf_builder.h"
#include "formats/all.h"
#include "formats/decode.h"
#include "hexdump/hexdump.h"

using namespace gguftk;

namespace {

// A file holding one tensor of type t with `blocks` random blocks. `bytes` may be changed after
// parsing: the file views them.
struct RandomTensor {
    std::unique_ptr<std::vector<uint8_t>> buf;
    std::optional<GgufFile> f;
    const GgufFile& file() const { return *f; }
    uint8_t* data() { return buf->data() + f->tensors()[0].offset; }
};

RandomTensor random_tensor(const TypeInfo& t, uint64_t blocks, uint32_t seed) {
    test::SimpleGguf g = test::simple_gguf(
        {{"w", {t.block_elems * blocks}, static_cast<uint32_t>(t.type), t.block_bytes * blocks}});
    std::mt19937 rng(seed);
    for (uint64_t i = g.data_offsets[0]; i < g.data_offsets[0] + t.block_bytes * blocks; ++i)
        g.bytes[i] = static_cast<uint8_t>(rng());
    RandomTensor r;
    r.buf = std::make_unique<std::vector<uint8_t>>(std::move(g.bytes));
    r.f.emplace(GgufFile::parse(*r.buf, "random.gguf"));
    return r;
}

const Series* find_series(const BlockDump& b, std::string_view field, std::string_view series) {
    for (const FieldDump& f : b.fields)
        if (f.name == field)
            for (const Series& s : f.series)
                if (s.name == series) return &s;
    return nullptr;
}

// A per-element series' value for element e.
double at_element(const Series& s, uint32_t e) {
    for (size_t k = 0; k < s.elements.size(); ++k)
        if (s.elements[k] == e) return s.values[k];
    FAIL("element " << e << " not in series " << s.name);
    return 0;
}

float f16(uint16_t h) { return formats::fp16_to_f32(h); }
uint16_t u16(const std::vector<uint8_t>& b, size_t at) { return uint16_t(b[at] | b[at + 1] << 8); }

}  // namespace

TEST_CASE("fields tile every block of every type once, and the values are decode_blocks'") {
    for (const TypeInfo& t : all_types()) {
        INFO("type " << std::string(t.name));
        const RandomTensor r = random_tensor(t, 3, 7 + static_cast<uint32_t>(t.type));
        const TensorInfo& ti = r.file().tensors()[0];
        const std::vector<BlockDump> blocks = dump_blocks(r.file(), ti, 0, 3);
        REQUIRE(blocks.size() == 3);

        std::vector<float> want(t.block_elems * 3);
        if (has_decoder(t.type)) decode_blocks(t.type, r.file().data(ti).data(), 3, OutType::F32, want.data());
        for (const BlockDump& b : blocks) {
            INFO("block " << b.index);
            CHECK(b.offset == ti.offset + b.index * t.block_bytes);
            CHECK(b.bytes.size() == t.block_bytes);
            CHECK(std::memcmp(b.bytes.data(), r.file().bytes().data() + b.offset, t.block_bytes) == 0);
            // Every byte once: in order, no gap, no overlap, up to the end.
            uint32_t at = 0;
            for (const FieldDump& f : b.fields) {
                CHECK(f.offset == at);
                CHECK(f.size > 0);
                at = f.offset + f.size;
                CHECK(!f.series.empty());
                for (const Series& s : f.series) {
                    INFO("field " << f.name << " series " << s.name);
                    CHECK(!s.values.empty());
                    if (!s.elements.empty()) {  // one value per element, each element at most once
                        CHECK(s.elements.size() == s.values.size());
                        CHECK(std::set<uint32_t>(s.elements.begin(), s.elements.end()).size() == s.elements.size());
                        CHECK(*std::max_element(s.elements.begin(), s.elements.end()) < t.block_elems);
                        CHECK_FALSE(s.grouped);
                    }
                    if (s.grouped) CHECK(t.block_elems % s.values.size() == 0);
                }
            }
            CHECK(at == t.block_bytes);
            if (t.cls == TypeClass::Integer) {
                CHECK(b.is_integer);
                CHECK(b.values.empty());
                continue;
            }
            const std::vector<uint8_t> got(reinterpret_cast<const uint8_t*>(b.values.data()),
                                           reinterpret_cast<const uint8_t*>(b.values.data() + b.values.size()));
            // Pointers, not &want[i]: the last block's end is one past the vector's end.
            const std::vector<uint8_t> exp(reinterpret_cast<const uint8_t*>(want.data() + b.index * t.block_elems),
                                           reinterpret_cast<const uint8_t*>(want.data() + (b.index + 1) * t.block_elems));
            CHECK_MESSAGE(test::first_mismatch(got, exp, 4) == "", test::first_mismatch(got, exp, 4));
        }
    }
}

TEST_CASE("only the fields documented as unused by decoding are unused") {
    std::set<std::string> unused;
    for (const TypeInfo& t : all_types()) {
        const RandomTensor r = random_tensor(t, 1, 99);
        for (const FieldDump& f : dump_block(r.file(), r.file().tensors()[0], 0).fields)
            if (!f.used) {
                unused.insert(std::string(t.name) + "." + f.name);
                CHECK_MESSAGE(f.meaning.find("unused") != std::string::npos, t.name << "." << f.name);
            }
    }
    CHECK(unused == std::set<std::string>{"Q8_1.s", "Q8_K.bsums"});
}

TEST_CASE("every per-element code is where the format comment says it is") {
    for (uint32_t seed = 1; seed <= 20; ++seed) {
        {  // Q4_0: byte j: low nibble y[j], high nibble y[j+16]; y = (q - 8) * d
            const RandomTensor r = random_tensor(type_info(GgmlType::Q4_0), 1, seed);
            const BlockDump b = dump_block(r.file(), r.file().tensors()[0], 0);
            const Series* q = find_series(b, "qs", "nibbles");
            REQUIRE(q);
            for (uint32_t j = 0; j < 16; ++j) {
                CHECK(at_element(*q, j) == (b.bytes[2 + j] & 15));
                CHECK(at_element(*q, j + 16) == (b.bytes[2 + j] >> 4));
            }
        }
        {  // Q5_0: fifth bit of y[j] is bit j of the little-endian u32 qh
            const RandomTensor r = random_tensor(type_info(GgmlType::Q5_0), 1, seed);
            const BlockDump b = dump_block(r.file(), r.file().tensors()[0], 0);
            const Series* qh = find_series(b, "qh", "bits");
            REQUIRE(qh);
            uint32_t bits = 0;
            for (int i = 0; i < 4; ++i) bits |= uint32_t(b.bytes[2 + i]) << (8 * i);
            for (uint32_t j = 0; j < 32; ++j) CHECK(at_element(*qh, j) == ((bits >> j) & 1));
        }
        {  // Q6_K: q = ql | qh << 4, y = d * scale[e / 16] * (q - 32), the scale found by grouping
            const RandomTensor r = random_tensor(type_info(GgmlType::Q6_K), 1, seed);
            const BlockDump b = dump_block(r.file(), r.file().tensors()[0], 0);
            const Series* ql = find_series(b, "ql", "nibbles");
            const Series* qh = find_series(b, "qh", "crumbs");
            const Series* sc = find_series(b, "scales", "int8");
            REQUIRE((ql && qh && sc));
            CHECK(sc->grouped);
            const float d = f16(u16(b.bytes, 208));
            for (uint32_t e = 0; e < 256; ++e) {
                const int q = int(at_element(*ql, e)) | int(at_element(*qh, e)) << 4;
                const float y = d * float(sc->values[e / 16]) * float(q - 32);
                CHECK(std::memcmp(&y, &b.values[e], 4) == 0);
            }
        }
        {  // TQ1_0: y = trit * d
            const RandomTensor r = random_tensor(type_info(GgmlType::TQ1_0), 1, seed);
            const BlockDump b = dump_block(r.file(), r.file().tensors()[0], 0);
            const float d = f16(u16(b.bytes, 52));
            const Series* qs = find_series(b, "qs", "trits");
            const Series* qh = find_series(b, "qh", "trits");
            REQUIRE((qs && qh));
            CHECK(qs->values.size() == 240);
            CHECK(qh->values.size() == 16);
            for (uint32_t e = 0; e < 256; ++e) {
                const double t = e < 240 ? at_element(*qs, e) : at_element(*qh, e);
                CHECK((t == -1 || t == 0 || t == 1));
                const float y = float(t) * d;
                CHECK(std::memcmp(&y, &b.values[e], 4) == 0);
            }
        }
        {  // IQ2_S: sign bit j of signs[p] belongs to element 8p + j
            const RandomTensor r = random_tensor(type_info(GgmlType::IQ2_S), 1, seed);
            const BlockDump b = dump_block(r.file(), r.file().tensors()[0], 0);
            const Series* s = find_series(b, "signs", "signs");
            REQUIRE(s);
            for (uint32_t e = 0; e < 256; ++e) CHECK(at_element(*s, e) == ((b.bytes[34 + e / 8] >> (e % 8)) & 1));
            const float d = f16(u16(b.bytes, 0));  // y = d * scale * grid * sign: grid lanes are positive
            if (std::isfinite(d) && d != 0)
                for (uint32_t e = 0; e < 256; ++e)
                    CHECK(std::signbit(b.values[e]) == ((at_element(*s, e) == 1) != std::signbit(d)));
        }
    }
}

TEST_CASE("6-bit scales and mins are unpacked per sub-block as they were packed") {
    // Pack chosen values by the layout of kquants.h, written here in the packing direction.
    std::mt19937 rng(5);
    for (int trial = 0; trial < 50; ++trial) {
        int sc[8], mn[8];
        for (int i = 0; i < 8; ++i) sc[i] = int(rng() % 64), mn[i] = int(rng() % 64);
        uint8_t s[12] = {};
        for (int i = 0; i < 4; ++i) {
            s[i] = uint8_t(sc[i] | (sc[i + 4] >> 4) << 6);      // bits 6-7: high bits of sc[4..7]
            s[i + 4] = uint8_t(mn[i] | (mn[i + 4] >> 4) << 6);  // of m[4..7]
            s[i + 8] = uint8_t((sc[i + 4] & 15) | (mn[i + 4] & 15) << 4);
        }
        for (GgmlType type : {GgmlType::Q4_K, GgmlType::Q5_K}) {
            RandomTensor r = random_tensor(type_info(type), 1, trial);
            std::memcpy(r.data() + 4, s, 12);
            const BlockDump b = dump_block(r.file(), r.file().tensors()[0], 0);
            const Series* scales = find_series(b, "scales", "scales");
            const Series* mins = find_series(b, "scales", "mins");
            REQUIRE((scales && mins));
            for (int i = 0; i < 8; ++i) {
                CHECK(scales->values[i] == sc[i]);
                CHECK(mins->values[i] == mn[i]);
            }
            CHECK((scales->grouped && mins->grouped));
        }
        // Q3_K: 16 scales stored +32; low 4 bits in s[i % 8] (nibble i / 8), high 2 in s[8 + i % 4] at 2 * (i / 4).
        // Shown as stored (0..63), the value the formula's (sc - 32) reads.
        int q3[16];
        uint8_t s3[12] = {};
        for (int i = 0; i < 16; ++i) {
            q3[i] = int(rng() % 64);
            const int u = q3[i];
            s3[i % 8] |= uint8_t((u & 15) << (4 * (i / 8)));
            s3[8 + i % 4] |= uint8_t((u >> 4) << (2 * (i / 4)));
        }
        RandomTensor r = random_tensor(type_info(GgmlType::Q3_K), 1, trial);
        std::memcpy(r.data() + 96, s3, 12);
        const BlockDump b = dump_block(r.file(), r.file().tensors()[0], 0);
        const Series* scales = find_series(b, "scales", "scales");
        REQUIRE(scales);
        for (int i = 0; i < 16; ++i) CHECK(scales->values[i] == q3[i]);
    }
}

TEST_CASE("fixture blocks: values are exactly ggml's reference, fields tile, views render") {
    const GgufFile src = GgufFile::open(test::fixture("all-types.gguf"));
    const GgufFile ref = GgufFile::open(test::fixture("all-types.ref-f32.gguf"));
    int compared = 0;
    for (const TensorInfo& t : src.tensors()) {
        INFO("tensor " << t.name);
        for (uint64_t index : {uint64_t{0}, t.n_blocks() / 2, t.n_blocks() - 1}) {
            const BlockDump b = dump_block(src, t, index);
            const nlohmann::json j = nlohmann::json::parse(blocks_json({&b, 1}, false));
            CHECK(j["offset"] == b.offset);
            CHECK(j["fields"].size() == b.fields.size());
            const std::string text = render_block_text(b, false);
            CHECK(text.find(std::string(t.type->name)) != std::string::npos);
            CHECK(text.find('\x1b') == std::string::npos);
            CHECK(render_block_text(b, true).find("\x1b[") != std::string::npos);
            CHECK(render_block_markdown(b).find("| bytes | field | kind | meaning | hex | decoded |") != std::string::npos);
            if (t.type->cls == TypeClass::Integer) continue;
            const TensorInfo* r = ref.find_tensor(t.name);
            REQUIRE(r);
            const auto want = ref.data(*r).subspan(index * t.type->block_elems * 4, t.type->block_elems * 4);
            const std::span<const uint8_t> got(reinterpret_cast<const uint8_t*>(b.values.data()), b.values.size() * 4);
            CHECK_MESSAGE(test::first_mismatch(got, want, 4) == "", test::first_mismatch(got, want, 4));
            ++compared;
        }
    }
    CHECK(compared >= 3 * 30);
}

TEST_CASE("NVFP4's E4M3 and MXFP4's E8M0 scales are shown with their exponents") {
    for (int code = 0; code < 256; code += 4) {
        RandomTensor r = random_tensor(type_info(GgmlType::NVFP4), 1, uint32_t(code));
        for (int k = 0; k < 4; ++k) r.data()[k] = uint8_t(code + k);
        const BlockDump b = dump_block(r.file(), r.file().tensors()[0], 0);
        const Series* e = find_series(b, "d", "exponent");
        const Series* m = find_series(b, "d", "mantissa");
        const Series* s = find_series(b, "d", "scale");
        REQUIRE((e && m && s));
        for (int k = 0; k < 4; ++k) {
            const int byte = code + k, x = byte & 0x7f;  // bit 7 is not part of an unsigned E4M3
            INFO("code " << byte);
            CHECK(e->values[k] == (x >> 3));
            CHECK(m->values[k] == (x & 7));
            // ggml_ue4m3_to_fp32: the bytes 0 and 0x7f (the NaN code; not 0xff) are 0, exponent 0
            // is subnormal, the bias is 7.
            const double want = byte == 0 || byte == 0x7f ? 0
                                : x >> 3 == 0      ? std::ldexp(x & 7, -9)
                                                   : std::ldexp(1 + (x & 7) / 8.0, (x >> 3) - 7);
            CHECK(s->values[k] == want);
        }
    }
    for (int code : {0, 1, 2, 120, 127, 254, 255}) {
        RandomTensor r = random_tensor(type_info(GgmlType::MXFP4), 1, uint32_t(code));
        r.data()[0] = uint8_t(code);
        const BlockDump b = dump_block(r.file(), r.file().tensors()[0], 0);
        const Series* e = find_series(b, "e", "exponent");
        const Series* s = find_series(b, "e", "scale");
        REQUIRE((e && s));
        CHECK(e->values == std::vector<double>{double(code)});
        CHECK(s->values == std::vector<double>{std::ldexp(1.0, code - 127)});  // 2^(e - 127), 2^128 included
    }
}

TEST_CASE("IQ1_M's d is shown beside its scales, spelled by the top nibbles of the four words") {
    for (uint16_t d : {uint16_t{0x3c00}, uint16_t{0xbeef}, uint16_t{0x0001}, uint16_t{0x7bff}}) {
        RandomTensor r = random_tensor(type_info(GgmlType::IQ1_M), 1, d);
        const uint8_t at = uint8_t(formats::IQ1_M::at_scales);
        for (int k = 0; k < 4; ++k)  // nibble k of d, low first, atop word k; the 3-bit scales kept
            r.data()[at + 2 * k + 1] = uint8_t((r.data()[at + 2 * k + 1] & 0x0f) | ((d >> (4 * k)) & 0xf) << 4);
        const BlockDump b = dump_block(r.file(), r.file().tensors()[0], 0);
        const Series* got = find_series(b, "scales", "d");
        REQUIRE(got);
        CHECK(got->values == std::vector<double>{double(f16(d))});
    }
}

TEST_CASE("64-bit integer elements are exact in every view, past 2^53 and at the extremes") {
    const int64_t vals[] = {INT64_MAX, (int64_t{1} << 53) + 1, INT64_MIN, -1};
    RandomTensor r = random_tensor(type_info(GgmlType::I64), 4, 1);
    for (size_t i = 0; i < 4; ++i)
        for (int k = 0; k < 8; ++k) r.data()[8 * i + k] = uint8_t(uint64_t(vals[i]) >> (8 * k));
    for (const BlockDump& b : dump_blocks(r.file(), r.file().tensors()[0], 0, 4)) {
        const std::string want = std::to_string(vals[b.index]);
        INFO("element " << want);
        CHECK(b.int_value == vals[b.index]);
        // The field table's decoded cell ends its row: the text's, then the Markdown's.
        const std::string text = render_block_text(b, false);
        const size_t row = text.find("\n  0-7 ");
        REQUIRE(row != std::string::npos);
        CHECK(text.substr(row, text.find('\n', row + 1) - row).ends_with("  " + want));
        CHECK(render_block_markdown(b).find("` | " + want + " |\n") != std::string::npos);
        CHECK(nlohmann::json::parse(blocks_json({&b, 1}, false))["values"][0].get<int64_t>() == vals[b.index]);
    }
}

TEST_CASE("block index out of range and empty tensors are refused with the valid range") {
    const GgufFile src = GgufFile::open(test::fixture("all-types.gguf"));
    const TensorInfo& t = *src.find_tensor("q4_K.weight");
    CHECK_THROWS_WITH_AS(dump_block(src, t, 16), doctest::Contains("has 16 blocks (0..15)"), Error);
    CHECK_THROWS_WITH_AS(dump_blocks(src, t, 15, 2), doctest::Contains("blocks 15..16 out of range"), Error);
    CHECK_NOTHROW(dump_blocks(src, t, 14, 2));
    // A last block past 2^64 is not wrapped round to a small number.
    CHECK_THROWS_WITH_AS(dump_blocks(src, t, 3, UINT64_MAX),
                         doctest::Contains("18446744073709551615 blocks from block 3 out of range"), Error);
    CHECK_THROWS_WITH_AS(dump_blocks(src, t, UINT64_MAX, 2),
                         doctest::Contains("2 blocks from block 18446744073709551615 out of range"), Error);
    CHECK_THROWS_WITH_AS(dump_blocks(src, t, UINT64_MAX - 1, 2),
                         doctest::Contains("blocks 18446744073709551614..18446744073709551615 out of range"), Error);
    const test::SimpleGguf g = test::simple_gguf({{"empty", {0, 4}, 12, 0}});
    const GgufFile f = GgufFile::parse(g.bytes);
    CHECK_THROWS_WITH_AS(dump_block(f, f.tensors()[0], 0), doctest::Contains("no blocks"), Error);
}

TEST_CASE("a row's values are the block view's values, piece by piece, for every type") {
    for (const TypeInfo& t : all_types()) {
        INFO("type " << std::string(t.name));
        // Three rows of two blocks: random bytes, so NaN, infinities and the widest floats turn up.
        const uint64_t row_blocks = 2, rows = 3;
        test::SimpleGguf g = test::simple_gguf(
            {{"w", {t.block_elems * row_blocks, rows}, uint32_t(t.type), t.block_bytes * row_blocks * rows}});
        std::mt19937 rng(11 + uint32_t(t.type));
        for (uint64_t i = 0; i < t.block_bytes * row_blocks * rows; ++i)
            g.bytes[g.data_offsets[0] + i] = uint8_t(rng());
        const GgufFile f = GgufFile::parse(g.bytes);
        const TensorInfo& ti = f.tensors()[0];
        CHECK(n_rows(ti) == rows);
        const std::vector<BlockDump> blocks = dump_blocks(f, ti, row_blocks, row_blocks);  // row 1
        std::vector<float> got;
        std::vector<int64_t> ints;
        row_values(f, ti, RowSpan{1, 0, ti.ne[0]}, [&](const RowValues& v) {
            CHECK(v.first == got.size() + ints.size());
            got.insert(got.end(), v.values.begin(), v.values.end());
            ints.insert(ints.end(), v.ints.begin(), v.ints.end());
        });
        std::vector<float> want;
        for (const BlockDump& b : blocks) {
            want.insert(want.end(), b.values.begin(), b.values.end());
            if (b.is_integer) CHECK(ints[b.index - row_blocks] == b.int_value);
        }
        REQUIRE(got.size() == want.size());
        // Bit for bit (NaN included); empty for integer types, whose values are in `ints`.
        CHECK((want.empty() || std::memcmp(got.data(), want.data(), want.size() * sizeof(float)) == 0));
        std::string text;
        render_row_text(f, ti, RowSpan{1, 0, ti.ne[0]}, false, [&](std::string_view s) { text += s; });
        CHECK(text.starts_with("w row 1 of 3: "));
        size_t line_start = 0;
        for (size_t nl; (nl = text.find('\n', line_start)) != std::string::npos; line_start = nl + 1)
            CHECK(nl - line_start <= 80);
    }
}

TEST_CASE("elements: the flat index, row and column, the block, the higher indices") {
    const GgufFile f = GgufFile::open(test::fixture("all-types.gguf"));
    const TensorInfo& t = *f.find_tensor("q4_K.3d");  // 256 x 3 x 2: one block a row
    CHECK(n_rows(t) == 6);
    const ElementPlace p = place_element(f, t, 1500);
    CHECK((p.element == 1500 && p.row == 5 && p.column == 220 && p.block == 5 && p.in_block == 220));
    CHECK(p.higher == std::vector<uint64_t>{2, 1});
    const ElementPlace q = place_element(f, t, 5, 220);
    CHECK((q.element == 1500 && q.block == 5 && q.in_block == 220));
    const BlockDump b = dump_element_block(f, t, p);
    CHECK((b.index == 5 && b.marked && b.marked->element == 1500));
    CHECK(render_block_text(b, false)
              .starts_with("element 1500 is row 5 (i1=2, i2=1), column 220: element 220 of block 5\n"));
    // --at: ROW,COL, or NumPy's index (the shape reversed): w[1, 2, 220] is i2 = 1, i1 = 2, row 2 + 3 * 1.
    const uint64_t numpy[] = {1, 2, 220}, flat[] = {5, 220}, four[] = {0, 1, 2, 3}, past[] = {2, 0, 0};
    CHECK(place_at(f, t, numpy).element == 1500);
    CHECK(place_at(f, t, flat).element == 1500);
    CHECK_THROWS_WITH_AS(place_at(f, t, four), doctest::Contains("I2,I1,COL in NumPy's order"), Error);
    CHECK_THROWS_WITH_AS(place_at(f, t, past), doctest::Contains("i2 2 out of range"), Error);
    const TensorInfo& q8 = *f.find_tensor("q8_0.weight");  // 1024 x 4, blocks of 32
    CHECK(place_element(f, q8, 3, 1000).block == (3 * 1024 + 1000) / 32);
    CHECK(place_element(f, q8, 3, 1000).in_block == 8);
    CHECK(place_element(f, q8, 3, 1000).higher.empty());
    // Huge indices are refused, never wrapped round into the tensor.
    CHECK_THROWS_WITH_AS(place_element(f, t, UINT64_MAX), doctest::Contains("has 1536 elements (0..1535)"), Error);
    CHECK_THROWS_WITH_AS(place_element(f, t, UINT64_MAX, 0),
                         doctest::Contains("of shape 256 x 3 x 2 has 6 rows (0..5)"), Error);
    CHECK_THROWS_WITH_AS(place_element(f, t, 0, UINT64_MAX), doctest::Contains("has 256 columns (0..255)"), Error);
    const test::SimpleGguf g = test::simple_gguf({{"empty", {0, 4}, 12, 0}});
    const GgufFile e = GgufFile::parse(g.bytes);
    CHECK(n_rows(e.tensors()[0]) == 0);
    CHECK_THROWS_WITH_AS(place_element(e, e.tensors()[0], 0), doctest::Contains("has no elements"), Error);
    CHECK_THROWS_WITH_AS(row_span(e, e.tensors()[0], 0, {}), doctest::Contains("has no rows"), Error);
}

TEST_CASE("column slices parse as Python's and resolve against the row, clamped to it as Python does") {
    auto span = [](const char* text) {
        const GgufFile f = GgufFile::open(test::fixture("all-types.gguf"));
        const std::optional<ColumnSlice> c = parse_column_slice(text);
        REQUIRE(c);
        const RowSpan s = row_span(f, *f.find_tensor("q4_0.weight"), 2, *c);  // rows of 1024
        return std::pair{s.start, s.stop};
    };
    using Span = std::pair<uint64_t, uint64_t>;
    CHECK(span(":") == Span{0, 1024});
    CHECK(span("-8:") == Span{1016, 1024});
    CHECK(span(":-1") == Span{0, 1023});
    CHECK(span("+3:1024") == Span{3, 1024});
    CHECK(span("-1024:1") == Span{0, 1});
    // Python's list(range(1024))[A:B], worked out by hand: ends past the row are clamped to it.
    CHECK(span("1020:2000") == Span{1020, 1024});
    CHECK(span("0:1025") == Span{0, 1024});
    CHECK(span("-1025:") == Span{0, 1024});
    CHECK(span("-5000:-1020") == Span{0, 4});
    CHECK(span("-9223372036854775808:") == Span{0, 1024});
    CHECK(span("0:99999999999999999999999") == Span{0, 1024});   // past int64: Python clamps it all the same
    CHECK(span("-99999999999999999999999:2") == Span{0, 2});
    for (const char* bad : {"", "1", "a:", ":b", "1:2:3", "+-1:", "-+1:", "--1:", "-:", "+:", "1 :2", "0x1:", "1e3:"})
        CHECK_MESSAGE(!parse_column_slice(bad), bad);
    CHECK(parse_column_slice("-9223372036854775808:")->start == INT64_MIN);
    CHECK(parse_column_slice("9223372036854775808:")->start == INT64_MAX);
    CHECK(parse_column_slice(":-99999999999999999999999")->stop == INT64_MIN);
    // A slice holding no column is refused, naming the row's columns.
    CHECK_THROWS_WITH_AS(span("7:7"), doctest::Contains("columns 7:7 select no column"), Error);
    CHECK_THROWS_WITH_AS(span("8:-1020"), doctest::Contains("select no column"), Error);
    CHECK_THROWS_WITH_AS(span("1024:"), doctest::Contains("has 1024 columns (0..1023)"), Error);
    CHECK_THROWS_WITH_AS(span("99999999999999999999999:"), doctest::Contains("select no column"), Error);
    CHECK_THROWS_WITH_AS(span(":-1024"), doctest::Contains("select no column"), Error);
}

TEST_CASE("header dump: records tile the file, every field holds the bytes it names") {
    const GgufFile f = GgufFile::open(test::fixture("all-types.gguf"));
    const HeaderDump h = dump_header(f);
    const std::string streamed = header_json(h);  // written piece by piece: dump(2)'s layout exactly
    CHECK(streamed == nlohmann::ordered_json::parse(streamed).dump(2) + "\n");
    const auto bytes = f.bytes();
    auto u64 = [&](uint64_t at) {
        uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v |= uint64_t(bytes[at + i]) << (8 * i);
        return v;
    };
    uint64_t at = 0;
    auto walk = [&](const std::vector<HeaderField>& fs) {
        for (const HeaderField& x : fs) {
            INFO(x.name << " at " << x.offset);
            CHECK(x.offset == at);
            at += x.size;
            if (x.is == HeaderField::Is::Number && x.size == 8) CHECK(u64(x.offset) == x.number);
            if (x.is == HeaderField::Is::Number && x.size == 4) CHECK(uint32_t(u64(x.offset)) == x.number);
            if (x.is == HeaderField::Is::Text)
                CHECK(std::string(reinterpret_cast<const char*>(bytes.data() + x.offset), x.size) == x.text);
        }
    };
    walk(h.header);
    REQUIRE(h.n_metadata() == f.metadata().size());
    for (size_t i = 0; i < h.n_metadata(); ++i) {
        const HeaderRecord r = h.metadata_record(i);
        CHECK(r.offset == at);
        walk(r.fields);
        CHECK(at == r.offset + r.size);
    }
    REQUIRE(h.n_tensor_infos() == f.tensors().size());
    for (size_t i = 0; i < h.n_tensor_infos(); ++i) {
        const HeaderRecord r = h.tensor_info_record(i);
        CHECK(r.title == f.tensors()[i].name);
        CHECK(r.offset == at);
        walk(r.fields);
        CHECK(at == r.offset + r.size);
        // The stored offset is relative to the data section.
        CHECK(r.fields.back().number + f.data_offset() == f.tensors()[i].offset);
    }
    walk({h.padding, h.data});
    CHECK(at == f.file_size());
    CHECK(h.data.offset == f.data_offset());

    const nlohmann::json j = nlohmann::json::parse(header_json(h));
    CHECK(j["metadata"].size() == f.metadata().size());
    CHECK(j["metadata"][11]["fields"].back()["value"] == 18000000000000000000ull);  // fixture.u64, exact
    const std::string text = render_header_text(h, false);
    CHECK(text.find("\"h\\u{e9}llo") == std::string::npos);  // valid UTF-8 is shown as it is
    CHECK(text.find("héllo \\\"quoted\\\"\\ttab") != std::string::npos);
    CHECK(render_header_markdown(h).find("### Tensor info 39: q5\\_0.large") != std::string::npos);
}
