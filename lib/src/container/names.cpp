// Tensor selection by glob, and the names to suggest when a glob or a name finds nothing.
#include "container/names.h"

#include <fnmatch.h>

#include <algorithm>

#include "container/error.h"
#include "text/escape.h"
#include "container/model.h"
#include "text/ascii.h"

namespace gguftk {

bool glob_match(const std::string& glob, const std::string& name) {
    return fnmatch(glob.c_str(), name.c_str(), 0) == 0;
}

bool has_glob_chars(std::string_view s) noexcept { return s.find_first_of("*?[") != std::string_view::npos; }

TensorGlobs::TensorGlobs(std::vector<std::string> globs) : globs_(std::move(globs)), matched_(globs_.size()) {}

bool TensorGlobs::select(const std::string& name) { return all() || select_first(name) != npos; }

size_t TensorGlobs::select_first(const std::string& name) {
    size_t first = npos;
    for (size_t i = 0; i < globs_.size(); ++i)
        if (glob_match(globs_[i], name)) {
            matched_[i] = true;
            first = std::min(first, i);
        }
    return first;
}

const std::string* TensorGlobs::unmatched() const {
    for (size_t i = 0; i < globs_.size(); ++i)
        if (!matched_[i]) return &globs_[i];
    return nullptr;
}

namespace {

constexpr size_t kLongest = 256;  // names past this are not worth comparing (nor their cost)

// The edit distance (Levenshtein) from `pattern` to `text`; with `anywhere`, to the nearest
// stretch of `text`, its other characters free: how far a glob's literal text is from appearing
// in a name. One dynamic program over the characters of `text`, in one row of memory: a
// stretch may start anywhere when the row's first cell stays 0, and end anywhere when the best
// of the rows' last cells is taken.
size_t edit_distance(std::string_view pattern, std::string_view text, bool anywhere) {
    std::vector<size_t> row(pattern.size() + 1);
    for (size_t j = 0; j <= pattern.size(); ++j) row[j] = j;
    size_t best = row.back();
    for (size_t i = 1; i <= text.size(); ++i) {
        size_t diag = row[0];
        row[0] = anywhere ? 0 : i;
        for (size_t j = 1; j <= pattern.size(); ++j) {
            const size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (pattern[j - 1] != text[i - 1])});
            diag = up;
        }
        best = std::min(best, row.back());
    }
    return anywhere ? best : row.back();
}

// The longest run of a glob's text without wildcards: "blk.*.attn_qq.weight" gives
// ".attn_qq.weight"; a name needs it (or something near it) to be meant.
std::string longest_literal(std::string_view glob) {
    std::string best, run;
    for (size_t i = 0; i <= glob.size(); ++i) {
        if (i == glob.size() || glob[i] == '*' || glob[i] == '?' || glob[i] == '[') {
            if (run.size() > best.size()) best = run;
            run.clear();
            if (i < glob.size() && glob[i] == '[') i = std::min(glob.find(']', i + 1), glob.size() - 1);
        } else {
            run += glob[i];
        }
    }
    return best;
}

}  // namespace

// Suggestions ignore ASCII case: 'q4_k' is meant for 'q4_K.weight'.
ClosestNames::ClosestNames(std::string_view wanted)
    : wanted_(wanted), literal_(text::ascii_lowered(has_glob_chars(wanted) ? longest_literal(wanted) : wanted)),
      // A glob's literal text is short and sought anywhere in a name: it is held closer.
      limit_(has_glob_chars(wanted) ? literal_.size() / 4 : std::max<size_t>(2, literal_.size() / 3)) {}

void ClosestNames::consider(std::string_view original) {
    if (wanted_.size() > kLongest || original.size() > kLongest) return;
    const std::string name = text::ascii_lowered(original);
    size_t d = 0;
    if (!has_glob_chars(wanted_)) {
        d = edit_distance(literal_, name, false);
        // Every name contains "": an empty name is compared by distance only.
        if (d > limit_ && (literal_.empty() || name.find(literal_) == std::string::npos)) return;
    } else {
        // A glob's wildcards stand for any text: what it must contain is its literal text, and
        // below three characters that is in too many names to point at any.
        if (literal_.size() < 3) return;
        d = edit_distance(literal_, name, true);
        if (d > limit_) return;
    }
    ++n_near_;
    const auto at = std::upper_bound(best_.begin(), best_.end(), d, [](size_t v, const auto& e) { return v < e.first; });
    if (size_t(at - best_.begin()) >= kShown) return;
    best_.insert(at, {d, std::string(original)});
    if (best_.size() > kShown) best_.pop_back();
}

std::string ClosestNames::message(std::string_view kind, uint64_t n_tensors, std::string_view among,
                                  std::string_view none) const {
    std::string msg = "no tensor " + std::string(kind) + " " + quoted_name(wanted_);
    if (n_tensors == 0) return msg + " (" + std::string(none) + ")";
    if (best_.empty()) return msg + " among " + std::string(among);
    msg += "; did you mean ";
    for (size_t i = 0; i < best_.size(); ++i) msg += (i ? ", " : "") + quoted_name(best_[i].second);
    if (n_near_ > best_.size()) msg += " (or " + std::to_string(n_near_ - best_.size()) + " more)";
    return msg + '?';
}

std::vector<std::string> ClosestNames::names() const {
    std::vector<std::string> out;
    for (const auto& [distance, name] : best_) out.push_back(name);
    return out;
}

namespace {
[[noreturn]] void no_tensor(const GgufModel& model, const std::string& wanted, std::string_view kind) {
    ClosestNames near(wanted);
    for (const GgufFile* f : model.files())
        for (const TensorInfo& t : f->tensors()) near.consider(t.name);
    const std::string where = model.split() ? "model" : "file";
    const uint64_t n = model.n_tensors();
    throw ArgumentError(near.message(kind, n, "the " + where + "'s " + std::to_string(n) + " tensors (gguf-inspect lists them)",
                             "the " + where + " has no tensors"),
                std::nullopt, model.given().path());
}
}  // namespace

void require_matched(const TensorGlobs& globs, const GgufModel& model) {
    if (const std::string* g = globs.unmatched()) no_tensor(model, *g, "matches");
}

void no_tensor_named(const GgufModel& model, const std::string& name) { no_tensor(model, name, "named"); }

FoundTensor find_one_tensor(const GgufModel& model, const std::string& name) {
    if (const auto found = model.find_tensor(name)) return {found->file, found->tensor};
    if (!has_glob_chars(name)) no_tensor_named(model, name);
    constexpr size_t kShown = 5;
    std::vector<FoundTensor> matches;
    uint64_t n = 0;
    const auto& files = model.files();
    for (size_t k = 0; k < files.size(); ++k)
        for (const TensorInfo& t : files[k]->tensors())
            if (glob_match(name, t.name) && ++n <= kShown) matches.push_back({uint32_t(k), &t});
    if (n == 1) return matches.front();
    if (n == 0) no_tensor(model, name, "matches");
    std::string msg = quoted_name(name) + " matches " + std::to_string(n) + " tensors (";
    for (size_t i = 0; i < matches.size(); ++i) msg += (i ? ", " : "") + quoted_name(matches[i].tensor->name);
    throw ArgumentError(msg + (n > kShown ? ", ...)" : ")") + ": name one", std::nullopt, model.given().path());
}

}  // namespace gguftk
