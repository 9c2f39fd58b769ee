#pragma once
// Where the bytes of a GGUF file come from when it is not a local file to map: a file on a web
// server (remote/remote.h), or anything else that knows its size and can read a range of it.
//
//   GgufFile f = GgufFile::open(std::move(source));  // reads the header only, growing as needed
//   f.read(t.offset, buf);                           // then exactly the bytes a view asks for
#include <cstdint>
#include <span>
#include <string>

namespace gguftk {

// What a source has transferred so far, for the tools to report.
struct Transfer {
    uint64_t bytes = 0;      // bytes of file content received
    uint64_t requests = 0;   // reads that went out (one range request each)
    uint64_t redirects = 0;  // redirects followed on the way
};

class Source {
public:
    virtual ~Source() = default;
    // How messages and views name the file. Never holds credentials.
    virtual const std::string& name() const = 0;
    virtual uint64_t size() const = 0;
    // Fills `out` with the bytes at [offset, offset + out.size()), a range inside size(), or
    // throws Error saying why it cannot.
    virtual void read(uint64_t offset, std::span<uint8_t> out) = 0;
    virtual Transfer transfer() const { return {}; }
};

// How GgufFile::open reads a header through a Source. The reader walks what it has and asks for
// more when it runs out: each further read brings at least the bytes the walk stopped at, and
// grows the prefix by half (at least `first` bytes, at most 16 MiB a read), so a 6 MB header
// takes 5 reads and holds at most a step more than it needs while it is read; once parsed, only
// the header is kept.
struct HeaderReads {
    uint64_t first = uint64_t{1} << 20;  // bytes read first
    uint64_t max = uint64_t{256} << 20;  // the most a header may take: past it, an error ...
    std::string max_is = "the most read of a file for its header";  // ... saying what `max` is
};

}  // namespace gguftk
