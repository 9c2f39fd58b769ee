// The text view: what a person reads in a terminal.
#include <fmt/core.h>

#include <algorithm>
#include <functional>

#include "text/columns.h"
#include "inspect/inspect.h"
#include "inspect/detail.h"
#include "text/text_out.h"

namespace gguftk {
namespace {

// Columns are measured in code points (text/columns.h): escaped text holds no control
// characters.
size_t width(std::string_view s) { return display_width(s); }

std::string pad(std::string s, size_t w, bool right = false) {
    const size_t n = width(s);
    if (n >= w) return s;
    return right ? std::string(w - n, ' ') + s : s + std::string(w - n, ' ');
}

struct Style {
    bool on;
    std::string bold(std::string_view s) const { return on ? fmt::format("\x1b[1m{}\x1b[0m", s) : std::string(s); }
    std::string dim(std::string_view s) const { return on ? fmt::format("\x1b[2m{}\x1b[0m", s) : std::string(s); }
};

// How a table fits a terminal (InspectOptions::columns; 0: it does not have to): the last
// column, when it is text, wraps onto lines of its own; then the `elastic` column (a name) is
// shortened in the middle.
struct Fit {
    size_t columns = 0;
    std::optional<size_t> elastic;
};

// Narrows the widths `w` until a line of them fits fit.columns, if it can.
void narrow(std::vector<size_t>& w, const std::vector<bool>& right, const Fit& fit) {
    constexpr size_t kNarrowestText = 16, kNarrowestName = 12;
    size_t total = 1;
    for (size_t c : w) total += 1 + c;
    if (!fit.columns || total <= fit.columns) return;
    auto take = [&](size_t c, size_t least) {
        const size_t cut = std::min(total - fit.columns, w[c] > least ? w[c] - least : 0);
        w[c] -= cut;
        total -= cut;
    };
    if (!right.back()) take(w.size() - 1, kNarrowestText);
    if (fit.elastic && total > fit.columns) take(*fit.elastic, kNarrowestName);
}

// A table of n rows, row(i) giving row i's cells, columns padded to their widest cell; `right`
// marks numeric columns. Rows are made twice (once to measure, once to print) rather than
// kept: a file decides how many there are. Row 0 is the heading, in bold, unless !heading.
template <class Row>
void table(TextOut& out, size_t n, Row&& row, const std::vector<bool>& right, const Style& st, bool heading = true,
           const Fit& fit = {}) {
    std::vector<size_t> w(right.size(), 0);
    for (size_t i = 0; i < n; ++i) {
        const std::vector<std::string> r = row(i);
        for (size_t c = 0; c < r.size(); ++c) w[c] = std::max(w[c], width(r[c]));
    }
    const size_t full_last = w.back();
    narrow(w, right, fit);
    const bool wrap = w.back() < full_last;
    for (size_t i = 0; i < n; ++i) {
        std::vector<std::string> r = row(i);
        if (fit.elastic) r[*fit.elastic] = elide_middle(r[*fit.elastic], w[*fit.elastic]);
        std::string line = " ";
        for (size_t c = 0; c + 1 < r.size(); ++c) line += ' ' + pad(r[c], w[c], right[c]);
        // The last column is not padded (no trailing spaces), unless right-aligned.
        const size_t indent = width(line) + 1;
        const std::vector<std::string> last = wrap ? wrap_words(r.back(), w.back()) : std::vector{r.back()};
        line += ' ' + (right.back() ? pad(last[0], w.back(), true) : last[0]);
        for (size_t k = 1; k < last.size(); ++k) line += '\n' + std::string(indent, ' ') + last[k];
        out += heading && i == 0 ? st.bold(line) : line;
        out += '\n';
    }
}

// A table whose rows are at hand (a few, whatever the file).
void table(TextOut& out, const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right,
           const Style& st, bool heading, const Fit& fit) {
    table(out, rows.size(), [&](size_t i) { return rows[i]; }, right, st, heading, fit);
}

// A line of text in `columns` (none: as it is), continued on lines indented by two.
std::string fitted(const std::string& line, size_t columns) {
    if (!columns) return line;
    std::string out;
    for (const std::string& l : wrap_words(line, columns, columns - 2)) out += (out.empty() ? "" : "\n  ") + l;
    return out;
}

// "FILE: GGUF v3, ...": the file's name (its middle left out when it would take more than half
// the line) and, on a terminal, the facts wrapped after it.
std::string header_line(const GgufFile& f, const Style& st, size_t columns) {
    std::string path = escape(f.path());
    const std::string facts = fmt::format(
        "GGUF v{}, {}-endian, alignment {}, {} metadata entries, {} tensors, {} bytes ({})", f.version(),
        f.big_endian() ? "big" : "little", f.alignment(), f.metadata().size(), f.tensors().size(), f.file_size(),
        human_bytes(f.file_size()));
    if (!columns) return st.bold(path) + ": " + facts + '\n';
    path = elide_middle(path, columns / 2);
    std::string out = st.bold(path) + ":";
    const std::vector<std::string> lines = wrap_words(facts, columns - width(path) - 2, columns - 2);
    for (size_t i = 0; i < lines.size(); ++i) out += (i ? "  " : lines[0].empty() ? "" : " ") + lines[i] + '\n';
    return out;
}

// "shard 2 of 3 of a split model ...": which shard, and what the totals cover.
std::string split_line(const Inspection& in) {
    std::string s = fmt::format("shard {} of {} of a split model", in.split->index + 1, in.split->count);
    if (in.model_files == 1) return s + "; --shard-only: the totals are this file's alone";
    return s + (in.shards_listed ? "" : " (--shards lists the tensors of all of them)");
}

std::string totals_title(const Inspection& in) {
    return in.model_files > 1 ? fmt::format("Totals (all {} shards)", in.model_files) : "Totals";
}

// The view in the sections' shared order (inspect/detail.h).
class TextView {
public:
    TextView(const Inspection& in, const InspectOptions& opts, const TextSink& sink)
        : in_(in), opts_(opts), f_(*in.file), st_{opts.color}, cols_(opts.columns), out_(sink) {}

