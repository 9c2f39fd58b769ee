#pragma once
// The one error type of the library: what failed, and where in the file when that is known.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace gguftk {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what, std::optional<uint64_t> offset = std::nullopt,
                   std::string file = {})
        : std::runtime_error(what), offset_(offset), file_(std::move(file)) {}
    // Absolute byte offset in the file the problem was found at, if any.
    std::optional<uint64_t> offset() const noexcept { return offset_; }
    // The file concerned, when the thrower knows it better than the caller (an output, a shard).
    const std::string& file() const noexcept { return file_; }

private:
    std::optional<uint64_t> offset_;
    std::string file_;
};

// Arguments that do not fit the file: a name or glob naming no tensor (or several where one is
// wanted), a row or block past a tensor's end. The file is not at fault, so the tools exit as
// for a usage mistake (2): a script tells a typo from a failed check or a damaged file (1).
class ArgumentError : public Error {
public:
    using Error::Error;
};

}  // namespace gguftk
