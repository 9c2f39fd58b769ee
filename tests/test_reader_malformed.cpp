// The reader on hostile input: every malformed file of the catalogue (tests/crafted/
// make_crafted.py, written out at build time) must be refused with its error at its offset, and
// while parsing it the reader may not allocate more than the file's size (plus a little for the
// error text); every valid file of it must parse.
//
// Allocation is measured by replacing the global operator new in this test binary.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <new>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "crafted_cases.h"
#include "gguf_builder.h"
#include "container/gguf.h"

using namespace gguftk;
using namespace gguftk::test;

namespace {
std::atomic<bool> g_counting{false};
std::atomic<uint64_t> g_allocated{0};  // bytes requested while counting
std::atomic<uint64_t> g_largest{0};

void* counted_alloc(std::size_t n) {
    if (g_counting.load(std::memory_order_relaxed)) {
        g_allocated += n;
        uint64_t prev = g_largest.load();
        while (n > prev && !g_largest.compare_exchange_weak(prev, n)) {
        }
    }
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
}  // namespace

// Every form that pairs with the replaced operator delete is replaced too: the nothrow forms
// (std::stable_sort's temporary buffer uses them) would otherwise come from the runtime, from
// ASan's allocator under the asan preset, and be freed here with free() (alloc-dealloc-mismatch).
void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return counted_alloc(n);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

// Bytes the error path itself may use: the message, the name, the exception object.
constexpr uint64_t kErrorSlack = 4096;

struct Outcome {
    bool threw = false;
    std::string what;
    std::optional<uint64_t> offset;
    uint64_t allocated = 0;
};

Outcome parse_counting(const std::vector<uint8_t>& bytes) {
    Outcome o;
    g_allocated = 0;
    g_largest = 0;
    g_counting = true;
    try {
        GgufFile f = GgufFile::parse(bytes, "m.gguf");
    } catch (const Error& e) {
        o.threw = true;
        o.what = e.what();
        o.offset = e.offset();
    } catch (...) {
        g_counting = false;
        throw;
    }
    g_counting = false;
    o.allocated = g_allocated;
    return o;
}

}  // namespace

TEST_CASE("every malformed file is refused with its error, at its offset, without large allocations") {
    int refused = 0;
    for (const CraftedCase& c : crafted_cases()) {
        if (c.valid) continue;
        ++refused;
        CAPTURE(c.name);
        const Outcome o = parse_counting(c.bytes);
        REQUIRE_MESSAGE(o.threw, c.name << " was accepted");
        CAPTURE(o.what);
        CHECK_MESSAGE(o.what.find(c.what) != std::string::npos, "expected '" << c.what << "'");
        REQUIRE(o.offset.has_value());
        CHECK(*o.offset == c.offset);
        CHECK(o.allocated <= c.bytes.size() + kErrorSlack);
    }
    CHECK(refused >= 141);  // the catalogue as merged: cases may be added, not lost
}

TEST_CASE("every valid file of the catalogue parses") {
    int valid = 0;
    for (const CraftedCase& c : crafted_cases()) {
        if (!c.valid) continue;
        ++valid;
        CAPTURE(c.name);
        CHECK_NOTHROW(GgufFile::parse(c.bytes));
    }
    CHECK(valid >= 20);
}

TEST_CASE("the catalogue's cuts and patches are otherwise the reader's base file, which parses") {
    // Guards the catalogue itself: a case must fail for its stated reason, not for an accident
    // elsewhere in the file. Each truncated_* case is a prefix of its base, and each patched_*
    // case differs from it in one field (at most 8 consecutive bytes): undone, it is the base.
    const CraftedCase base = crafted("valid_reader_base"), base_be = crafted("valid_reader_base_be");
    for (const CraftedCase* b : {&base, &base_be}) {
        const GgufFile f = GgufFile::parse(b->bytes);
        CHECK(f.tensors().size() == 2);
        CHECK(f.metadata().size() == 3);
    }
    int cut = 0, patched = 0;
    for (const CraftedCase& c : crafted_cases()) {
        const bool is_cut = c.name.starts_with("truncated_"), is_patched = c.name.starts_with("patched_");
        if (!is_cut && !is_patched) continue;
        CAPTURE(c.name);
        const std::vector<uint8_t>& whole = (c.name.ends_with("_be") ? base_be : base).bytes;
        if (is_cut) {
            ++cut;
            REQUIRE(c.bytes.size() < whole.size());
            CHECK(std::equal(c.bytes.begin(), c.bytes.end(), whole.begin()));
        } else {
            ++patched;
            REQUIRE(c.bytes.size() == whole.size());
            const auto first = std::mismatch(c.bytes.begin(), c.bytes.end(), whole.begin()).first - c.bytes.begin();
            const auto last = c.bytes.rend() - std::mismatch(c.bytes.rbegin(), c.bytes.rend(), whole.rbegin()).first;
            CHECK(first < last);
            CHECK(last - first <= 8);
        }
    }
    CHECK(cut >= 11);
    CHECK(patched >= 16);
}

TEST_CASE("errors name the file they came from") {
    const CraftedCase c = crafted("patched_version_1");
    TempFile tmp(c.bytes);
    try {
        GgufFile::open(tmp.path());
        FAIL("accepted");
    } catch (const Error& e) {
        CHECK(e.file() == tmp.path());
        CHECK(std::string(e.what()).find("unsupported version 1") != std::string::npos);
        CHECK(e.offset() == 4);
    }
}

TEST_CASE("a count of 2^63 does not reserve memory") {
    GgufBuilder b;
    b.header(3, 0, uint64_t{1} << 63).zeros(64);
    const Outcome o = parse_counting(b.bytes());
    CHECK(o.threw);
    CHECK(o.allocated <= kErrorSlack);
}

TEST_CASE("every byte of the header cut off in turn gives an error, never a crash") {
    // Cutting the base file at each position up to its data section: each prefix is refused.
    const std::vector<uint8_t> whole = crafted("valid_reader_base").bytes;
    const GgufFile f = GgufFile::parse(whole);
    for (uint64_t n = 0; n < f.data_offset() + 1; ++n) {
        CAPTURE(n);
        std::vector<uint8_t> cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));
        const Outcome o = parse_counting(cut);
        CHECK(o.threw);
        CHECK(o.offset.has_value());
        if (o.offset) CHECK(*o.offset <= n);
    }
}

TEST_CASE("every single corrupted header byte gives a valid file or an Error, never a crash") {
    const std::vector<uint8_t> whole = crafted("valid_reader_base").bytes;
    const uint64_t data = GgufFile::parse(whole).data_offset();
    int refused = 0;
    for (uint64_t i = 0; i < data; ++i) {
        for (uint8_t v : {uint8_t{0x00}, uint8_t{0xff}, uint8_t{0x80}, uint8_t{0x01}}) {
            std::vector<uint8_t> bad = whole;
            if (bad[i] == v) continue;
            bad[i] = v;
            const Outcome o = parse_counting(bad);
            if (o.threw) {
                ++refused;
                CHECK(o.offset.has_value());
                CHECK(o.allocated <= bad.size() + kErrorSlack);
            }
        }
    }
    CHECK(refused > 0);
}
