// A block of a tensor, field by field: the model behind gguf-hexdump's block views.
//
// Which element does a byte belong to? The format descriptions say it in words ("byte j holds
// y[j] (low) and y[j+16] (high)"); to say it per value without writing every layout a second
// time, we ask the decoder: flip each bit of a block, decode, and see which outputs change. A
// bit that only ever moves one output belongs to that element (a quant, a high bit, a sign);
// a bit that moves many is shared (a scale, a grid index). The blocks probed are random but
// for their scale fields, which are set to moderate values so that no change is absorbed by
// rounding or hidden by a zero, NaN or infinite scale; several blocks are probed and the
// changes pooled, so a zero sub-scale in one of them hides nothing.
#include <fmt/core.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "formats/all.h"
#include "formats/random_block.h"
#include "formats/decode.h"
#include "text/escape.h"
#include "hexdump/hexdump.h"
#include "detail.h"

namespace gguftk {
namespace {

using formats::Field;
using formats::FieldKind;
using hexdump_detail::DecodedField;

// For each bit of a block, the set of elements its flipping changed, in any probe.
class Reach {
public:
    Reach(uint32_t block_bytes, uint32_t block_elems)
        : elems_(block_elems), words_((block_elems + 63) / 64), sets_(size_t(block_bytes) * 8 * words_, 0) {}