    void header() {
        out_ += header_line(f_, st_, cols_);
        if (in_.remote) out_ += fitted(remote_line(*in_.remote), cols_) + '\n';
        if (in_.split) out_ += fitted(split_line(in_), cols_) + '\n';
    }

    void metadata() {
        if (!opts_.metadata) return;
        title(fmt::format("Metadata ({} entries)", f_.metadata().size()));
        const auto row = [&](size_t i) -> std::vector<std::string> {
            if (i == 0) return {"key", "type", "count", "value"};
            const KeyValue& kv = f_.metadata()[i - 1];
            return {escape(kv.key), display_type(f_, kv), kv.type == ValueType::ARRAY ? std::to_string(kv.count) : "",
                    display_value(f_.value(kv, opts_.max_array_items), opts_, EscapeFor::Text) +
                        inspect_detail::file_type_note(f_, kv)};
        };
        if (!f_.metadata().empty())
            table(out_, f_.metadata().size() + 1, row, {false, false, true, false}, st_, true, {cols_, 0});
    }

    void tensors() {
        if (!opts_.tensors) return;
        title(fitted(tensors_title(), cols_));
        std::vector<bool> right{true, false, false, false, true, true, true, true};
        if (in_.shards_listed) right.insert(right.begin(), true);
        const auto row = [&](size_t i) { return i == 0 ? tensor_heading() : tensor_row(in_.rows[i - 1]); };
        if (!in_.rows.empty())
            table(out_, in_.rows.size() + 1, row, right, st_, true, {cols_, in_.shards_listed ? 2u : 1u});
    }

    void summary() {
        types();
        totals();
        dequantized();
    }

    void memory() {
        if (!in_.memory) return;
        title(fitted(inspect_detail::memory_title(*in_.memory), cols_));
        std::vector<std::vector<std::string>> mem;
        for (auto& [label, value] : inspect_detail::memory_rows(*in_.memory)) mem.push_back({label, value});
        table(out_, mem, {false, false}, st_, false, {cols_, std::nullopt});
    }

