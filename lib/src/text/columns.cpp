#include "text/columns.h"

#include <algorithm>
#include <numeric>
#include <unordered_map>

namespace gguftk {
namespace {

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

// The byte where code point `n` of `s` starts (s.size() past the end).
size_t byte_of(std::string_view s, size_t n) {
    size_t i = 0;
    for (; i < s.size(); ++i)
        if (!continuation(s[i]) && n-- == 0) return i;
    return s.size();
}

// The last `n` code points of `s`.
std::string_view last(std::string_view s, size_t n) {
    const size_t w = display_width(s);
    return s.substr(byte_of(s, w - std::min(w, n)));
}

}  // namespace

size_t display_width(std::string_view s) {
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return !continuation(c); }));
}

std::string elide_middle(std::string_view s, size_t width) {
    if (display_width(s) <= width) return std::string(s);
    if (width == 0) return {};
    const size_t head = (width - 1) / 2, tail = width - 1 - head;
    return std::string(s.substr(0, byte_of(s, head))) + "…" + std::string(last(s, tail));
}

std::vector<std::string> elide_names(const std::vector<std::string>& names, size_t width) {
    std::vector<std::string> out;
    std::unordered_map<std::string, std::string_view> seen;  // shortened -> the name it came from
    bool clash = false;
    for (const std::string& n : names) {
        out.push_back(elide_middle(n, width));
        const auto [it, added] = seen.emplace(out.back(), n);
        clash |= !added && it->second != n;
    }
    if (!clash) return out;
    for (size_t i = 0; i < names.size(); ++i)
        if (display_width(names[i]) > width) out[i] = width ? "…" + std::string(last(names[i], width - 1)) : "";
    return out;
}

std::vector<std::string> wrap_words(std::string_view s, size_t width) { return wrap_words(s, width, width); }

std::vector<std::string> wrap_words(std::string_view s, size_t first, size_t rest) {
    rest = std::max<size_t>(rest, 1);
    size_t width = std::max<size_t>(first, 1);
    std::vector<std::string> lines{""};
    size_t used = 0;  // columns of lines.back()
    while (!s.empty()) {
        const size_t space = s.find(' ');
        std::string_view word = s.substr(0, space);
        s = space == std::string_view::npos ? std::string_view() : s.substr(space + 1);
        if (word.empty()) continue;  // runs of spaces break lines like one
        while (!word.empty()) {
            const size_t w = display_width(word), gap = used ? 1 : 0;
            if (used + gap + w <= width) {
                lines.back() += std::string(gap, ' ') + std::string(word);
                used += gap + w;
                break;
            }
            if (used || (lines.size() == 1 && w <= rest)) {  // the word starts the next line
                lines.emplace_back();
                used = 0;
                width = rest;
                continue;
            }
            const size_t cut = byte_of(word, width);  // longer than a line: cut it
            lines.back() = std::string(word.substr(0, cut));
            lines.emplace_back();
            width = rest;
            word = word.substr(cut);
        }
    }
    if (lines.size() > 1 && lines.back().empty()) lines.pop_back();
    return lines;
}

std::string wrap_indented(std::string_view s, size_t columns, size_t indent) {
    if (!columns) return std::string(s);
    const size_t rest = columns > indent ? columns - indent : 1;
    std::string out;
    for (const std::string& l : wrap_words(s, columns, rest)) {
        if (!out.empty()) out.append("\n").append(indent, ' ');
        out += l;
    }
    return out;
}

std::string fit_line(std::string_view head, std::string_view rest, size_t columns) {
    std::string whole = std::string(head) + std::string(rest);
    if (!columns || display_width(whole) < columns) return whole;
    const size_t room = columns - 1, rest_w = display_width(rest);
    // No shorter than half the line: the rest may as well go on to the next one.
    return wrap_indented(elide_middle(head, std::max(room > rest_w ? room - rest_w : 0, room / 2)) + std::string(rest), room);
}

namespace {

std::string padded(const std::string& s, size_t w, bool right) {
    const size_t n = display_width(s);
    const std::string fill(w > n ? w - n : 0, ' ');
    return right ? fill + s : s + fill;
}

// Cells 1.. of a row, each padded to its column's width, without trailing spaces.
std::string cells_line(const std::vector<std::string>& row, const std::vector<size_t>& w, const std::vector<bool>& right) {
    std::string line;
    for (size_t c = 1; c < row.size(); ++c) {
        if (c > 1) line += ' ';
        line += padded(row[c], w[c], right[c]);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    return line;
}

}  // namespace

std::string fit_table(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right,
                      size_t columns, size_t least_name) {
    std::vector<size_t> w(right.size(), 0);
    for (const auto& row : rows)
        for (size_t c = 0; c < row.size(); ++c) w[c] = std::max(w[c], display_width(row[c]));
    // Columns after the name: their widths and the spaces between them.
    const size_t cells_w = std::accumulate(w.begin() + 1, w.end(), size_t{0}) + (w.size() > 1 ? w.size() - 2 : 0);
    const size_t room = columns > cells_w + 2 ? columns - cells_w - 2 : 0;
    const bool stacked = room < std::min(w[0], least_name);
    if (!stacked) w[0] = std::min(w[0], room);
    std::vector<std::string> names;
    for (const auto& row : rows) names.push_back(row[0]);
    names = elide_names(names, stacked ? columns : w[0]);
    std::string out;
    for (size_t r = 0; r < rows.size(); ++r) {
        const auto& row = rows[r];
        const std::string& name = names[r];
        const std::string cells = cells_line(row, w, right);
        if (stacked) out += name + "\n  " + cells + '\n';
        else out += (cells.empty() ? name : padded(name, w[0], false) + "  " + cells) + '\n';
    }
    return out;
}

}  // namespace gguftk
