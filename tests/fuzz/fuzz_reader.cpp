// libFuzzer target: the GGUF reader on arbitrary bytes, and gguf-inspect's views of what it accepts.
//
// Accepting or refusing is the reader's business; this target checks the promises around it:
// nothing but gguftk::Error escapes (no bad_alloc, no length_error, no crash under ASan/UBSan),
// an error's offset lies inside the input, and a GgufFile that exists keeps the invariants
// gguf.h states (every tensor's data inside the file, shapes and sizes consistent, no overlap),
// so the code that trusts it can. Every metadata value is decoded, capped and in full.
//
// Then the three views (inspect/inspect.h): text and Markdown must reach a terminal harmless (no raw
// control bytes, no C1 or bidi controls, valid UTF-8, whatever the file's strings hold), JSON
// must parse and hold every key and tensor. The input is also run through escape() directly.
//
// And the input is read again as a remote file is, a prefix at a time through a Source (the
// first read's size from the last byte): it must give the same file, or the same error at the
// same offset, as the bytes parsed whole.
#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "text/escape.h"
#include "container/gguf.h"
#include "inspect/inspect.h"
#include "container/source.h"
#include "fuzz_check.h"

using namespace gguftk;
using gguftk::fuzz::require;
using gguftk::fuzz::require_shape;
using gguftk::fuzz::require_terminal_safe;

namespace {

volatile uint8_t sink;

void check_value(const Value& v, uint64_t max_items) {
    if (v.type != ValueType::ARRAY) return;
    require(v.items.size() == std::min<uint64_t>(v.count, max_items));
    for (const Value& item : v.items) {
        require(item.type == v.elem_type);
        check_value(item, max_items);
    }
}

void check_file(const GgufFile& f, size_t size) {
    require(f.version() == 2 || f.version() == 3);
    require(f.alignment() != 0 && (f.alignment() & (f.alignment() - 1)) == 0);
    require(f.data_offset() <= size || f.tensors().empty());
    for (const KeyValue& kv : f.metadata()) {
        require(kv.offset < kv.value_offset && kv.value_offset < kv.end && kv.end <= size);
        require(f.find_key(kv.key) == &kv);  // keys are unique
        for (uint64_t cap : {uint64_t{0}, uint64_t{3}, UINT64_MAX}) check_value(f.value(kv, cap), cap);
    }
    (void)f.get_uint("general.alignment");
    (void)f.get_string("general.architecture");

    std::vector<const TensorInfo*> by_offset;
    for (const TensorInfo& t : f.tensors()) {
        require(t.type != nullptr);
        require_shape(t.n_dims, t.ne, t.n_elements);
        require(t.ne[0] % t.type->block_elems == 0);
        require(t.size == t.n_blocks() * t.type->block_bytes);
        require(t.offset >= f.data_offset() && t.offset % f.alignment() == 0);
        require(t.offset <= size && t.size <= size - t.offset);
        require(f.find_tensor(t.name) == &t);  // names are unique
        const std::span<const uint8_t> d = f.data(t);
        require(d.size() == t.size);
        if (!d.empty()) sink = sink + d.front() + d.back();  // touch both ends of the data
        if (t.size) by_offset.push_back(&t);
    }
    std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
    for (size_t i = 1; i < by_offset.size(); ++i)
        require(by_offset[i - 1]->offset + by_offset[i - 1]->size <= by_offset[i]->offset);
}

void check_views(const GgufFile& f, uint8_t knobs) {
    InspectOptions opts;
    opts.max_string_bytes = knobs & 0x0f;  // 0..15: cuts land inside multi-byte characters
    opts.max_array_items = (knobs >> 4) & 0x07;
    if (knobs & 0x80) opts.tensor_globs = {"*.weight", "*"};
    Inspection in;
    try {
        in = inspect(f, opts);
    } catch (const Error&) {
        require(!opts.tensor_globs.empty());  // only a glob that matches nothing is refused
        return;
    }
    require_terminal_safe(render_text(in, opts));
    require_terminal_safe(render_markdown(in, opts));
    const auto doc = nlohmann::json::parse(render_json(in, opts));  // throws on invalid JSON or UTF-8
    // Every key is there, even keys that read the same once invalid bytes become U+FFFD.
    require(doc.at("metadata").size() == f.metadata().size());
    if (opts.tensor_globs.empty()) require(doc.at("tensors").size() == f.tensors().size());
    opts.color = true;
    (void)render_text(in, opts);
}

void check_escape(std::string_view s, uint8_t knobs) {
    const size_t max = knobs & 1 ? SIZE_MAX : knobs >> 1;
    require_terminal_safe(escape(s, EscapeFor::Text, max));
    require_terminal_safe(escape(s, EscapeFor::Markdown, max));
    require_terminal_safe(quoted_name(s));
    const std::string u = to_valid_utf8(s);
    require(is_valid_utf8(u));
    require(is_valid_utf8(s) == (u == s));
}

// The input served a range at a time, as an HTTP source serves a remote file.
class SpanSource final : public Source {
public:
    explicit SpanSource(std::span<const uint8_t> b) : b_(b) {}
    const std::string& name() const override { return name_; }
    uint64_t size() const override { return b_.size(); }
    void read(uint64_t offset, std::span<uint8_t> out) override {
        require(offset <= b_.size() && out.size() <= b_.size() - offset);
        std::copy_n(b_.begin() + static_cast<ptrdiff_t>(offset), out.size(), out.begin());
    }

private:
    std::span<const uint8_t> b_;
    std::string name_ = "fuzz.gguf";
};

struct Outcome {
    bool ok = false;
    std::string what;
    std::optional<uint64_t> offset;
    size_t kvs = 0, tensors = 0;
    uint64_t data_offset = 0, last_end = 0;
};

Outcome summarize(const GgufFile& f) {
    Outcome o;
    o.ok = true;
    o.kvs = f.metadata().size();
    o.tensors = f.tensors().size();
    o.data_offset = f.data_offset();
    if (!f.metadata().empty()) o.last_end = f.metadata().back().end;
    return o;
}

void check_prefix_reads(std::span<const uint8_t> bytes, const Outcome& whole, uint8_t knobs) {
    Outcome part;
    try {
        const GgufFile f = GgufFile::open(std::make_unique<SpanSource>(bytes), HeaderReads{1u + knobs % 97, UINT64_MAX});
        part = summarize(f);
        for (const KeyValue& kv : f.metadata()) (void)f.value(kv, 3);
        for (const TensorInfo& t : f.tensors()) {
            uint8_t b[2];
            if (t.size >= 2) f.read(t.offset + t.size - 2, b);
        }
    } catch (const Error& e) {
        part.what = e.what();
        part.offset = e.offset();
    }
    require(part.ok == whole.ok && part.what == whole.what && part.offset == whole.offset);
    require(part.kvs == whole.kvs && part.tensors == whole.tensors && part.data_offset == whole.data_offset &&
            part.last_end == whole.last_end);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> bytes(data, size);
    const uint8_t knobs = size ? data[size - 1] : 0;
    check_escape(std::string_view(reinterpret_cast<const char*>(data), size), knobs);
    Outcome whole;
    try {
        const GgufFile f = GgufFile::parse(bytes, "fuzz.gguf");
        check_file(f, size);
        check_views(f, knobs);
        whole = summarize(f);
    } catch (const Error& e) {
        require(!e.offset() || *e.offset() <= size);
        require(e.what()[0] != '\0');
        whole.what = e.what();
        whole.offset = e.offset();
    }
    check_prefix_reads(bytes, whole, knobs);
    return 0;
}
