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

// `names` each in at most `width` columns, shortened in the middle; but where two different names
// would read the same so (model.layers.…q_proj.weight, the layer number cut out), all are cut at
// the start instead ("…12.self_attn.q_proj.weight"): a table's rows must be told apart.
std::vector<std::string> elide_names(const std::vector<std::string>& names, size_t width);

// `s` in lines of at most `width` columns, broken at spaces, a word longer than a line cut
// where the line ends. Never empty: "" gives one empty line.
std::vector<std::string> wrap_words(std::string_view s, size_t width);
// The same with the first line `first` columns wide (it follows something on the same line).
std::vector<std::string> wrap_words(std::string_view s, size_t first, size_t width);

// `s` in lines of at most `columns` (0: as it is), those after the first indented by `indent`.
std::string wrap_indented(std::string_view s, size_t columns, size_t indent = 2);

// `head` + `rest` in `columns` (0: as they are): `head` (a path) shortened in the middle to
// leave room for `rest` (to no less than half the line), then what still does not fit wrapped onto lines indented by two. One
// column stays spare (a progress line redrawn in its place wraps in the last one).
std::string fit_line(std::string_view head, std::string_view rest, size_t columns);

// A table for a terminal `columns` wide: `rows` of cells, row 0 the heading and cell 0 a name.
// Each column is as wide as its widest cell (`right` ones right-aligned), the name two spaces
// from the rest, one between the others. When a row would not fit, the names are shortened (as
// elide_names does), to no fewer than `least_name` columns; below that each name takes a line of its
// own and its cells go on the next, indented by two. The other cells (numbers) are never cut.
std::string fit_table(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right,
                      size_t columns, size_t least_name = 20);

}  // namespace gguftk
