#include "json_stream.h"

#include <vector>

#include "text/escape.h"
#include "text/json_text.h"

namespace gguftk {

ojson file_summary_json(const GgufFile& f) {
    return ojson{{"file", to_valid_utf8(f.path())},
                 {"version", f.version()},
                 {"endian", f.big_endian() ? "big" : "little"},
                 {"alignment", f.alignment()},
                 {"data_offset", f.data_offset()},
                 {"file_size", f.file_size()}};
}

void JsonStream::next_line() {
    out_ += open_.back().n++ ? ",\n" : "\n";
    out_.spaces(2 * open_.size());
}

void JsonStream::before_value() {
    if (!open_.empty() && open_.back().array) next_line();
}

void JsonStream::open(bool array, char c) {
    before_value();
    out_ += c;
    open_.push_back({array, 0});
}

void JsonStream::close(char c) {
    const bool empty = open_.back().n == 0;
    open_.pop_back();
    if (!empty) {
        out_ += '\n';
        out_.spaces(2 * open_.size());
    }
    out_ += c;
}

void JsonStream::key(std::string_view k) {
    next_line();
    out_ += text::json_string(k);
    out_ += ": ";
}

void JsonStream::value(const ojson& j) {
    before_value();
    // dump(2) indents from depth 0; JSON text holds no raw newline but between its lines.
    const std::string text = j.dump(2);
    const std::string_view t = text;
    size_t from = 0;
    for (size_t nl; (nl = t.find('\n', from)) != std::string_view::npos; from = nl + 1) {
        out_ += t.substr(from, nl + 1 - from);
        out_.spaces(2 * open_.size());
    }
    out_ += t.substr(from);
}

void JsonStream::json_text(std::string_view text) {
    before_value();
    out_ += text;
}

void JsonStream::members(const ojson& j) {
    for (const auto& [k, v] : j.items()) {
        key(k);
        value(v);
    }
}

void JsonStream::text_members(std::span<const Member> m) {
    for (const auto& [k, v] : m) {
        key(k);
        json_text(v);
    }
}

namespace {

// What GgufFile::visit walks, handed to the writer.
class ValueWriter final : public ValueVisitor {
public:
    ValueWriter(JsonStream& out, ojson (*scalar)(const Value&)) : out_(out), scalar_(scalar) {}

    void scalar(const Value& v) override { out_.json_text(scalar_(v).dump()); }
    void begin_array(ValueType, uint64_t) override { out_.begin_array(); }
    void end_array() override { out_.end_array(); }

private:
    JsonStream& out_;
    ojson (*scalar_)(const Value&);
};

}  // namespace

void JsonStream::metadata_value(const GgufFile& f, const KeyValue& kv, ojson (*scalar)(const Value&)) {
    ValueWriter w(*this, scalar);
    f.visit(kv, w);
}

}  // namespace gguftk