    void end() { out_.flush(); }

private:
    void title(const std::string& t) { out_ += '\n' + st_.bold(t) + '\n'; }

    std::string tensors_title() const {
        std::string t = fmt::format("Tensors ({}", in_.rows.size());
        const size_t all = in_.shards_listed ? 0 : f_.tensors().size();
        if (!in_.shards_listed && in_.rows.size() != all) t += fmt::format(" of {}", all);
        t += in_.shards_listed ? fmt::format(" in {} shards)", in_.shard_names.size()) : ")";
        if (!in_.rows.empty()) t += ", shapes in GGUF order: ne0 (the row length) first";
        return t;
    }

    std::vector<std::string> tensor_heading() const {
        std::vector<std::string> cells;
        if (in_.shards_listed) cells.push_back("shard");
        for (const char* h : {"#", "name", "type", "shape", "elements", "bytes", "bpw", "offset"}) cells.push_back(h);
        return cells;
    }

    std::vector<std::string> tensor_row(const TensorRow& r) const {
        const TensorInfo& t = *r.tensor;
        std::vector<std::string> cells;
        if (in_.shards_listed) cells.push_back(std::to_string(r.shard));
        for (std::string cell : {std::to_string(&t - r.file->tensors().data()), escape(t.name),
                                 std::string(t.type->name), shape_string(t), std::to_string(t.n_elements),
                                 std::to_string(t.size), inspect_detail::bpw_text(t), std::to_string(t.offset)})
            cells.push_back(std::move(cell));
        return cells;
    }

    void types() {
        if (in_.totals.tensors == 0) return;
        title("Types");
        std::vector<std::vector<std::string>> rows{{"type", "tensors", "elements", "bytes", "share of file"}};
        for (const TypeTotal& tt : in_.totals.by_type)
            rows.push_back({std::string(tt.type->name), std::to_string(tt.tensors), std::to_string(tt.elements),
                            std::to_string(tt.bytes), inspect_detail::share_text(tt, in_)});
        table(out_, rows, {false, true, true, true, true}, st_, true, {cols_, std::nullopt});
    }

    void totals() {
        const Totals& tot = in_.totals;
        title(totals_title(in_));
        std::string stored = fmt::format("{} bytes ({})", tot.bytes, human_bytes(tot.bytes));
        if (const auto bpw = tot.bits_per_weight()) stored += fmt::format(", {:.3f} bits per weight", *bpw);
        table(out_, {{"tensors", std::to_string(tot.tensors)}, {"parameters", std::to_string(tot.parameters)},
                     {"stored size", stored}},
              {false, false}, st_, false, {cols_, std::nullopt});
    }

    void dequantized() {
        title("gguf-dequant output, whole model (GGUF)");
        if (in_.dequantized.empty()) {
            out_ += "  none: " + escape(in_.not_convertible) + '\n';
            return;
        }
        const auto size = [](uint64_t n) { return fmt::format("{} bytes ({})", n, human_bytes(n)); };
        std::vector<std::vector<std::string>> rows{{"", "tensor bytes", "file size"}};
        for (const Dequantized& d : in_.dequantized)
            for (const bool all : {false, true}) {
                const ConversionSize& c = all ? d.all : d.quantized;
                rows.push_back({fmt::format("--to {}{}", out_type_name(d.to), all ? " --all" : ""),
                                size(c.tensor_bytes),
                                size(c.file_bytes) + (c.files > 1 ? fmt::format(" in {} files", c.files) : "")});
            }
        table(out_, rows, {false, false, false}, st_, true, {cols_, std::nullopt});
    }

    const Inspection& in_;
    const InspectOptions& opts_;
    const GgufFile& f_;
    const Style st_;
    const size_t cols_;
    TextOut out_;
};

}  // namespace

void render_text(const Inspection& in, const InspectOptions& opts, const std::function<void(std::string_view)>& sink) {
    TextView view(in, opts, sink);
    inspect_detail::write_sections(view);
}

std::string render_text(const Inspection& in, const InspectOptions& opts) {
    return collect([&](const TextSink& sink) { render_text(in, opts, sink); });
}

}  // namespace gguftk
