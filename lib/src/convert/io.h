#pragma once
// A conversion's reads and writes: InputReader (pread of tensor data into the engine's own
// buffers) and OutputWriter (temp files beside the outputs, renamed all or none).
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "container/gguf.h"
#include "convert/plan.h"

namespace gguftk {

// How engines read tensor data: pread(2) from the input file into the engine's own (bounded,
// possibly pinned) buffers rather than touching the mapping, so resident memory does not grow
// with the model and a CUDA engine can read straight into pinned staging memory. Falls back to
// copying from GgufFile::bytes() when the file cannot be reopened (parsed from memory).
// Thread-safe: no shared file position.
class InputReader {
public:
    explicit InputReader(const GgufFile& in);
    InputReader(const InputReader&) = delete;
    InputReader& operator=(const InputReader&) = delete;
    ~InputReader();

    // Fills `dst` with the input bytes at absolute `offset`; throws Error on a short read.
    void read(uint64_t offset, std::span<uint8_t> dst) const;
    int fd() const { return fd_; }  // -1 when reading from memory

private:
    const GgufFile* in_;
    int fd_ = -1;
};

// Where the results go. Creates a temp file (or, for directory formats, a temp directory; for
// a split output, one temp file per shard) beside each output path, every output file sized and
// its header written. write() is thread-safe (pwrite at absolute offsets, no shared cursor).
// commit() renames the temps into place, all of them or none: when one rename fails, the shards
// already renamed are removed again. Destroying an uncommitted writer removes everything it
// created. Refuses an output path that is an input (same device and inode, so symlinks and
// hard links count) and an existing one unless `force`.
class OutputWriter {
public:
    OutputWriter(const ConversionPlan& plan, std::string out_path, bool force);
    OutputWriter(const OutputWriter&) = delete;
    OutputWriter& operator=(const OutputWriter&) = delete;
    ~OutputWriter();

    // Writes all of `data` at `offset` of output file `file`; throws Error (naming the output)
    // on a short write, disk full, file too large.
    void write(uint32_t file, uint64_t offset, std::span<const uint8_t> data);
    // Copies `size` input bytes at `in_offset` to `offset` of output file `file`, in the kernel
    // when it can (copy_file_range), for Copy jobs. Thread-safe like write().
    void copy(uint32_t file, uint64_t offset, const InputReader& in, uint64_t in_offset, uint64_t size);
    void commit();
    const std::string& path() const { return out_path_; }
    const std::vector<std::string>& paths() const;  // output_paths(plan, path())

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string out_path_;
};

}  // namespace gguftk
