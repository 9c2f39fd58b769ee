// Split models: finding the shards by name and checking that they make one model.
#include "container/model.h"

#include <algorithm>

#include <cstdio>
#include <unordered_map>

#include "container/error.h"
#include "text/escape.h"

namespace gguftk {
namespace {

// The parts of a llama.cpp shard name, "PREFIX-0000K-of-0000N.gguf" (five digits each, as
// llama_split_path writes them), or none.
struct ShardName {
    std::string prefix;
    uint64_t k = 0, n = 0;
};

std::optional<ShardName> parse_shard_name(std::string_view path) {
    constexpr std::string_view kExt = ".gguf";
    constexpr size_t kTail = 1 + 5 + 4 + 5;  // "-00001-of-00003"
    if (path.size() < kTail + kExt.size() || path.substr(path.size() - kExt.size()) != kExt) return std::nullopt;
    const std::string_view tail = path.substr(path.size() - kExt.size() - kTail, kTail);
    auto digits = [](std::string_view s, uint64_t& v) {
        v = 0;
        for (char c : s) {
            if (c < '0' || c > '9') return false;
            v = v * 10 + uint64_t(c - '0');
        }
        return true;
    };
    ShardName name;
    if (tail[0] != '-' || tail.substr(6, 4) != "-of-" || !digits(tail.substr(1, 5), name.k) ||
        !digits(tail.substr(10, 5), name.n))
        return std::nullopt;
    name.prefix = std::string(path.substr(0, path.size() - kExt.size() - kTail));
    return name;
}

std::string shard_path(const std::string& prefix, uint64_t k, uint64_t n) {
    char tail[64];
    std::snprintf(tail, sizeof tail, "-%05llu-of-%05llu.gguf", static_cast<unsigned long long>(k),
                  static_cast<unsigned long long>(n));
    return prefix + tail;
}

std::string shard_of(size_t k, size_t n) { return "shard " + std::to_string(k + 1) + " of " + std::to_string(n); }

}  // namespace

std::optional<SplitInfo> split_info(const GgufFile& f) {
    const auto count = f.get_uint("split.count");
    if (!count || *count <= 1) return std::nullopt;
    return SplitInfo{f.get_uint("split.no").value_or(0), *count};
}

bool is_split_key(std::string_view key) noexcept {
    return key == "split.no" || key == "split.count" || key == "split.tensors.count";
}

std::vector<std::string> shard_paths(const std::string& path, uint64_t count) {
    const auto name = parse_shard_name(path);
    if (!name)
        throw Error("cannot find the other shards: the file name is not NAME-0000K-of-0000N.gguf", std::nullopt, path);
    if (name->n != count)
        throw Error("the file name says " + std::to_string(name->n) + " shards, its split.count says " +
                        std::to_string(count),
                    std::nullopt, path);
    std::vector<std::string> paths;
    for (uint64_t k = 1; k <= count; ++k) paths.push_back(shard_path(name->prefix, k, count));
    return paths;
}

std::vector<std::string> output_shard_paths(const std::string& out, uint64_t count) {
    std::string prefix = out;
    if (const auto name = parse_shard_name(out); name && name->n == count) {
        prefix = name->prefix;
    } else if (prefix.size() > 5 && prefix.compare(prefix.size() - 5, 5, ".gguf") == 0) {
        prefix.resize(prefix.size() - 5);
    }
    std::vector<std::string> paths;
    for (uint64_t k = 1; k <= count; ++k) paths.push_back(shard_path(prefix, k, count));
    return paths;
}

GgufModel GgufModel::open(const std::string& path, Open how) {
    return open(path, how, [](const std::string& p) { return GgufFile::open(p); }, shard_paths);
}

GgufModel GgufModel::open(const std::string& path, Open how, const FileOpener& open_file,
                          const ShardNamer& shard_names) {
    GgufModel m;
    GgufFile first = open_file(path);
    const auto split = split_info(first);
    if (how == Open::FileOnly || !split) {
        m.owned_.push_back(std::move(first));
        m.files_.push_back(&m.owned_[0]);
        return m;
    }
    std::vector<std::string> paths;
    try {
        paths = shard_names(path, split->count);
    } catch (const Error& e) {
        throw Error(std::string(e.what()) + " (--shard-only reads this shard alone)", e.offset(), e.file());
    }
    // The name and the metadata must agree on which shard this is before the others are looked for.
    const uint64_t k_named = uint64_t(std::find(paths.begin(), paths.end(), path) - paths.begin()) + 1;
    if (k_named > paths.size() || split->index != k_named - 1)
        throw Error("split.no is " + std::to_string(split->index) + ", but the file name makes it " +
                        shard_of(k_named - 1, paths.size()) + " (split.no " + std::to_string(k_named - 1) + ")",
                    std::nullopt, first.path());
    m.owned_.reserve(paths.size());
    for (size_t k = 0; k < paths.size(); ++k) {
        if (k == split->index) {
            m.owned_.push_back(std::move(first));
            continue;
        }
        try {
            m.owned_.push_back(open_file(paths[k]));
        } catch (const Error& e) {
            throw Error(shard_of(k, paths.size()) + ": " + e.what(), e.offset(), e.file().empty() ? paths[k] : e.file());
        }
    }
    for (const GgufFile& f : m.owned_) m.files_.push_back(&f);
    m.given_ = size_t(split->index);
    m.check();
    return m;
}

GgufModel GgufModel::of(std::span<const GgufFile* const> files, size_t given) {
    if (files.empty() || given >= files.size()) throw Error("internal error: a model of no files");
    GgufModel m;
    m.files_.assign(files.begin(), files.end());
    m.given_ = given;
    if (m.files_.size() > 1) m.check();
    return m;
}

GgufModel GgufModel::of(const GgufFile& file) {
    const GgufFile* f = &file;
    return of(std::span(&f, 1));
}

void GgufModel::check() const {
    const size_t n = files_.size();
    uint64_t total = 0;
    for (const GgufFile* f : files_) total += f->tensors().size();
    std::unordered_map<std::string_view, size_t> names;
    names.reserve(size_t(total));
    for (size_t k = 0; k < n; ++k) {
        const GgufFile& f = *files_[k];
        const auto split = split_info(f);
        if (!split || split->count != n)
            throw Error(std::string(split ? "split.count is " + std::to_string(split->count) : "no split.count above 1") +
                            ", but the model has " + std::to_string(n) + " shards (" + escape(files_[0]->path()) + " ...)",
                        std::nullopt, f.path());
        const auto no = f.get_uint("split.no");
        if (!no || *no != k)
            throw Error((no ? "split.no is " + std::to_string(*no) : std::string("no split.no")) +
                            ", but this is " + shard_of(k, n) + " (split.no " + std::to_string(k) + ")",
                        std::nullopt, f.path());
        for (const TensorInfo& t : f.tensors()) {
            const auto [it, fresh] = names.emplace(t.name, k);
            if (!fresh)
                throw Error("tensor " + quoted_name(t.name) + " is also in " + escape(files_[it->second]->path()) +
                                (it->second == k ? " (twice in this shard)" : ""),
                            t.info_offset, f.path());
        }
        if (const KeyValue* kv = f.find_key("split.tensors.count")) {
            const auto declared = f.get_uint("split.tensors.count");
            if (!declared || *declared != total)
                throw Error("split.tensors.count is " + (declared ? std::to_string(*declared) : std::string("not a count")) +
                                ", but the " + std::to_string(n) + " shards hold " + std::to_string(total) + " tensors",
                            kv->offset, f.path());
        }
    }
}

uint64_t GgufModel::n_tensors() const {
    uint64_t n = 0;
    for (const GgufFile* f : files_) n += f->tensors().size();
    return n;
}

uint64_t GgufModel::file_bytes() const {
    uint64_t n = 0;
    for (const GgufFile* f : files_) n += f->file_size();
    return n;
}

std::optional<GgufModel::Found> GgufModel::find_tensor(std::string_view name) const {
    for (size_t k = 0; k < files_.size(); ++k)
        if (const TensorInfo* t = files_[k]->find_tensor(name)) return Found{uint32_t(k), t};
    return std::nullopt;
}

}  // namespace gguftk
