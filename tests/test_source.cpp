// Reading through a Source (container/source.h), the way remote files are read: the header a
// prefix at a time, growing when the parser runs out, then exactly the bytes a view asks for.
//
// A file read so must be the very GgufFile the whole file in memory gives, or be refused with
// the very error at the very offset, whatever the size of the first read: the reader checks
// lengths against the file's size, not against the bytes it holds. And the remote locations
// (remote/remote.h): hf:// resolution, names without credentials, where a file name ends.
#include <doctest/doctest.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "fixtures.h"
#include "container/gguf.h"
#include "remote/remote.h"
#include "container/source.h"
#include "crafted_cases.h"

using namespace gguftk;
using namespace gguftk::test;

namespace {

// A file in memory, served a range at a time, every read recorded.
class MemorySource final : public Source {
public:
    MemorySource(std::vector<uint8_t> bytes, std::vector<std::pair<uint64_t, uint64_t>>* reads)
        : bytes_(std::move(bytes)), reads_(reads) {}
    const std::string& name() const override { return name_; }
    uint64_t size() const override { return bytes_.size(); }
    void read(uint64_t offset, std::span<uint8_t> out) override {
        REQUIRE(offset <= bytes_.size());
        REQUIRE(out.size() <= bytes_.size() - offset);
        std::memcpy(out.data(), bytes_.data() + offset, out.size());
        reads_->push_back({offset, out.size()});
    }

private:
    std::vector<uint8_t> bytes_;
    std::vector<std::pair<uint64_t, uint64_t>>* reads_;
    std::string name_ = "m.gguf";
};

std::vector<uint8_t> file_bytes(const std::string& path) {
    const GgufFile f = GgufFile::open(path);
    return {f.bytes().begin(), f.bytes().end()};
}

void check_same_value(const Value& a, const Value& b) {
    CHECK(a.type == b.type);
    CHECK(a.u == b.u);
    CHECK(a.i == b.i);
    CHECK(std::memcmp(&a.f, &b.f, sizeof a.f) == 0);
    CHECK(a.s == b.s);
    CHECK(a.elem_type == b.elem_type);
    CHECK(a.count == b.count);
    REQUIRE(a.items.size() == b.items.size());
    for (size_t i = 0; i < a.items.size(); ++i) check_same_value(a.items[i], b.items[i]);
}

void check_same_file(const GgufFile& a, const GgufFile& b) {
    CHECK(a.version() == b.version());
    CHECK(a.big_endian() == b.big_endian());
    CHECK(a.alignment() == b.alignment());
    CHECK(a.data_offset() == b.data_offset());
    CHECK(a.file_size() == b.file_size());
    REQUIRE(a.metadata().size() == b.metadata().size());
    for (size_t i = 0; i < a.metadata().size(); ++i) {
        const KeyValue &x = a.metadata()[i], &y = b.metadata()[i];
        CHECK(x.key == y.key);
        CHECK(x.offset == y.offset);
        CHECK(x.value_offset == y.value_offset);
        CHECK(x.end == y.end);
        check_same_value(a.value(x), b.value(y));
    }
    REQUIRE(a.tensors().size() == b.tensors().size());
    for (size_t i = 0; i < a.tensors().size(); ++i) {
        const TensorInfo &x = a.tensors()[i], &y = b.tensors()[i];
        CHECK(x.name == y.name);
        CHECK(x.type == y.type);
        CHECK(x.ne == y.ne);
        CHECK(x.offset == y.offset);
        CHECK(x.size == y.size);
        CHECK(x.info_offset == y.info_offset);
    }
}

struct Outcome {
    std::optional<std::string> what;
    std::optional<uint64_t> offset;
};

template <class F>
Outcome outcome(F&& parse) {
    try {
        parse();
        return {};
    } catch (const Error& e) {
        return {std::string(e.what()), e.offset()};
    }
}

}  // namespace

TEST_CASE("a file read through a source is the file read whole, whatever the first read") {
    const std::vector<uint8_t> bytes = file_bytes(fixture("all-types.gguf"));
    const GgufFile whole = GgufFile::parse(bytes, "m.gguf");
    for (uint64_t first : {uint64_t{1}, uint64_t{7}, uint64_t{24}, uint64_t{100}, uint64_t{1000}, uint64_t{2783},
                           uint64_t{4096}, uint64_t{1} << 20}) {
        CAPTURE(first);
        std::vector<std::pair<uint64_t, uint64_t>> reads;
        const GgufFile f = GgufFile::open(std::make_unique<MemorySource>(bytes, &reads), HeaderReads{first, 1 << 20});
        check_same_file(f, whole);
        CHECK(f.path() == "m.gguf");
        // One prefix, read in growing steps, stopping within a step of the header's end.
        REQUIRE(!reads.empty());
        CHECK(reads[0] == std::pair<uint64_t, uint64_t>{0, std::min<uint64_t>(first, bytes.size())});
        uint64_t end = 0;
        for (const auto& [offset, n] : reads) {
            CHECK(offset == end);
            CHECK(n >= std::min(first, bytes.size() - offset));
            end += n;
        }
        CHECK(end >= f.data_offset() - f.alignment());
        CHECK(end <= std::max<uint64_t>(first, f.data_offset() + std::max(first, f.data_offset() / 2)));
        // What is kept is the header, to the end of the last tensor record: not what the reads
        // brought past it.
        const TensorInfo& last = f.tensors().back();
        CHECK(f.bytes().size() == last.info_offset + 8 + last.name.size() + 4 + 8 * last.n_dims + 4 + 8);
        CHECK(std::memcmp(f.bytes().data(), bytes.data(), f.bytes().size()) == 0);
        CHECK_FALSE(f.in_memory());
        CHECK(f.source() != nullptr);
    }
}

