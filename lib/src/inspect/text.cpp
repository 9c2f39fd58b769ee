// The text view: what a person reads in a terminal.
#include <fmt/core.h>

#include <algorithm>
#include <functional>

#include "gguftk/inspect.h"
#include "inspect/detail.h"
#include "text/text_out.h"

namespace gguftk {
namespace {

// Columns are measured in code points: escaped text holds no control characters, and most
// names are ASCII. (East Asian wide characters would need wcwidth; close enough for a table.)
size_t width(std::string_view s) {
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xc0) != 0x80; }));
}

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

// A table of n rows, row(i) giving row i's cells, columns padded to their widest cell; `right`
// marks numeric columns. Rows are made twice (once to measure, once to print) rather than
// kept: a file decides how many there are. Row 0 is the heading, in bold, unless !heading.
template <class Row>
void table(TextOut& out, size_t n, Row&& row, const std::vector<bool>& right, const Style& st, bool heading = true) {
    std::vector<size_t> w(right.size(), 0);
    for (size_t i = 0; i < n; ++i) {
        const std::vector<std::string> r = row(i);
        for (size_t c = 0; c < r.size(); ++c) w[c] = std::max(w[c], width(r[c]));
    }
    for (size_t i = 0; i < n; ++i) {
        const std::vector<std::string> r = row(i);
        std::string line = " ";
        for (size_t c = 0; c < r.size(); ++c) {
            // The last column is not padded (no trailing spaces), unless right-aligned.
            const bool last = c + 1 == r.size();
            line += ' ';
            line += last && !right[c] ? r[c] : pad(r[c], w[c], right[c]);
        }
        out += heading && i == 0 ? st.bold(line) : line;
        out += '\n';
    }
}

// A table whose rows are at hand (a few, whatever the file).
void table(TextOut& out, const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right,
           const Style& st, bool heading = true) {
    table(out, rows.size(), [&](size_t i) { return rows[i]; }, right, st, heading);
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

std::string bpw(const TensorInfo& t) {
    return t.n_elements ? fmt::format("{:.2f}", 8.0 * static_cast<double>(t.size) / t.n_elements) : "-";
}

}  // namespace

