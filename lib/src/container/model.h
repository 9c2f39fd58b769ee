#pragma once
// A model: one GGUF file, or every shard of a split one (llama.cpp's NAME-0000K-of-0000N.gguf,
// with split.no, split.count and split.tensors.count in each shard), opened and checked to
// belong together.
//
//   GgufModel m = GgufModel::open("model-00002-of-00003.gguf");  // opens all three
//   for (const GgufFile* f : m.files()) ...                       // in split.no order
//
// The checks are those that make "the whole model" well defined: every shard says the same
// split.count, each file holds the split.no its name gives it, no tensor name is in two shards,
// and the shards hold as many tensors as split.tensors.count declares. A shard that is missing
// or fails a check is an Error naming that file.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "container/gguf.h"

namespace gguftk {

// split.no (0-based) and split.count of a shard of a split model, from its metadata; none when
// the file has no split.count above 1.
struct SplitInfo {
    uint64_t index = 0;
    uint64_t count = 0;
};
std::optional<SplitInfo> split_info(const GgufFile& f);

// The metadata keys that describe a split, which a merged (single-file) output leaves out.
bool is_split_key(std::string_view key) noexcept;

// The paths of all `count` shards of a split model, given one of them named
// NAME-0000K-of-0000N.gguf (llama.cpp's llama_split_path). Throws Error when the name does not
// have that form or its N differs from count.
std::vector<std::string> shard_paths(const std::string& path, uint64_t count);

// The shard names for an output of `count` shards asked for as `out`: "model-f16.gguf" gives
// model-f16-00001-of-00003.gguf ...; a name already of the form NAME-0000K-of-0000N.gguf (with
// N == count) gives NAME-00001-of-0000N.gguf ...; any other name has "-0000K-of-0000N.gguf"
// appended after dropping a ".gguf" suffix.
std::vector<std::string> output_shard_paths(const std::string& out, uint64_t count);

class GgufModel {
public:
    enum class Open : uint8_t {
        Whole,      // a shard brings in every shard of its model
        FileOnly,   // just the named file, even when it is one shard of several
    };
    // Opens `path` and, when it is a shard and `how` is Whole, every other shard beside it.
    static GgufModel open(const std::string& path, Open how = Open::Whole);
    // The same through the caller's means of opening a file and of naming the shards of a model
    // (shard_paths for files on disk; remote locations keep a revision or query after the name).
    using FileOpener = std::function<GgufFile(const std::string&)>;
    using ShardNamer = std::function<std::vector<std::string>(const std::string&, uint64_t count)>;
    static GgufModel open(const std::string& path, Open how, const FileOpener& open_file,
                          const ShardNamer& shard_names);
    // A model of files already open, which must outlive it: one file as it is, or all the
    // shards of a split model in split.no order (checked as open() checks them).
    // `given` is the index of the file the user named.
    static GgufModel of(std::span<const GgufFile* const> files, size_t given = 0);
    static GgufModel of(const GgufFile& file);

    GgufModel(GgufModel&&) noexcept = default;
    GgufModel& operator=(GgufModel&&) noexcept = default;

    // In split.no order; one file for a model that is not split (or opened FileOnly).
    const std::vector<const GgufFile*>& files() const { return files_; }
    const GgufFile& given() const { return *files_[given_]; }  // the file named
    size_t given_index() const { return given_; }
    bool split() const { return files_.size() > 1; }
    uint64_t n_tensors() const;
    uint64_t file_bytes() const;  // the files' sizes added up

    struct Found {
        uint32_t file = 0;               // index into files()
        const TensorInfo* tensor = nullptr;
    };
    // The tensor of that name, in whichever file holds it.
    std::optional<Found> find_tensor(std::string_view name) const;

private:
    GgufModel() = default;
    void check() const;
    std::vector<GgufFile> owned_;          // what open() opened
    std::vector<const GgufFile*> files_;   // into owned_, or borrowed
    size_t given_ = 0;
};

}  // namespace gguftk
