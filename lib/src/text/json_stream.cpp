#include "json_stream.h"

#include <vector>

#include "gguftk/escape.h"
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

void JsonStream::indented(std::string_view text, int level) {
    // dump(2) indents from level 0; JSON text holds no raw newline but between its lines.
    size_t from = 0;
    for (size_t nl; (nl = text.find('\n', from)) != std::string_view::npos; from = nl + 1) {
        raw(text.substr(from, nl + 1 - from));
        indent(level);
    }
    raw(text.substr(from));
}

void JsonStream::value(const ojson& j, int level) { indented(j.dump(2), level); }

void JsonStream::open_object(const ojson& head, int level) {
    const std::string text = head.dump(2);
    indented(std::string_view(text).substr(0, text.size() - 2), level);  // all but the closing "\n}"
}

void JsonStream::member(std::string_view key, int level) {
    raw(",\n");
    indent(level + 1);
    raw(ojson(std::string(key)).dump());
    raw(": ");
}

void JsonStream::flat_object(std::span<const Member> members, int level, bool open) {
    raw("{");
    for (size_t i = 0; i < members.size(); ++i) {
        raw(i ? ",\n" : "\n");
        indent(level + 1);
        raw(text::json_string(members[i].first));
        raw(": ");
        raw(members[i].second);
    }
    if (!open) close_object(level);
}

void JsonStream::close_object(int level) {
    raw("\n");
    indent(level);
    raw("}");
}

namespace {

// Writes what GgufFile::visit walks, with dump(2)'s separators and indentation.
class ValueWriter final : public ValueVisitor {
public:
    ValueWriter(JsonStream& out, int level, ojson (*scalar)(const Value&)) : out_(out), level_(level), scalar_(scalar) {}

    void scalar(const Value& v) override {
        before_item();
        out_.raw(scalar_(v).dump());
    }
    void begin_array(ValueType, uint64_t) override {
        before_item();
        out_.raw("[");
        items_.push_back(0);
    }
    void end_array() override {
        const uint64_t n = items_.back();
        items_.pop_back();
        if (n) {
            out_.raw("\n");
            out_.indent(level_ + int(items_.size()));
        }
        out_.raw("]");
    }

private:
    void before_item() {
        if (items_.empty()) return;
        out_.raw(items_.back()++ ? ",\n" : "\n");
        out_.indent(level_ + int(items_.size()));
    }

    JsonStream& out_;
    int level_;
    ojson (*scalar_)(const Value&);
    std::vector<uint64_t> items_;  // items written so far in each open array
};

}  // namespace

void JsonStream::metadata_value(const GgufFile& f, const KeyValue& kv, int level, ojson (*scalar)(const Value&)) {
    ValueWriter w(*this, level, scalar);
    f.visit(kv, w);
}

}  // namespace gguftk