void render_text(const Inspection& in, const InspectOptions& opts, const std::function<void(std::string_view)>& sink) {
    const GgufFile& f = *in.file;
    const Style st{opts.color};
    TextOut out(sink);

    out += st.bold(escape(f.path())) + ": ";
    out += fmt::format("GGUF v{}, {}-endian, alignment {}, {} metadata entries, {} tensors, {} bytes ({})\n",
                       f.version(), f.big_endian() ? "big" : "little", f.alignment(), f.metadata().size(),
                       f.tensors().size(), f.file_size(), human_bytes(f.file_size()));
    if (in.remote) out += remote_line(*in.remote) + '\n';
    if (in.split)
        out += split_line(in) + '\n';

    if (opts.metadata) {
        out += '\n' + st.bold(fmt::format("Metadata ({} entries)", f.metadata().size())) + '\n';
        const auto row = [&](size_t i) -> std::vector<std::string> {
            if (i == 0) return {"key", "type", "count", "value"};
            const KeyValue& kv = f.metadata()[i - 1];
            return {escape(kv.key), display_type(f, kv), kv.type == ValueType::ARRAY ? std::to_string(kv.count) : "",
                    display_value(f.value(kv, opts.max_array_items), opts, EscapeFor::Text)};
        };
        if (!f.metadata().empty()) table(out, f.metadata().size() + 1, row, {false, false, true, false}, st);
    }

    if (opts.tensors) {
        std::string title = fmt::format("Tensors ({}", in.rows.size());
        const size_t all = in.shards_listed ? 0 : f.tensors().size();
        if (!in.shards_listed && in.rows.size() != all) title += fmt::format(" of {}", all);
        title += in.shards_listed ? fmt::format(" in {} shards)", in.shard_names.size()) : ")";
        if (!in.rows.empty()) title += ", shapes in GGUF order: ne0 (the row length) first";
        out += '\n' + st.bold(title) + '\n';
        std::vector<bool> right{true, false, false, false, true, true, true, true};
        if (in.shards_listed) right.insert(right.begin(), true);
        const auto row = [&](size_t i) {
            std::vector<std::string> cells;
            if (i == 0) {
                if (in.shards_listed) cells.push_back("shard");
                for (const char* h : {"#", "name", "type", "shape", "elements", "bytes", "bpw", "offset"}) cells.push_back(h);
                return cells;
            }
            const TensorRow& r = in.rows[i - 1];
            const TensorInfo& t = *r.tensor;
            if (in.shards_listed) cells.push_back(std::to_string(r.shard));
            for (std::string cell : {std::to_string(&t - r.file->tensors().data()), escape(t.name),
                                     std::string(t.type->name), shape_string(t), std::to_string(t.n_elements),
                                     std::to_string(t.size), bpw(t), std::to_string(t.offset)})
                cells.push_back(std::move(cell));
            return cells;
        };
        if (!in.rows.empty()) table(out, in.rows.size() + 1, row, right, st);
    }

    const Totals& tot = in.totals;
    if (tot.tensors > 0) {
        out += '\n' + st.bold("Types") + '\n';
        std::vector<std::vector<std::string>> rows{{"type", "tensors", "elements", "bytes", "share of file"}};
        for (const TypeTotal& tt : tot.by_type)
            rows.push_back({std::string(tt.type->name), std::to_string(tt.tensors), std::to_string(tt.elements),
                            std::to_string(tt.bytes),
                            fmt::format("{:.1f}%", 100.0 * static_cast<double>(tt.bytes) /
                                                       static_cast<double>(std::max<uint64_t>(in.files_bytes, 1)))});
        table(out, rows, {false, true, true, true, true}, st);
    }

    out += '\n' + st.bold(totals_title(in)) + '\n';
    std::string stored = fmt::format("{} bytes ({})", tot.bytes, human_bytes(tot.bytes));
    if (const auto bpw = tot.bits_per_weight()) stored += fmt::format(", {:.3f} bits per weight", *bpw);
    table(out, {{"tensors", std::to_string(tot.tensors)}, {"parameters", std::to_string(tot.parameters)},
                {"stored size", stored}},
          {false, false}, st, false);

    out += '\n' + st.bold("gguf-dequant output, whole model (GGUF)") + '\n';
    if (in.dequantized.empty()) {
        out += "  none: " + escape(in.not_convertible) + '\n';
    } else {
        const auto size = [](uint64_t n) { return fmt::format("{} bytes ({})", n, human_bytes(n)); };
        std::vector<std::vector<std::string>> rows{{"", "tensor bytes", "file size"}};
        for (const Dequantized& d : in.dequantized)
            for (const bool all : {false, true}) {
                const ConversionSize& c = all ? d.all : d.quantized;
                rows.push_back({fmt::format("--to {}{}", out_type_name(d.to), all ? " --all" : ""),
                                size(c.tensor_bytes),
                                size(c.file_bytes) + (c.files > 1 ? fmt::format(" in {} files", c.files) : "")});
            }
        table(out, rows, {false, false, false}, st);
    }

    if (in.memory) {
        out += '\n' + st.bold(inspect_detail::memory_title(*in.memory)) + '\n';
        std::vector<std::vector<std::string>> mem;
        for (auto& [label, value] : inspect_detail::memory_rows(*in.memory)) mem.push_back({label, value});
        table(out, mem, {false, false}, st, false);
    }
    out.flush();
}

std::string render_text(const Inspection& in, const InspectOptions& opts) {
    return collect([&](const TextSink& sink) { render_text(in, opts, sink); });
}

}  // namespace gguftk
