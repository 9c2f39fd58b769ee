#include "progress.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "cli.h"
#include "text/columns.h"

namespace gguftk::cli {
namespace {

// "0:07", "12:34", "1:02:03".
std::string clock_time(double seconds) {
    const auto s = static_cast<uint64_t>(std::max(0.0, std::round(seconds)));
    if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    return fmt::format("{}:{:02}", s / 60, s % 60);
}

// "1.2 MB of 2.4 MB": both in the unit of the total (decimal, as the closing line's MB).
std::string bytes_of(uint64_t done, uint64_t total) {
    constexpr std::pair<double, const char*> kUnits[] = {{1e12, "TB"}, {1e9, "GB"}, {1e6, "MB"}, {1e3, "kB"}};
    for (const auto& [scale, unit] : kUnits)
        if (double(total) >= scale)
            return fmt::format("{:.1f} {} of {:.1f} {}", double(done) / scale, unit, double(total) / scale, unit);
    return fmt::format("{} B of {} B", done, total);
}

std::string eta(uint64_t done, uint64_t total, double seconds) {
    if (done >= total) return clock_time(0);
    if (done == 0) return "-:--";
    return clock_time(seconds * double(total - done) / double(done));
}

}  // namespace

std::string progress_line(uint64_t done, uint64_t total, double seconds, std::string_view tensor, size_t columns) {
    constexpr size_t kBar = 10, kLeastName = 8;
    const double frac = total ? double(std::min(done, total)) / double(total) : 1.0;
    std::string line = fmt::format("{:3.0f}%  {}  {} elapsed  ETA {}", frac * 100, bytes_of(done, total),
                                   clock_time(seconds), eta(done, total, seconds));
    if (display_width(line) + kBar + 3 + 2 + kLeastName <= columns) {
        const auto filled = static_cast<size_t>(frac * kBar);
        line = "[" + std::string(filled, '#') + std::string(kBar - filled, ' ') + "] " + line;
    }
    const size_t used = display_width(line) + 2;
    if (!tensor.empty() && used + kLeastName <= columns) line += "  " + elide_middle(tensor, columns - used);
    return line;
}

ProgressLine::ProgressLine(std::function<std::string(size_t job)> tensor_name)
    : tensor_name_(std::move(tensor_name)), columns_(terminal_columns(stderr)), start_(clock::now()) {}

// Drawn at every update: the engine reports a few times a second, so a run shorter than its
// first report draws only its last line, erased at once.
void ProgressLine::update(uint64_t done, uint64_t total, size_t job) {
    if (!columns_) return;
    const double secs = std::chrono::duration<double>(clock::now() - start_).count();
    // One column spare: a line that fills the last column leaves the cursor waiting to wrap.
    fmt::print(stderr, "\r{}\033[K", progress_line(done, total, secs, tensor_name_(job), columns_ - 1));
    std::fflush(stderr);
    drawn_ = true;
}

void ProgressLine::clear() {
    if (drawn_) fmt::print(stderr, "\r\033[K");
    drawn_ = false;
}

}  // namespace gguftk::cli
