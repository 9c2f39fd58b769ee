#pragma once
// What every gguftk binary shares: parsing flags, exit codes, error lines, terminal detection.
//
// Exit codes: 0 success, 1 a bad input file or a failed operation, 2 a usage mistake (arguments
// that do not fit the file included: ArgumentError, a glob matching nothing say); 128 + N
// for gguf-dequant stopped by signal N (it cleans up first, so it cannot just die by it).
// Errors are one line on stderr: `error: FILE: what (at offset N)`.
#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

#include "container/error.h"

namespace gguftk::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Thrown by apps for a usage mistake found after parsing (conflicting flags, say): exit 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Parses argv into `app`, then runs `body`. Turns CLI11 errors, UsageError and ArgumentError into exit 2,
// gguftk::Error and other exceptions into one `error:` line and exit 1. The line names
// Error::file() when set, else `input` (bind it to the app's input path option).
int run(CLI::App& app, int argc, char** argv, const std::function<int()>& body, const std::string& input);

// `error: FILE: what (at offset N)`, without a trailing newline.
std::string error_line(const std::string& file, const Error& e);

// Checks an option's text is a whole number in [min, 2^64-1], in decimal digits only: CLI11's
// own conversion takes "18446744073709551616" as 2^64-1 and "-1" as a huge number, and says
// so in doubles.
CLI::Validator whole_number(uint64_t min);

// Checks an option's text is a finite decimal number above 0 (with `zero_too`, 0 or above),
// saying what it counts ("seconds"): CLI11's own checks print DBL_MAX in 309 digits as the
// bound, and let "nan" through to the code that turns it into milliseconds.
CLI::Validator positive_number(std::string_view unit, bool zero_too = false);

// Writes `s` to stdout and flushes; throws Error when it cannot (a full disk, a closed pipe).
void write_stdout(std::string_view s);

// Adds --version: "gguf-dequant 0.1.0 (commit 1a2b3c4d5e6f, CUDA compiled in)", the version
// being gguftk_version()'s (the CMake project version).
void add_version(CLI::App& app);

bool is_tty(std::FILE* f);
// The columns to fit on a terminal: its width (TIOCGWINSZ, else $COLUMNS, else 80), at least
// 40; 0 when `f` is not a terminal, where output is printed in full (pipes, files, tests).
size_t terminal_columns(std::FILE* f);
// Colour only on a terminal, and never when NO_COLOR is set (no-color.org).
bool use_color(std::FILE* f);

}  // namespace gguftk::cli
