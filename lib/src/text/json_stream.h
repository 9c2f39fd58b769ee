#pragma once
// JSON written as it is made, in exactly the layout of nlohmann's dump(2), for the documents
// whose size a file controls (every metadata value complete, every tensor): built as a tree
// first, a hostile file's 10^8-item array took over 20 GiB; streamed, memory stays flat.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <span>
#include <string_view>
#include <utility>

#include "gguftk/gguf.h"
#include "text_out.h"

namespace gguftk {

using ojson = nlohmann::ordered_json;

// The members both JSON views open with: file, version, endian, alignment, data_offset, file_size.
ojson file_summary_json(const GgufFile& f);

class JsonStream {
public:
    explicit JsonStream(const TextSink& sink) : out_(sink) {}

    void raw(std::string_view s) { out_ += s; }
    void indent(int level) { out_.spaces(size_t(2 * level)); }
    // `j` as dump(2) writes it when it stands `level` levels deep.
    void value(const ojson& j, int level);
    // The members of `head` (an object with at least one) with the object left open, so that
    // member() can add more; close_object() ends it.
    void open_object(const ojson& head, int level);
    void member(std::string_view key, int level);  // a further member's `,\n  "key": `
    // An object of scalar members, each value already JSON text (text/json_text.h), as dump(2)
    // writes it `level` levels deep; with `open`, left open as open_object leaves it. For the
    // records a file has millions of: no JSON tree is built for them.
    using Member = std::pair<std::string_view, std::string>;
    void flat_object(std::span<const Member> members, int level, bool open = false);
    void close_object(int level);
    // An array of n items: item(i) writes item i (it stands level + 1 deep).
    template <class Item>
    void array(uint64_t n, int level, Item&& item) {
        if (n == 0) return raw("[]");
        raw("[\n");
        for (uint64_t i = 0; i < n; ++i) {
            if (i) raw(",\n");
            indent(level + 1);
            item(i);
        }
        raw("\n");
        indent(level);
        raw("]");
    }
    // A metadata value item by item (GgufFile::visit), each non-array value made by `scalar`.
    void metadata_value(const GgufFile& f, const KeyValue& kv, int level, ojson (*scalar)(const Value&));
    void flush() { out_.flush(); }  // last: see TextOut::flush

private:
    void indented(std::string_view text, int level);
    TextOut out_;
};

}  // namespace gguftk
