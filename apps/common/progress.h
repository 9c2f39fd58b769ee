#pragma once
// The progress line of a long run on a terminal (stderr): how far, how long so far, how long
// still, and the tensor being converted, in the terminal's width. Not drawn when stderr is not
// a terminal.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace gguftk::cli {

// "[#####     ]  50%  1.2 MB of 2.4 MB  0:03 elapsed  ETA 0:03  blk.0.ffn_down.weight" in at
// most `columns` columns: the tensor's name shortened in the middle, the bar left out when
// the line is narrow.
std::string progress_line(uint64_t done, uint64_t total, double seconds, std::string_view tensor, size_t columns);

class ProgressLine {
public:
    // `tensor_name` gives the name of job `j` (RunControl::progress's third argument).
    explicit ProgressLine(std::function<std::string(size_t job)> tensor_name);
    ~ProgressLine() { clear(); }
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;

    void update(uint64_t done, uint64_t total, size_t job);
    // Erases the line, so that what follows starts on a clean one.
    void clear();

private:
    using clock = std::chrono::steady_clock;
    std::function<std::string(size_t)> tensor_name_;
    size_t columns_;  // 0: stderr is not a terminal
    bool drawn_ = false;
    clock::time_point start_;
};

}  // namespace gguftk::cli
