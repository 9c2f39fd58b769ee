#pragma once
// Fitting text into a terminal's columns: what the views and the tools do on a terminal (in a
// pipe they print in full). Widths are counted in code points of valid UTF-8, which is what
// escaped text is; East Asian wide characters would need wcwidth, close enough for tables.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gguftk {

// Columns `s` takes: its code points.
size_t display_width(std::string_view s);

// `s` in at most `width` columns: unchanged when it fits, else its start and its end with "…"
// between (a tensor's name keeps its block number and its weight kind). The end gets the odd
// column.
std::string elide_middle(std::string_view s, size_t width);

// `s` in lines of at most `width` columns, broken at spaces, a word longer than a line cut
// where the line ends. Never empty: "" gives one empty line.
std::vector<std::string> wrap_words(std::string_view s, size_t width);
// The same with the first line `first` columns wide (it follows something on the same line).
std::vector<std::string> wrap_words(std::string_view s, size_t first, size_t width);

}  // namespace gguftk
