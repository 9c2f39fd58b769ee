#pragma once
// Choosing tensors by name: the one rule every tool follows.
//
// --tensors takes globs (fnmatch(3): * ? [...], no flags; a name holding a NUL byte is matched
// up to it). A tensor is selected when any glob matches its name, and every glob must select at
// least one tensor: a glob that selects nothing is a typo far more often than a wish, so it is an
// Error naming the glob and the names closest to it. A name asked for exactly (gguf-hexdump
// --tensor) fails the same way.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gguftk {

bool glob_match(const std::string& glob, const std::string& name);
bool has_glob_chars(std::string_view s) noexcept;  // * ? or [: a glob rather than a name

// The globs of --tensors, and which of them have matched a name so far.
class TensorGlobs {
public:
    TensorGlobs() = default;
    explicit TensorGlobs(std::vector<std::string> globs);
    bool all() const noexcept { return globs_.empty(); }  // no glob: every tensor
    // Whether any glob matches `name`; each glob that does is marked as having matched.
    bool select(const std::string& name);
    // The index of the first glob matching `name`, or npos; each glob that matches is marked.
    size_t select_first(const std::string& name);
    static constexpr size_t npos = size_t(-1);
    // The first glob that has matched nothing, if any.
    const std::string* unmatched() const;

private:
    std::vector<std::string> globs_;
    std::vector<bool> matched_;
};

// The names closest to a wanted one, fed every candidate name in turn: those within a small
// edit distance, or containing its literal text (a glob's wildcards set aside), best first.
class ClosestNames {
public:
    explicit ClosestNames(std::string_view wanted);
    void consider(std::string_view name);
    // "no tensor named 'x'; did you mean 'a', 'b'?" (kind "named"; "matches" for a glob), or
    // "no tensor named 'x' among AMONG" when none is close, or "... (NONE)" when there are
    // no tensors at all (n_tensors 0).
    std::string message(std::string_view kind, uint64_t n_tensors, std::string_view among,
                        std::string_view none) const;
    // The nearest names found, best first (at most five): for lists of other things than tensors.
    std::vector<std::string> names() const;

private:
    static constexpr size_t kShown = 5;
    std::string wanted_, literal_;
    size_t limit_ = 0;
    uint64_t n_near_ = 0;
    std::vector<std::pair<size_t, std::string>> best_;  // the kShown nearest, by distance
};

class GgufModel;
struct TensorInfo;
// An Error naming the first glob of `globs` that selected nothing, and the model's names
// closest to it; nothing when every glob selected a tensor.
void require_matched(const TensorGlobs& globs, const GgufModel& model);
// The Error for a name the model holds no tensor of.
[[noreturn]] void no_tensor_named(const GgufModel& model, const std::string& name);
// The one tensor `name` names: the tensor of that name, else, when `name` is a glob, the only
// tensor it matches. An Error when there is none (with the closest names) or more than one.
struct FoundTensor {
    uint32_t file = 0;  // index into model.files()
    const TensorInfo* tensor = nullptr;
};
FoundTensor find_one_tensor(const GgufModel& model, const std::string& name);

}  // namespace gguftk
