// The GGUF container laid out like a hex editor's structure view: every header field, every
// metadata entry and every tensor info record, with absolute offsets and sizes.
//
// Nothing is parsed again: the reader already validated the file and kept where each entry
// and each tensor info starts (KeyValue::offset, value_offset, end; TensorInfo::info_offset);
// every field inside follows from those and from the lengths it decoded.
#include <fmt/core.h>

#include <algorithm>
#include <functional>

#include "text/columns.h"
#include "text/escape.h"
#include "hexdump/hexdump.h"
#include "inspect/inspect.h"
#include "detail.h"
#include "text/text_out.h"

namespace gguftk {
namespace {

using hexdump_detail::pad;
using hexdump_detail::Style;
using Is = HeaderField::Is;

constexpr size_t kHexShown = 8;  // bytes of a field shown in the hex column

HeaderField field(uint64_t offset, uint64_t size, std::string name, Is is) {
    HeaderField f;
    f.offset = offset;
    f.size = size;
    f.name = std::move(name);
    f.is = is;
    return f;
}

HeaderField number(uint64_t offset, uint64_t size, std::string name, uint64_t v, std::string note = {}) {
    HeaderField f = field(offset, size, std::move(name), Is::Number);
    f.number = v;
    f.note = std::move(note);
    return f;
}

HeaderField text(uint64_t offset, uint64_t size, std::string name, std::string v) {
    HeaderField f = field(offset, size, std::move(name), Is::Text);
    f.text = std::move(v);
    return f;
}

// The value column, for people: numbers with what they stand for, strings quoted and escaped.
std::string value_text(const GgufFile& f, const HeaderField& h, EscapeFor how) {
    static const InspectOptions kDisplay;  // gguf-inspect's shortening: 60-byte strings, 6 items
    switch (h.is) {
        case Is::Number: return h.note.empty() ? std::to_string(h.number) : fmt::format("{} ({})", h.number, h.note);
        case Is::Text: return '"' + escape(h.text, how, kDisplay.max_string_bytes) + '"';
        case Is::Value: return display_value(f.value(*h.kv, kDisplay.max_array_items), kDisplay, how);
        case Is::Region: return fmt::format("{} bytes", h.size);
    }
    return {};
}

std::string hex_text(const GgufFile& f, const HeaderField& h) {
    if (h.size == 0) return "";
    const size_t n = static_cast<size_t>(std::min<uint64_t>(h.size, kHexShown));
    // The padding and the tensor data may lie past the bytes in memory (a remote file's header):
    // then these few are read, and only these.
    uint8_t bytes[kHexShown];
    f.read(h.offset, {bytes, n});
    std::string s = hex_bytes(bytes, n);
    return h.size > kHexShown ? s + " …" : s;
}

std::string range(uint64_t offset, uint64_t size) {
    return size == 0 ? fmt::format("{} (empty)", offset) : fmt::format("{}-{}", offset, offset + size - 1);
}

std::string intro(const HeaderDump& h) {
    const GgufFile& f = *h.file;
    return fmt::format("GGUF v{}, {}-endian, alignment {}, {} metadata entries, {} tensors, {} bytes; tensor data at {}",
                       f.version(), f.big_endian() ? "big" : "little", f.alignment(), f.metadata().size(),
                       f.tensors().size(), f.file_size(), f.data_offset());
}

// A field's value after the `at` columns its line has used. With `columns` (a terminal's), one
// that does not fit beside them goes on the lines below, under the field's name (`below`) or
// indented by six where that leaves too little: wrapped in the few columns beside, a name or a
// number would be cut.
std::string value_cell(const std::string& value, size_t at, size_t below, size_t columns) {
    constexpr size_t kIndent = 6, kLeast = 24;
    if (!columns || at + display_width(value) <= columns) return value;
    const size_t indent = columns >= below + kLeast ? below : kIndent;
    std::string out;
    for (const std::string& l : wrap_words(value, columns - indent)) out += '\n' + std::string(indent, ' ') + l;
    return out;
}

// "metadata entry 3: KEY (bytes 24-63, 40 bytes)". With `columns` (a terminal's), KEY is
// shortened in the middle so that the line fits (to no less than half of it), the bytes going
// on to the next line if it still does not.
std::string record_title(const std::string& head, const std::string& key, const std::string& bytes,
                         const Style& st, size_t columns) {
    if (!columns) return st.bold(head + escape(key, EscapeFor::Text, 96)) + st.dim(" " + bytes);
    const size_t used = display_width(head) + 1 + display_width(bytes);
    const std::string name = head + elide_middle(escape(key), std::max(columns > used ? columns - used : 0, columns / 2));
    const bool fits = display_width(name) + 1 + display_width(bytes) <= columns;
    return st.bold(name) + (fits ? st.dim(" " + bytes) : "\n  " + st.dim(bytes));
}

}  // namespace

HeaderRecord HeaderDump::metadata_record(size_t i) const {
    const KeyValue& kv = file->metadata()[i];
    HeaderRecord r{kv.key, kv.offset, kv.end - kv.offset, {}};
    const uint64_t vo = kv.value_offset;
    r.fields.push_back(number(kv.offset, 8, "key length", kv.key.size()));
    r.fields.push_back(text(kv.offset + 8, kv.key.size(), "key", kv.key));
    r.fields.push_back(number(vo, 4, "value type", uint64_t(kv.type), std::string(value_type_name(kv.type))));
    HeaderField v = field(vo + 4, kv.end - (vo + 4), "value", Is::Value);
    v.kv = &kv;
    if (kv.type == ValueType::ARRAY) {
        r.fields.push_back(number(vo + 4, 4, "element type", uint64_t(kv.elem_type),
                                  std::string(value_type_name(kv.elem_type))));
        r.fields.push_back(number(vo + 8, 8, "count", kv.count));
        v.offset = vo + 16;
        v.size = kv.end - v.offset;
        v.name = "items";
    } else if (kv.type == ValueType::STRING) {
        r.fields.push_back(number(vo + 4, 8, "length", kv.end - (vo + 12)));
        v.offset = vo + 12;
        v.size = kv.end - v.offset;
    }
    r.fields.push_back(std::move(v));
    return r;
}

HeaderRecord HeaderDump::tensor_info_record(size_t i) const {
    const TensorInfo& t = file->tensors()[i];
    HeaderRecord r{t.name, t.info_offset, 0, {}};
    uint64_t at = t.info_offset;
    r.fields.push_back(number(at, 8, "name length", t.name.size()));
    r.fields.push_back(text(at + 8, t.name.size(), "name", t.name));
    at += 8 + t.name.size();
    r.fields.push_back(number(at, 4, "n_dims", t.n_dims));
    at += 4;
    for (uint32_t d = 0; d < t.n_dims; ++d, at += 8) r.fields.push_back(number(at, 8, fmt::format("ne[{}]", d), t.ne[d]));
    r.fields.push_back(number(at, 4, "type", uint32_t(t.type->type), std::string(t.type->name)));
    at += 4;
    r.fields.push_back(number(at, 8, "offset", t.offset - file->data_offset(), fmt::format("data at {}", t.offset)));
    at += 8;
    r.size = at - r.offset;
    return r;
}

HeaderDump dump_header(const GgufFile& f) {
    HeaderDump h;
    h.file = &f;
    h.header = {text(0, 4, "magic", "GGUF"), number(4, 4, "version", f.version()),
                number(8, 8, "tensor count", f.tensors().size()), number(16, 8, "metadata count", f.metadata().size())};
    // The header section ends where the last record does.
    uint64_t end = 24;
    if (!f.tensors().empty()) {
        const HeaderRecord last = h.tensor_info_record(f.tensors().size() - 1);
        end = last.offset + last.size;
    } else if (!f.metadata().empty()) {
        end = f.metadata().back().end;
    }
    // With no tensors a file may stop before the aligned data offset: show what is there.
    const uint64_t data = std::min(f.data_offset(), f.file_size());
    h.padding = field(end, data - end, "padding", Is::Region);
    h.data = field(data, f.file_size() - data, "tensor data", Is::Region);
    return h;
}

void render_header_text(const HeaderDump& h, bool color, const std::function<void(std::string_view)>& sink,
                        size_t columns) {
    const GgufFile& f = *h.file;
    const Style st{color};
    const size_t wo = std::max<size_t>(6, std::to_string(f.file_size()).size());
    // The field column fits the longest field name a record can have ("metadata count" of the
    // header is longer than all of them), so the records need not be made twice to measure.
    size_t wn = 5;
    for (const HeaderField& x : h.header) wn = std::max(wn, x.name.size());
    const size_t wh = 3 * kHexShown + 1, field_at = 2 + wo + 2 + wo + 2, value_at = field_at + wn + 2 + wh + 2;

    auto row = [&](const HeaderField& x) {
        std::string line = "  " + pad(std::to_string(x.offset), wo, true) + "  " + pad(std::to_string(x.size), wo, true) +
                           "  " + pad(x.name, wn) + "  " + st.dim(pad(hex_text(f, x), wh)) + "  ";
        const std::string value = value_cell(value_text(f, x, EscapeFor::Text), value_at, field_at, columns);
        if (value.empty() || value[0] == '\n')
            while (!line.empty() && line.back() == ' ') line.pop_back();
        return line + value + '\n';
    };
    TextOut out(sink);
    out += hexdump_detail::titled(escape(f.path()), intro(h), st, columns) + "\n\n";
    out += st.bold("  " + pad("offset", wo, true) + "  " + pad("size", wo, true) + "  " + pad("field", wn) + "  " +
                   pad("hex", wh) + "  value") + '\n';
    for (const HeaderField& x : h.header) out += row(x);
    auto records = [&](size_t n, HeaderRecord (HeaderDump::*record)(size_t) const, const char* what) {
        for (size_t i = 0; i < n; ++i) {
            const HeaderRecord r = (h.*record)(i);
            out += '\n' + record_title(fmt::format("{} {}: ", what, i), r.title,
                                       fmt::format("(bytes {}, {} bytes)", range(r.offset, r.size), r.size), st, columns) + '\n';
            for (const HeaderField& x : r.fields) out += row(x);
        }
    };
    records(h.n_metadata(), &HeaderDump::metadata_record, "metadata entry");
    records(h.n_tensor_infos(), &HeaderDump::tensor_info_record, "tensor info");
    out += '\n';
    out += row(h.padding);
    out += row(h.data);
    out.flush();
}

std::string render_header_text(const HeaderDump& h, bool color, size_t columns) {
    return collect([&](const TextSink& sink) { render_header_text(h, color, sink, columns); });
}

void render_header_markdown(const HeaderDump& h, const std::function<void(std::string_view)>& sink) {
    const GgufFile& f = *h.file;
    TextOut out(sink);
    out += fmt::format("## {}\n\n{}.\n\n", escape(f.path(), EscapeFor::Markdown), intro(h));
    constexpr const char* kHead = "| offset | size | field | hex | value |\n| ---: | ---: | --- | --- | --- |\n";
    auto row = [&](const HeaderField& x) {
        const std::string hex = hex_text(f, x);
        return fmt::format("| {} | {} | {} | {} | {} |\n", x.offset, x.size, x.name, hex.empty() ? "" : '`' + hex + '`',
                           value_text(f, x, EscapeFor::Markdown));
    };
    out += "### Header\n\n";
    out += kHead;
    for (const HeaderField& x : h.header) out += row(x);
    auto records = [&](size_t n, HeaderRecord (HeaderDump::*record)(size_t) const, const char* what) {
        for (size_t i = 0; i < n; ++i) {
            const HeaderRecord r = (h.*record)(i);
            out += fmt::format("\n### {} {}: {}\n\nBytes {}, {} bytes.\n\n", what, i,
                               escape(r.title, EscapeFor::Markdown, 96), range(r.offset, r.size), r.size);
            out += kHead;
            for (const HeaderField& x : r.fields) out += row(x);
        }
    };
    records(h.n_metadata(), &HeaderDump::metadata_record, "Metadata entry");
    records(h.n_tensor_infos(), &HeaderDump::tensor_info_record, "Tensor info");
    out += "\n### Padding and data\n\n";
    out += kHead;
    out += row(h.padding);
    out += row(h.data);
    out.flush();
}

std::string render_header_markdown(const HeaderDump& h) {
    return collect([&](const TextSink& sink) { render_header_markdown(h, sink); });
}

}  // namespace gguftk
