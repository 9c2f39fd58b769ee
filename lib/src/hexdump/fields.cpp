// Reading a field's bytes by its kind: what gguf-hexdump shows in the "decoded" column.
//
// Most kinds are arrays of equal bit slices (nibbles, crumbs, bits, int8...), read least
// significant bit first from a little-endian record, the way ggml's decoders read them. A few
// IQ fields pack several things into one record (IQ2_XXS: four grid indices, four 7-bit sign
// indices and a scale in 8 bytes); their format descriptions spell those out as lists of
// slices (Field::packing), checked in tests against which outputs each bit changes. Scales6,
// Scales6Q3 and the ternary digits are read with the format's own helpers, and scales are
// converted with the decoders' own conversions, so nothing here is a second definition of a
// format.
#include <fmt/core.h>


#include "formats/all.h"
#include "detail.h"

namespace gguftk::hexdump_detail {
namespace {

using formats::Field;
using formats::FieldKind;
using formats::Packing;
using formats::Slice;

// The generic packing of a kind made of equal slices, or nullptr.
const Packing* kind_packing(FieldKind k) {
    static constexpr Packing kInt8{1, {{"int8", 8, 1, true}}};
    static constexpr Packing kInt16{2, {{"int16", 16, 1, true}}};
    static constexpr Packing kNibbles{1, {{"nibbles", 4, 2, false, false}}};
    static constexpr Packing kCrumbs{1, {{"crumbs", 2, 4, false, false}}};
    static constexpr Packing kBits{1, {{"bits", 1, 8, false, false}}};
    static constexpr Packing kScales4{1, {{"scales", 4, 2}}};
    static constexpr Packing kScales4Min4{1, {{"scales", 4}, {"mins", 4}}};
    switch (k) {
        case FieldKind::Int8: return &kInt8;
        case FieldKind::Int16: return &kInt16;
        case FieldKind::Nibbles: return &kNibbles;
        case FieldKind::Crumbs: return &kCrumbs;
        case FieldKind::Bits: case FieldKind::Signs: return &kBits;
        case FieldKind::Scales4: return &kScales4;
        case FieldKind::Scales4Min4: return &kScales4Min4;
        default: return nullptr;
    }
}

// Adds `v` to the series called `name`, creating it (and its bit record) on first use.
void put(DecodedField& d, const Slice& s, double v, uint32_t first_bit) {
    size_t i = 0;
    while (i < d.series.size() && d.series[i].name != s.series) ++i;
    if (i == d.series.size()) {
        d.series.push_back(Series{s.series, {}, true, {}, s.grouped});
        d.bits.push_back(SeriesBits{{}, s.bits});
    }
    d.series[i].values.push_back(v);
    d.bits[i].first.push_back(first_bit);
}

DecodedField unpack(const Packing& pk, const uint8_t* p, uint32_t size) {
    DecodedField d;
    for (uint32_t r = 0; r + pk.record_bytes <= size; r += pk.record_bytes) {
        uint64_t rec = 0;  // little-endian, as ggml loads its u16/u32 fields
        for (uint32_t i = 0; i < pk.record_bytes; ++i) rec |= uint64_t(p[r + i]) << (8 * i);
        uint32_t bit = 0;
        for (const Slice& s : pk.slices) {
            if (!s.series) break;
            for (int k = 0; k < s.repeat; ++k, bit += s.bits) {
                const uint64_t mask = s.bits == 64 ? ~uint64_t{0} : (uint64_t{1} << s.bits) - 1;
                uint64_t u = (rec >> bit) & mask;
                int64_t v = static_cast<int64_t>(u);
                if (s.is_signed && (u >> (s.bits - 1)) & 1) v -= int64_t{1} << s.bits;
                put(d, s, double(v), 8 * r + bit);
            }
        }
    }
    return d;
}

Series reals(const char* name, std::vector<double> v) { return Series{name, std::move(v), false, {}, true}; }
Series ints(const char* name, std::vector<double> v) { return Series{name, std::move(v), true, {}, true}; }

// Adds the fp16 that the nibbles of series j.from spell, first record lowest.
void join_fp16(DecodedField& d, const formats::Fp16FromNibbles& j) {
    uint16_t bits = 0;
    for (const Series& s : d.series) {
        if (s.name != j.from) continue;
        for (size_t k = 0; k < s.values.size() && k < 4; ++k) bits |= uint16_t(uint16_t(s.values[k]) << (4 * k));
    }
    d.series.push_back(reals(j.name, {formats::fp16_to_f32(bits)}));
    d.bits.emplace_back();
}

DecodedField one(Series s) {
    DecodedField d;
    d.series.push_back(std::move(s));
    d.bits.emplace_back();
    return d;
}

}  // namespace

std::string_view kind_name(FieldKind k) noexcept {
    switch (k) {
        case FieldKind::Fp16: return "fp16";
        case FieldKind::Fp32: return "fp32";
        // The plain wide floats' one field has always been shown as "raw" (its meaning says
        // which float): the kind column keeps the names the format docs explain.
        case FieldKind::Bf16: case FieldKind::Fp64: return "raw";
        case FieldKind::E8M0: return "e8m0";
        case FieldKind::UE4M3: return "ue4m3";
        case FieldKind::Int8: return "int8";
        case FieldKind::Int16: return "int16";
        case FieldKind::Nibbles: return "nibbles";
        case FieldKind::Crumbs: return "crumbs";
        case FieldKind::Bits: return "bits";
        case FieldKind::Trits5: case FieldKind::Trits4: return "trits";
        case FieldKind::Scales6: return "scales6";
        case FieldKind::Scales6Q3: return "scales6-q3";
        case FieldKind::Scales4Min4: return "scales4-min4";
        case FieldKind::Scales4: return "scales4";
        case FieldKind::GridIndex: return "grid-index";
        case FieldKind::Signs: return "signs";
        case FieldKind::Raw: return "raw";
    }
    return "raw";
}

DecodedField decode_field(const Field& f, const uint8_t* block) {
    using namespace formats;
    const uint8_t* p = block + f.offset;
    if (const Packing* pk = f.packing) {
        DecodedField d = unpack(*pk, p, f.size);
        if (pk->joined.from) join_fp16(d, pk->joined);
        return d;
    }
    if (const Packing* pk = kind_packing(f.kind)) return unpack(*pk, p, f.size);

    std::vector<double> v;
    switch (f.kind) {
        case FieldKind::Fp16:
            for (uint32_t k = 0; k + 2 <= f.size; k += 2) v.push_back(fp16_to_f32(load_u16(p + k)));
            return one(reals("fp16", std::move(v)));
        case FieldKind::Fp32:
            for (uint32_t k = 0; k + 4 <= f.size; k += 4) v.push_back(f32_from_bits(load_u32(p + k)));
            return one(reals("fp32", std::move(v)));
        case FieldKind::E8M0: {
            // The scale is 2^(e - 127); the decoder keeps it halved, and doubling is exact in double.
            DecodedField d = one(ints("exponent", {double(p[0])}));
            d.series.push_back(reals("scale", {2.0 * double(fp4::e8m0_to_f32_half(p[0]))}));
            d.bits.emplace_back();
            return d;
        }
        case FieldKind::UE4M3: {
            // Each byte: bit 7 unused, a 4-bit exponent (bias 7), a 3-bit mantissa; halved as for E8M0.
            std::vector<double> e, m;
            for (uint32_t k = 0; k < f.size; ++k) {
                e.push_back((p[k] >> 3) & 15);
                m.push_back(p[k] & 7);
                v.push_back(2.0 * double(fp4::ue4m3_to_f32_half(p[k])));
            }
            DecodedField d = one(ints("exponent", std::move(e)));
            for (Series s : {ints("mantissa", std::move(m)), reals("scale", std::move(v))}) {
                d.series.push_back(std::move(s));
                d.bits.emplace_back();
            }
            return d;
        }
        case FieldKind::Scales6: {
            std::vector<double> sc, m;
            for (int i = 0; i < 8; ++i) {
                int s = 0, mn = 0;
                k4_scale_min(p, i, s, mn);
                sc.push_back(s);
                m.push_back(mn);
            }
            DecodedField d = one(ints("scales", std::move(sc)));
            d.series.push_back(ints("mins", std::move(m)));
            d.bits.emplace_back();
            return d;
        }
        case FieldKind::Scales6Q3:
            for (int i = 0; i < 16; ++i) v.push_back(Q3_K::stored_scale(p, i));
            return one(ints("scales", std::move(v)));
        case FieldKind::Trits5: case FieldKind::Trits4: {
            const int digits = trits_per_byte(f.kind);
            for (uint32_t k = 0; k < f.size; ++k)
                for (int n = 0; n < digits; ++n) v.push_back(ternary::trit(p[k], n));
            DecodedField d = one(Series{"trits", std::move(v), true, {}, false});
            d.trits = true;
            return d;
        }
        case FieldKind::Bf16: return one(reals("bf16", {bf16_to_f32(load_u16(p))}));
        case FieldKind::Fp64: {
            const uint64_t u = uint64_t(load_u32(p)) | (uint64_t(load_u32(p + 4)) << 32);
            double x;
            std::memcpy(&x, &u, 8);
            return one(reals("f64", {x}));
        }
        default: break;
    }
    // Raw: bytes as they are.
    for (uint32_t k = 0; k < f.size; ++k) v.push_back(p[k]);
    return one(Series{"bytes", std::move(v), true, {}, false});
}

std::string float_text(double v) {
    // Reals here are floats widened, except E8M0's 2^128 and F64 values: print the float when
    // that is exact, for the shorter text.
    const float f = static_cast<float>(v);
    if (static_cast<double>(f) == v || v != v) return fmt::format("{}", f);
    return fmt::format("{}", v);
}


size_t text_width(std::string_view s) {
    size_t n = 0;
    for (char c : s) n += (c & 0xc0) != 0x80;
    return n;
}

std::string pad(std::string s, size_t w, bool right) {
    const size_t n = text_width(s);
    if (n >= w) return s;
    return right ? std::string(w - n, ' ') + s : s + std::string(w - n, ' ');
}

std::string series_text(const Series& s, size_t from, size_t max) {
    std::string out;
    for (size_t k = from; k < s.values.size() && k - from < max; ++k) {
        if (k > from) out += ' ';
        out += s.integer ? fmt::format("{}", static_cast<int64_t>(s.values[k])) : float_text(s.values[k]);
    }
    return out;
}

}  // namespace gguftk::hexdump_detail
