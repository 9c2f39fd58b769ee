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

}  // namespace gguftk