// A GGUF of one metadata entry, an array of `n` 8-byte strings (16 bytes an item), and one tensor.
std::vector<uint8_t> long_array_file(uint64_t n) {
    std::vector<uint8_t> b{'G', 'G', 'U', 'F'};
    const auto put = [&](uint64_t v, int bytes) {
        for (int i = 0; i < bytes; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    };
    const auto str = [&](std::string_view s) {
        put(s.size(), 8);
        b.insert(b.end(), s.begin(), s.end());
    };
    put(3, 4), put(1, 8), put(1, 8);
    str("tokens"), put(9, 4), put(8, 4), put(n, 8);  // ARRAY of STRING
    for (uint64_t i = 0; i < n; ++i) str("abcdefgh");
    str("t"), put(1, 4), put(8, 8), put(0, 4), put(0, 8);  // F32 [8] at 0
    b.resize((b.size() + 31) / 32 * 32 + 32);
    return b;
}

TEST_CASE("a long header: read in steps of at most 16 MiB, walked once, kept to its end") {
    const std::vector<uint8_t> bytes = long_array_file(4'500'000);  // 72 MB
    std::vector<std::pair<uint64_t, uint64_t>> reads;
    const GgufFile f = GgufFile::open(std::make_unique<MemorySource>(bytes, &reads), HeaderReads{1 << 20, 256 << 20});
    CHECK(f.data_offset() == bytes.size() - 32);
    const uint64_t header = f.tensors()[0].info_offset + 8 + 1 + 4 + 8 + 4 + 8;
    CHECK(f.bytes().size() == header);
    uint64_t end = 0, biggest = 0;
    for (const auto& [offset, n] : reads) {
        CHECK(offset == end);
        end += n;
        biggest = std::max(biggest, n);
    }
    CHECK(biggest == uint64_t{16} << 20);  // the step grew to its cap, no further
    CHECK(end >= header);
    CHECK(f.value(f.metadata()[0], 2).count == 4'500'000);
}

TEST_CASE("tensor data past the header is read through the source, exactly the bytes asked for") {
    const std::vector<uint8_t> bytes = file_bytes(fixture("all-types.gguf"));
    std::vector<std::pair<uint64_t, uint64_t>> reads;
    const GgufFile f = GgufFile::open(std::make_unique<MemorySource>(bytes, &reads), HeaderReads{64, 1 << 20});
    REQUIRE(!f.in_memory());
    const TensorInfo& t = *f.find_tensor("q6_K.zero_row");
    CHECK_THROWS_AS((void)f.data(t), Error);
    reads.clear();
    std::vector<uint8_t> got(210);
    f.read(t.offset + 210, got);
    CHECK(reads == std::vector<std::pair<uint64_t, uint64_t>>{{t.offset + 210, 210}});
    CHECK(std::memcmp(got.data(), bytes.data() + t.offset + 210, 210) == 0);
    // Bytes already in memory are copied, not read again.
    reads.clear();
    std::vector<uint8_t> head(24);
    f.read(0, head);
    CHECK(reads.empty());
    CHECK(std::memcmp(head.data(), bytes.data(), 24) == 0);
    // Past the end: an error naming the offset, and no read.
    std::vector<uint8_t> past(2);
    CHECK_THROWS_AS(f.read(bytes.size() - 1, past), Error);
    CHECK(reads.empty());
}

TEST_CASE("a mapped file is unchanged: all in memory, no source") {
    const GgufFile f = GgufFile::open(fixture("all-types.gguf"));
    CHECK(f.in_memory());
    CHECK(f.source() == nullptr);
    CHECK(f.bytes().size() == f.file_size());
    const TensorInfo& t = *f.find_tensor("f32.weight");
    std::vector<uint8_t> got(t.size);
    f.read(t.offset, got);
    CHECK(std::memcmp(got.data(), f.data(t).data(), t.size) == 0);
}

TEST_CASE("every malformed file gives the same error, at the same offset, through a source") {
    for (const CraftedCase& c : crafted_cases()) {
        if (c.valid) continue;
        CAPTURE(c.name);
        const Outcome whole = outcome([&] { GgufFile::parse(c.bytes, "m.gguf"); });
        REQUIRE(whole.what.has_value());
        for (uint64_t first : {uint64_t{1}, uint64_t{5}, uint64_t{13}, uint64_t{64}, uint64_t{1} << 20}) {
            CAPTURE(first);
            std::vector<std::pair<uint64_t, uint64_t>> reads;
            const Outcome part = outcome([&] {
                GgufFile::open(std::make_unique<MemorySource>(c.bytes, &reads), HeaderReads{first, 1 << 20});
            });
            CHECK(part.what == whole.what);
            CHECK(part.offset == whole.offset);
        }
    }
}

TEST_CASE("a header may not grow past HeaderReads::max") {
    const std::vector<uint8_t> bytes = file_bytes(fixture("all-types.gguf"));
    std::vector<std::pair<uint64_t, uint64_t>> reads;
    const Outcome o = outcome([&] {
        GgufFile::open(std::make_unique<MemorySource>(bytes, &reads), HeaderReads{16, 1000});
    });
    REQUIRE(o.what.has_value());
    CHECK(o.what->find("past byte 1000") != std::string::npos);
    uint64_t end = 0;
    for (const auto& r : reads) end += r.second;
    CHECK(end == 1000);
}

TEST_CASE("remote locations: http(s) as given, hf:// on the hub, names without credentials") {
    using namespace gguftk::remote;
    CHECK(is_remote("https://x/y.gguf"));
    CHECK(is_remote("HTTP://x/y.gguf"));
    CHECK(is_remote("hf://a/b/c.gguf"));
    CHECK_FALSE(is_remote("model.gguf"));
    CHECK_FALSE(is_remote("ftp://x/y.gguf"));

    Hub hub;
    hub.token = "hf_tok";
    Location l = locate("hf://Qwen/Qwen2.5-GGUF/q4 k.gguf", hub);
    CHECK(l.url == "https://huggingface.co/Qwen/Qwen2.5-GGUF/resolve/main/q4%20k.gguf");
    CHECK(l.display == "hf://Qwen/Qwen2.5-GGUF/q4 k.gguf");
    CHECK(l.bearer == "hf_tok");
    CHECK(l.hub);
    hub.endpoint = "http://127.0.0.1:8080/";
    l = locate("hf://o/r/sub/dir/m.gguf@refs/pr/1", hub);
    CHECK(l.url == "http://127.0.0.1:8080/o/r/resolve/refs%2Fpr%2F1/sub/dir/m.gguf");
    for (const char* bad : {"hf://o/r", "hf://o/r/", "hf:///r/m.gguf", "hf://o/r/./m.gguf", "hf://o/r/m.gguf@"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(locate(bad, hub), Error);
    }
    hub.endpoint = "ftp://mirror";
    CHECK_THROWS_AS(locate("hf://o/r/m.gguf", hub), Error);

    l = locate("https://bob:s3cret@host:8443/m/x.gguf?sig=abc#f", Hub{});
    CHECK(l.url == "https://bob:s3cret@host:8443/m/x.gguf?sig=abc#f");
    CHECK(l.display == "https://host:8443/m/x.gguf?...");
    CHECK(l.bearer.empty());  // the hub's token goes to the hub only
    CHECK_FALSE(l.hub);
    CHECK(display_name("http://u@h/a@b.gguf") == "http://h/a@b.gguf");
    CHECK(display_name("http://h:8080/a@b.gguf") == "http://h:8080/a@b.gguf");
    CHECK(display_name("http://[::1]:8080/a@b.gguf") == "http://[::1]:8080/a@b.gguf");
    // Passwords with unescaped delimiters (libcurl refuses such URLs; the message must not show them).
    for (const char* typed : {"https://bob:pa/ss@host/m.gguf", "https://bob:pa#ss@host/m.gguf",
                              "https://bob:pa?ss@host/m.gguf", "https://bob:p@ss:w/rd@host/m.gguf",
                              "https://bob:p@ss@host/m.gguf"}) {
        CAPTURE(typed);
        const std::string shown = display_name(typed);
        CHECK(shown.find("ss") == std::string::npos);
        CHECK(shown.find("host") != std::string::npos);
    }
    CHECK(display_name("local.gguf") == "local.gguf");

    CHECK(name_end("hf://o/r/m-00001-of-00002.gguf@v1") == std::string("hf://o/r/m-00001-of-00002.gguf").size());
    CHECK(name_end("https://h/m-00001-of-00002.gguf?x=1") == std::string("https://h/m-00001-of-00002.gguf").size());
    CHECK(name_end("/a/m.gguf?") == std::string("/a/m.gguf?").size());  // a local name keeps every byte
}
