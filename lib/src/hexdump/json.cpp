// The JSON views of gguf-hexdump: blocks, format descriptions and the container header.
//
// Floats are written as the shortest decimal that reads back to the same double; every value
// here is a float32 (or, for F64 fields, a double) held exactly in a double, so a reader gets
// the very bits back. JSON has no NaN or infinity: those are the strings "NaN", "Infinity" and
// "-Infinity" (the hex beside them keeps the exact bits, NaN payload included).
// Strings from the file go through to_valid_utf8: bytes that are not UTF-8 become U+FFFD.
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>

#include "text/escape.h"
#include "hexdump/hexdump.h"
#include "detail.h"
#include "text/json_stream.h"
#include "text/json_text.h"

namespace gguftk {
namespace {

ojson real(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
    return v;
}

ojson series_json(const Series& s) {
    ojson a = ojson::array();
    for (double v : s.values) a.push_back(s.integer ? ojson(static_cast<int64_t>(v)) : real(v));
    return a;
}


// "i1", "i2" (, "i3"): the indices of a flattened row of a tensor of more than two dimensions.
void add_higher(ojson& j, const std::vector<uint64_t>& higher) {
    for (size_t k = 0; k < higher.size(); ++k) j["i" + std::to_string(k + 1)] = higher[k];
}

// The elements the block holds, as the text view's "elements A-B: row R, columns C-D".
ojson place_json(const BlockDump& b) {
    const uint64_t n = b.format.type->block_elems;
    ojson j{{"first", b.place.first}, {"last", b.place.first + n - 1}, {"row", b.place.row},
            {"first_col", b.place.column}, {"last_col", b.place.column + n - 1}};
    add_higher(j, b.place.higher);
    return j;
}

// The element --element or --at asked for, and its value as "values" has it; "col" as
// gguf-dequant --check and gguf-compare name it.
ojson element_json(const BlockDump& b, const ElementPlace& p) {
    ojson j{{"index", p.element}, {"row", p.row}};
    add_higher(j, p.higher);
    j.update(ojson{{"col", p.column},
                   {"block", p.block},
                   {"in_block", p.in_block},
                   {"value", b.is_integer ? ojson(b.int_value) : real(b.values.at(p.in_block))}});
    return j;
}

ojson block_json(const BlockDump& b) {
    ojson fields = ojson::array();
    for (const FieldDump& f : b.fields) {
        ojson decoded = ojson::object();
        for (const Series& s : f.series) {
            if (b.is_integer) {
                decoded[s.name] = ojson::array({b.int_value});  // exact, past 2^53 too
                continue;
            }
            decoded[s.name] = series_json(s);
            if (!s.elements.empty()) decoded[s.name + "_element"] = s.elements;
        }
        fields.push_back({{"name", f.name},
                          {"offset", f.offset},
                          {"size", f.size},
                          {"kind", f.kind},
                          {"meaning", f.meaning},
                          {"hex", hex_bytes(b.bytes.data() + f.offset, f.size, "")},
                          {"decoded", std::move(decoded)}});
    }
    ojson values = ojson::array();
    if (b.is_integer) values.push_back(b.int_value);
    for (float v : b.values) values.push_back(real(v));
    ojson j{{"tensor", to_valid_utf8(b.tensor)},
            {"type", b.format.type->name},
            {"block", b.index},
            {"offset", b.offset},
            {"size", b.bytes.size()},
            {"elements", place_json(b)},
            {"fields", std::move(fields)},
            {"values", std::move(values)}};
    if (b.marked) j["element"] = element_json(b, *b.marked);
    return j;
}

ojson metadata_value(const Value& v) {
    switch (v.type) {
        case ValueType::UINT8: case ValueType::UINT16: case ValueType::UINT32: case ValueType::UINT64: return v.u;
        case ValueType::INT8: case ValueType::INT16: case ValueType::INT32: case ValueType::INT64: return v.i;
        case ValueType::FLOAT32: case ValueType::FLOAT64: return real(v.f);
        case ValueType::BOOL: return v.u != 0;
        case ValueType::STRING: return to_valid_utf8(v.s);
        case ValueType::ARRAY: break;  // never here: JsonStream::metadata_value walks arrays
    }
    return nullptr;
}

// A field's members, but for a metadata value's "value", which write_field streams after them.
std::vector<JsonStream::Member> header_field_members(const GgufFile& f, const HeaderField& h) {
    constexpr uint64_t kHexMax = 64;
    std::vector<JsonStream::Member> m{
        {"name", text::json_string(h.name)}, {"offset", std::to_string(h.offset)}, {"size", std::to_string(h.size)}};
    if (h.is != HeaderField::Is::Region)
        m.emplace_back("hex", '"' + hex_bytes(f.bytes().data() + h.offset, size_t(std::min(h.size, kHexMax)), "") + '"');
    switch (h.is) {
        case HeaderField::Is::Number:
            m.emplace_back("value", std::to_string(h.number));
            if (!h.note.empty()) m.emplace_back("meaning", text::json_string(h.note));
            break;
        case HeaderField::Is::Text: m.emplace_back("value", text::json_string(h.text)); break;
        case HeaderField::Is::Value: break;
        case HeaderField::Is::Region: break;
    }
    return m;
}

void write_field(JsonStream& out, const GgufFile& f, const HeaderField& h) {
    out.begin_object();
    out.text_members(header_field_members(f, h));
    if (h.is == HeaderField::Is::Value) {
        out.key("value");
        out.metadata_value(f, *h.kv, metadata_value);
    }
    out.end_object();
}

void write_records(JsonStream& out, const HeaderDump& h, size_t n, HeaderRecord (HeaderDump::*record)(size_t) const) {
    const GgufFile& f = *h.file;
    out.array(n, [&](uint64_t i) {
        const HeaderRecord r = (h.*record)(i);
        const JsonStream::Member head[] = {
            {"name", text::json_string(r.title)}, {"offset", std::to_string(r.offset)}, {"size", std::to_string(r.size)}};
        out.begin_object();
        out.text_members(head);
        out.key("fields");
        out.array(r.fields.size(), [&](uint64_t k) { write_field(out, f, r.fields[k]); });
        out.end_object();
    });
}

}  // namespace

std::string blocks_json(std::span<const BlockDump> blocks, bool as_array) {
    if (!as_array && blocks.size() == 1) return block_json(blocks[0]).dump(2) + '\n';
    ojson a = ojson::array();
    for (const BlockDump& b : blocks) a.push_back(block_json(b));
    return a.dump(2) + '\n';
}

void row_json(const GgufFile& f, const TensorInfo& t, const RowSpan& s,
              const std::function<void(std::string_view)>& sink) {
    check_row_span(f, t, s);
    hexdump_detail::refuse_big_endian(f);  // before the first byte: a refusal prints nothing
    const uint64_t be = t.type->block_elems, first = s.row * t.ne[0];
    // "shape" in GGUF order and "shape_row_major" (NumPy's), as gguf-inspect, --check and compare give them.
    ojson shape = ojson::array(), row_major = ojson::array();
    for (uint32_t d = 0; d < t.n_dims; ++d) shape.push_back(t.ne[d]);
    for (uint32_t d = t.n_dims; d-- > 0;) row_major.push_back(t.ne[d]);
    ojson head{{"tensor", to_valid_utf8(t.name)}, {"type", t.type->name}, {"shape", std::move(shape)},
               {"shape_row_major", std::move(row_major)}, {"row", s.row}};
    add_higher(head, hexdump_detail::higher_indices(t, s.row));
    head.update(ojson{{"rows", n_rows(t)}, {"start", s.start}, {"stop", s.stop},
                      {"first_block", (first + s.start) / be}, {"last_block", (first + s.stop - 1) / be}});
    JsonStream out(sink);
    out.begin_object();
    out.members(head);
    out.key("values");
    out.begin_array();  // written as the pieces come
    row_values(f, t, s, [&](const RowValues& v) {
        for (size_t k = 0; k < v.size(); ++k)
            out.json_text((v.is_integer ? ojson(v.ints[k]) : real(v.values[k])).dump());
    });
    out.end_array();
    out.end_object();
    out.finish();
}

std::string formats_json(std::span<const FormatDump> formats, bool as_array) {
    ojson a = ojson::array();
    for (const FormatDump& d : formats) {
        ojson fields = ojson::array();
        for (const FieldDump& f : d.fields)
            fields.push_back(
                {{"name", f.name}, {"offset", f.offset}, {"size", f.size}, {"kind", f.kind}, {"meaning", f.meaning}});
        const TypeInfo& t = *d.type;
        a.push_back({{"type", t.name},
                     {"class", t.cls == TypeClass::Quantized ? "quantized" : t.cls == TypeClass::Float ? "float" : "integer"},
                     {"block_elements", t.block_elems},
                     {"block_bytes", t.block_bytes},
                     {"bits_per_weight", t.bits_per_weight()},
                     {"part_elements", d.part_elems},
                     {"formula", d.formula},
                     {"fields", std::move(fields)}});
    }
    return (!as_array && a.size() == 1 ? a[0] : a).dump(2) + '\n';
}

void header_json(const HeaderDump& h, const std::function<void(std::string_view)>& sink) {
    const GgufFile& f = *h.file;
    JsonStream out(sink);
    out.begin_object();
    out.members(file_summary_json(f));
    out.key("header");
    out.array(h.header.size(), [&](uint64_t i) { write_field(out, f, h.header[i]); });
    out.key("metadata");
    write_records(out, h, h.n_metadata(), &HeaderDump::metadata_record);
    out.key("tensor_infos");
    write_records(out, h, h.n_tensor_infos(), &HeaderDump::tensor_info_record);
    out.key("padding");
    write_field(out, f, h.padding);
    out.key("data");
    write_field(out, f, h.data);
    out.end_object();
    out.finish();
}

std::string header_json(const HeaderDump& h) {
    return collect([&](const TextSink& sink) { header_json(h, sink); });
}

}  // namespace gguftk