    void add(uint32_t bit, uint32_t e) { sets_[size_t(bit) * words_ + e / 64] |= uint64_t{1} << (e % 64); }
    uint32_t count(uint32_t bit) const {
        uint32_t n = 0;
        for (uint32_t w = 0; w < words_; ++w) n += std::popcount(sets_[size_t(bit) * words_ + w]);
        return n;
    }
    std::vector<uint32_t> elements(uint32_t bit) const {
        std::vector<uint32_t> out;
        for (uint32_t e = 0; e < elems_; ++e)
            if (sets_[size_t(bit) * words_ + e / 64] >> (e % 64) & 1) out.push_back(e);
        return out;
    }
    // The one element bits [first, first + n) all change and nothing else does, or -1.
    int64_t owner(uint32_t first, uint32_t n) const {
        int64_t who = -1;
        for (uint32_t b = first; b < first + n; ++b) {
            if (count(b) != 1) return -1;
            const int64_t e = elements(b)[0];
            if (who >= 0 && e != who) return -1;
            who = e;
        }
        return who;
    }

private:
    uint32_t elems_, words_;
    std::vector<uint64_t> sets_;
};

uint64_t splitmix64(uint64_t& s) {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

template <class F>
Reach probe_reach() {
    constexpr int kProbes = 16;
    Reach reach(F::block_bytes, F::block_elems);
    uint64_t seed = 0x6767756674ull + uint64_t(F::type);  // fixed: the same answer every run
    uint8_t block[F::block_bytes];
    float base[F::block_elems], y[F::block_elems];
    for (int probe = 0; probe < kProbes; ++probe) {
        formats::random_block<F>(block, [&] { return splitmix64(seed); }, formats::moderate_scale);
        formats::decode_block<F>(block, base);
        for (uint32_t bit = 0; bit < uint32_t(F::block_bytes) * 8; ++bit) {
            block[bit / 8] ^= uint8_t(1u << (bit % 8));
            formats::decode_block<F>(block, y);
            block[bit / 8] ^= uint8_t(1u << (bit % 8));
            for (uint32_t e = 0; e < uint32_t(F::block_elems); ++e)
                if (std::memcmp(&y[e], &base[e], sizeof(float)) != 0) reach.add(bit, e);
        }
    }
    return reach;
}

FieldDump field_dump(const Field& f) {
    FieldDump d;
    d.name = f.name;
    d.kind = std::string(hexdump_detail::kind_name(f.kind));
    d.meaning = f.meaning;
    d.offset = f.offset;
    d.size = f.size;
    return d;
}

// For each series of field `f`, the element each value is about (from the bits it occupies), or
// nothing when the series is not per element.
std::vector<std::vector<uint32_t>> series_elements(const Field& f, const DecodedField& d, const Reach& reach) {
    std::vector<std::vector<uint32_t>> out(d.series.size());
    for (size_t i = 0; i < d.series.size(); ++i) {
        const Series& s = d.series[i];
        std::vector<uint32_t> owners;
        if (d.trits) {
            // A byte's digits, most significant first, are its elements in increasing order
            // (TQ1_0: element 32n + m is digit n of byte m); tests check this against the values.
            const size_t digits = s.values.size() / f.size;
            for (uint32_t byte = 0; byte < f.size; ++byte) {
                std::vector<uint32_t> all;
                for (uint32_t b = 0; b < 8; ++b)
                    for (uint32_t e : reach.elements(8 * (f.offset + byte) + b))
                        if (std::find(all.begin(), all.end(), e) == all.end()) all.push_back(e);
                std::sort(all.begin(), all.end());
                if (all.size() != digits) break;
                owners.insert(owners.end(), all.begin(), all.end());
            }
        } else if (d.bits[i].width > 0) {
            for (uint32_t first : d.bits[i].first) {
                const int64_t e = reach.owner(8 * f.offset + first, d.bits[i].width);
                if (e < 0) break;
                owners.push_back(uint32_t(e));
            }
        }
        if (owners.size() == s.values.size()) out[i] = std::move(owners);
    }
    return out;
}

// What does not change from block to block of a format: which fields decoding uses and which
// element each per-element value is about. decode_field gives every block the same series with
// the same bits, so this is worked out once, on a block of zeros.
struct FieldMap {
    bool used = false;
    std::vector<std::vector<uint32_t>> elements;  // per series
};

template <class F>
std::vector<FieldMap> field_maps(const Reach& reach) {
    const uint8_t zeros[F::block_bytes] = {};
    std::vector<FieldMap> maps;
    for (const Field& f : F::fields) {
        FieldMap m;
        for (uint32_t bit = 8 * f.offset; bit < 8u * (f.offset + f.size); ++bit) m.used = m.used || reach.count(bit) > 0;
        m.elements = series_elements(f, hexdump_detail::decode_field(f, zeros), reach);
        maps.push_back(std::move(m));
    }
    return maps;
}

template <class F>
FormatDump describe() {
    FormatDump d;
    d.type = &type_info(F::type);
    d.formula = F::formula;
    d.part_elems = F::part_elems;
    for (const Field& f : F::fields) d.fields.push_back(field_dump(f));
    std::sort(d.fields.begin(), d.fields.end(), [](const FieldDump& a, const FieldDump& b) { return a.offset < b.offset; });
    return d;
}

FormatDump describe_integer(const TypeInfo& t) {
    FormatDump d;
    d.type = &t;
    d.formula = "y = x (integer tensors are never converted)";
    d.part_elems = 1;
    FieldDump f;
    f.name = "value";
    f.kind = fmt::format("int{}", 8 * t.block_bytes);
    f.meaning = fmt::format("signed {}-bit integer, little-endian", 8 * t.block_bytes);
    f.size = t.block_bytes;
    d.fields.push_back(std::move(f));
    return d;
}

// The fields of block `p` of format F in byte order, each per-element series with its elements.
template <class F>
std::vector<FieldDump> format_fields(const uint8_t* p) {
    // Constant per format (a fixed seed), so computed once per process, like a lookup table.
    static const std::vector<FieldMap> maps = field_maps<F>(probe_reach<F>());
    std::vector<FieldDump> out;
    for (size_t i = 0; i < std::size(F::fields); ++i) {
        FieldDump fd = field_dump(F::fields[i]);
        fd.used = maps[i].used;
        fd.series = hexdump_detail::decode_field(F::fields[i], p).series;
        for (size_t k = 0; k < fd.series.size(); ++k) {
            if (maps[i].elements[k].empty()) continue;
            fd.series[k].elements = maps[i].elements[k];
            fd.series[k].grouped = false;
        }
        out.push_back(std::move(fd));
    }
    std::sort(out.begin(), out.end(), [](const FieldDump& a, const FieldDump& c) { return a.offset < c.offset; });
    return out;
}

// An integer type's block: its one element as it is.
void fill_integer(BlockDump& b, const uint8_t* p) {
    b.is_integer = true;
    b.int_value = hexdump_detail::load_int(p, uint32_t(b.bytes.size()));
    FieldDump fd = b.format.fields[0];
    fd.series.push_back(Series{"value", {double(b.int_value)}, true, {0}, false});
    b.fields.push_back(std::move(fd));
}

BlockPlace block_place(const TensorInfo& t, uint64_t index) {
    BlockPlace p;
    p.first = index * t.type->block_elems;  // inside the tensor: no overflow
    p.row = p.first / t.ne[0];              // ne[0] > 0: the tensor has a block
    p.column = p.first % t.ne[0];
    p.higher = hexdump_detail::higher_indices(t, p.row);
    return p;
}

}  // namespace

namespace hexdump_detail {

int64_t load_int(const uint8_t* p, uint32_t n) {
    uint64_t u = 0;
    for (uint32_t i = 0; i < n; ++i) u |= uint64_t(p[i]) << (8 * i);
    if (n < 8 && (u >> (8 * n - 1)) & 1) u |= ~uint64_t{0} << (8 * n);  // sign-extend
    return static_cast<int64_t>(u);
}

bool decode_values(const TypeInfo& t, std::span<const uint8_t> blocks, uint64_t count, std::vector<float>& out) {
    if (!has_decoder(t.type)) return false;
    out.resize(count * t.block_elems);
    decode_blocks(t.type, blocks.data(), count, OutType::F32, out.data());
    return true;
}

void refuse_big_endian(const GgufFile& f) {
    // Quantized blocks of a big-endian file have every field swapped, by rules ggml never wrote down.
    if (f.big_endian())
        throw Error("big-endian GGUF files are not supported for tensor data; convert it to little-endian first",
                    std::nullopt, f.path());
}

}  // namespace hexdump_detail

FormatDump describe_format(const TypeInfo& t) {
    FormatDump d;
    if (formats::visit_format(t.type, [&]<class F>() { d = describe<F>(); })) return d;
    if (t.cls == TypeClass::Integer) return describe_integer(t);
    throw Error(fmt::format("type {} has no format description", t.name));
}

void check_block_range(const GgufFile& f, const TensorInfo& t, uint64_t first, uint64_t count) {
    const uint64_t n = t.n_blocks();
    if (n == 0) throw ArgumentError(fmt::format("tensor {} is empty: it has no blocks", quoted_name(t.name)), std::nullopt, f.path());
    if (count == 0 || first >= n || count > n - first) {
        std::string which = fmt::format("block {}", first);
        if (count > 1)  // the last block's index may not fit in 64 bits: then the count says the range
            which = count - 1 <= UINT64_MAX - first ? fmt::format("blocks {}..{}", first, first + (count - 1))
                                                    : fmt::format("{} blocks from block {}", count, first);
        throw ArgumentError(fmt::format("{} out of range: tensor {} has {} block{} ({}..{})", which, quoted_name(t.name), n,
                                n == 1 ? "" : "s", 0, n - 1),
                    std::nullopt, f.path());
    }
}

std::vector<BlockDump> dump_blocks(const GgufFile& f, const TensorInfo& t, uint64_t first, uint64_t count) {
    check_block_range(f, t, first, count);
    hexdump_detail::refuse_big_endian(f);
    const FormatDump format = describe_format(*t.type);
    const uint32_t bytes = t.type->block_bytes, elems = t.type->block_elems;
    // The blocks' bytes, and no others: a remote file's are fetched in one read.
    std::vector<uint8_t> data(count * bytes);  // count <= blocks in the tensor: inside the file
    f.read(t.offset + first * bytes, data);
    std::vector<float> values;
    const bool decoded = hexdump_detail::decode_values(*t.type, data, count, values);
    std::vector<BlockDump> out;
    out.reserve(count);
    for (uint64_t k = 0; k < count; ++k) {
        BlockDump b;
        b.format = format;
        b.tensor = t.name;
        b.index = first + k;
        b.n_blocks = t.n_blocks();
        b.offset = t.offset + (first + k) * bytes;
        b.place = block_place(t, first + k);
        const uint8_t* p = data.data() + k * bytes;
        b.bytes.assign(p, p + bytes);
        if (decoded) {
            b.values.assign(values.begin() + k * elems, values.begin() + (k + 1) * elems);
            formats::visit_format(t.type->type, [&]<class F>() { b.fields = format_fields<F>(p); });
        } else {
            fill_integer(b, p);
        }
        out.push_back(std::move(b));
    }
    return out;
}

BlockDump dump_block(const GgufFile& f, const TensorInfo& t, uint64_t index) {
    return std::move(dump_blocks(f, t, index, 1).front());
}

}  // namespace gguftk
