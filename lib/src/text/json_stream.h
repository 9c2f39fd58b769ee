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
#include <vector>

#include "container/gguf.h"
#include "text_out.h"

namespace gguftk {

using ojson = nlohmann::ordered_json;

// The members both JSON views open with: file, version, endian, alignment, data_offset, file_size.
ojson file_summary_json(const GgufFile& f);

// The writer keeps the nesting itself: each value goes where the innermost open object or array
// puts it (after key() in an object, as the next item in an array), indented to its depth, so
// callers never count levels.
class JsonStream {
public:
    explicit JsonStream(const TextSink& sink) : out_(sink) {}

    void begin_object() { open(false, '{'); }
    void end_object() { close('}'); }
    void begin_array() { open(true, '['); }
    void end_array() { close(']'); }
    // The next member of the open object: its key; its value is what is written next.
    void key(std::string_view k);
    // A value: a tree, as dump(2) writes it at this depth; or JSON text (text/json_text.h, or a
    // scalar's dump()), written as it is.
    void value(const ojson& j);
    void json_text(std::string_view text);
    // Each member of the object `j`, as key() and value() would write them, into the open object.
    void members(const ojson& j);
    // Members whose values are already JSON text: for the records a file has millions of, no
    // JSON tree is built for them.
    using Member = std::pair<std::string_view, std::string>;
    void text_members(std::span<const Member> m);
    // An array of n items: item(i) writes item i.
    template <class Item>
    void array(uint64_t n, Item&& item) {
        begin_array();
        for (uint64_t i = 0; i < n; ++i) item(i);
        end_array();
    }
    // A metadata value item by item (GgufFile::visit), each non-array value made by `scalar`.
    void metadata_value(const GgufFile& f, const KeyValue& kv, ojson (*scalar)(const Value&));
    // The document's end: dump(2) has no final newline, the views do. Last: see TextOut::flush.
    void finish() {
        out_ += '\n';
        out_.flush();
    }

private:
    struct Open {
        bool array;
        uint64_t n;  // members or items so far
    };
    void open(bool array, char c);
    void close(char c);
    void next_line();     // the separator before a member or item, and its indentation
    void before_value();  // in an array, the next item's next_line()
    std::vector<Open> open_;
    TextOut out_;
};

}  // namespace gguftk
