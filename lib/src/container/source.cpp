// Reading a GGUF file through a Source: the header by a growing prefix, tensor data on request.
//
// The header scan (header_scan.h) walks the prefix read so far and says how far it must reach;
// each read grows it, the walk going on from where it stopped, until the scan finds the header's
// end; then the reader (gguf.cpp) parses it once, checking every length against the whole file.
// The prefix grows in place (growing_bytes.h), so it is never held twice, and once parsed it is
// cut to the header's end: a split model's thousand shards keep their headers, not a thousand
// first reads. Where the scan stops at something wrong, or (a bug) the reader runs out where the
// scan did not, the reader has the last word: it throws the error, or NeedBytes, and the prefix
// grows and is parsed again as it needs.
#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "container/growing_bytes.h"
#include "container/header_scan.h"
#include "container/mapping.h"
#include "container/need_bytes.h"
#include "text/escape.h"
#include "container/gguf.h"
#include "container/source.h"

namespace gguftk {
namespace {

// The most one read adds: a 200 MB header overshoots its end by at most this while it is read.
constexpr uint64_t kMaxStep = uint64_t{16} << 20;
// A header this small is copied into memory of its own size and the prefix let go; a larger one
// keeps the prefix's pages, cut at its end (a page's slack, against a copy of the whole header).
constexpr uint64_t kCopyBelow = uint64_t{1} << 20;

// The prefix of a file read through a source, grown until the header is in it.
class PrefixReads {
public:
    PrefixReads(Source& source, const HeaderReads& reads) : source_(source), reads_(reads), scan_(source.size()) {}

    // What `parse` (the reader) makes of the header, once the prefix holds it.
    template <class Parse>
    GgufFile read(const Parse& parse) {
        uint64_t want = std::min({source_.size(), reads_.max, step_min()});
        for (;;) {
            grow(want);
            const std::optional<uint64_t> end = scanned_end();
            if (end && *end > prefix_.size() && *end <= reads_.max) {
                want = next(*end);
                continue;
            }
            try {
                return parse(prefix_.span().first(end ? std::min<uint64_t>(*end, prefix_.size()) : prefix_.size()));
            } catch (const NeedBytes& more) {
                scanning_ = false;  // from here on the reader says what it needs
                if (more.end > reads_.max)
                    throw Error("the header reaches past byte " + std::to_string(reads_.max) + ", " + reads_.max_is,
                                more.at, source_.name());
                want = next(more.end);
            }
        }
    }

    // The header's `len` bytes, kept: copied into `small` (then {nullptr, 0}), or the prefix's
    // pages cut at its end, handed over as {address, length} to be unmapped.
    std::pair<void*, size_t> keep(uint64_t len, std::vector<uint8_t>& small) {
        if (len < kCopyBelow) {
            const std::span<const uint8_t> head = prefix_.span().first(len);
            small.assign(head.begin(), head.end());
            prefix_.resize(0);
            return {nullptr, 0};
        }
        prefix_.resize(len);
        return prefix_.release();
    }

private:
    uint64_t step_min() const { return std::max<uint64_t>(reads_.first, 1); }

    // How far the prefix should reach to reach `end`: at least a step further.
    uint64_t next(uint64_t end) const {
        const uint64_t step = std::max(step_min(), std::min<uint64_t>(prefix_.size() / 2, kMaxStep));
        return std::min({source_.size(), reads_.max, std::max(end, prefix_.size() + step)});
    }

    void grow(uint64_t want) {
        if (want <= prefix_.size()) return;
        const size_t had = prefix_.size();
        prefix_.resize(want);
        source_.read(had, prefix_.span().subspan(had));
    }

    // Where the prefix must reach: the header's end, or the end of what the walk needs next; none
    // when the walk stopped at something wrong (the reader finds it in the prefix) or is off.
    std::optional<uint64_t> scanned_end() {
        if (!scanning_) return std::nullopt;
        const HeaderScan::Result r = scan_.advance(prefix_.span());
        switch (r.step) {
            case HeaderScan::Step::end: return r.at;
            case HeaderScan::Step::need: return r.until;
            case HeaderScan::Step::stop: break;
        }
        return std::nullopt;
    }

    Source& source_;
    const HeaderReads& reads_;
    HeaderScan scan_;
    bool scanning_ = true;
    GrowingBytes prefix_;
};

}  // namespace

GgufFile GgufFile::open(std::unique_ptr<Source> source) { return open(std::move(source), HeaderReads{}); }

GgufFile GgufFile::open(std::unique_ptr<Source> source, const HeaderReads& reads) {
    PrefixReads prefix(*source, reads);
    GgufFile f = prefix.read([&](std::span<const uint8_t> bytes) {
        return parse_prefix(bytes, source->size(), source->name());
    });
    f.map_ = std::make_unique<Mapping>();
    const size_t len = f.bytes_.size();
    std::tie(f.map_->addr, f.map_->len) = prefix.keep(len, f.map_->prefix);
    f.bytes_ = f.map_->addr ? std::span<const uint8_t>(static_cast<const uint8_t*>(f.map_->addr), len)
                            : std::span<const uint8_t>(f.map_->prefix);
    f.map_->source = std::move(source);
    return f;
}

void GgufFile::read(uint64_t offset, std::span<uint8_t> out) const {
    if (offset > file_size_ || out.size() > file_size_ - offset)
        throw Error("cannot read " + std::to_string(out.size()) + " bytes at offset " + std::to_string(offset) +
                        ": the file has " + std::to_string(file_size_),
                    offset, path_);
    if (out.empty()) return;
    if (offset <= bytes_.size() && out.size() <= bytes_.size() - offset) {
        std::memcpy(out.data(), bytes_.data() + offset, out.size());
        return;
    }
    map_->source->read(offset, out);  // only a file read through a source has bytes not in memory
}

const Source* GgufFile::source() const { return map_ ? map_->source.get() : nullptr; }

void GgufFile::not_in_memory(const TensorInfo& t) const {
    throw Error("the data of tensor " + quoted_name(t.name) + " is not in memory (the file is read through " +
                    "a source: read() fetches it)",
                t.offset, path_);
}

}  // namespace gguftk
