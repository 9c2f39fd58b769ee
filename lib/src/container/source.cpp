// Reading a GGUF file through a Source: the header by a growing prefix, tensor data on request.
//
// The reader (gguf.cpp) parses the prefix read so far, checking every length against the whole
// file, and throws NeedBytes when it runs past the prefix; then the prefix grows and the parse
// starts again. Parsing again costs far less than a read (a 6 MB header parses in milliseconds)
// and lets the reader keep views into one contiguous buffer.
#include <algorithm>
#include <cstring>
#include <string>

#include "container/mapping.h"
#include "container/need_bytes.h"
#include "gguftk/escape.h"
#include "gguftk/gguf.h"
#include "gguftk/source.h"

namespace gguftk {

GgufFile GgufFile::open(std::unique_ptr<Source> source) { return open(std::move(source), HeaderReads{}); }

GgufFile GgufFile::open(std::unique_ptr<Source> source, const HeaderReads& reads) {
    const uint64_t size = source->size();
    const uint64_t step_min = std::max<uint64_t>(reads.first, 1);
    std::vector<uint8_t> prefix;
    uint64_t want = std::min({size, reads.max, step_min});
    for (;;) {
        if (want > prefix.size()) {
            const size_t had = prefix.size();
            std::vector<uint8_t> grown;
            grown.reserve(want);  // exactly: a doubling vector would hold up to twice the header
            grown.assign(prefix.begin(), prefix.end());
            prefix = std::move(grown);
            prefix.resize(want);
            source->read(had, std::span(prefix).subspan(had));
        }
        try {
            GgufFile f = parse_prefix(prefix, size, source->name());
            f.map_ = std::make_unique<Mapping>();
            f.map_->prefix = std::move(prefix);  // moving keeps the buffer that f.bytes_ views
            f.map_->source = std::move(source);
            return f;
        } catch (const NeedBytes& more) {
            if (more.end > reads.max)
                throw Error("the header reaches past byte " + std::to_string(reads.max) +
                                ", the most read of a file for its header",
                            more.at, source->name());
            const uint64_t step = std::max<uint64_t>(step_min, prefix.size() / 2);
            want = std::min({size, reads.max, std::max(more.end, prefix.size() + step)});
        }
    }
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
