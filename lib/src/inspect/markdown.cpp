// The Markdown view: the text view's content as tables, for reports and issues.
// Everything from the file is escaped for Markdown (gguftk/escape.h, markdown_text), so that a
// CommonMark renderer shows it exactly as the text view does: a name cannot end a table cell
// (|), open a code span, emphasis or a link, inject HTML (< >) or an entity (&).
#include <fmt/core.h>

#include <functional>

#include "gguftk/inspect.h"
#include "inspect/detail.h"
#include "text/text_out.h"

namespace gguftk {
namespace {

// A table of n rows, row(i) giving row i's cells, written as they are made: a file decides how
// many rows there are.
template <class Row>
void table(TextOut& out, const std::vector<std::string>& head, const std::vector<bool>& right, size_t n, Row&& row) {
    out += "|";
    for (const auto& h : head) out += " " + h + " |";
    out += "\n|";
    for (bool r : right) out += r ? " ---: |" : " --- |";
    out += "\n";
    for (size_t i = 0; i < n; ++i) {
        out += "|";
        for (const auto& c : row(i)) out += " " + c + " |";
        out += "\n";
    }
}

void table(TextOut& out, const std::vector<std::string>& head, const std::vector<bool>& right,
           const std::vector<std::vector<std::string>>& rows) {
    table(out, head, right, rows.size(), [&](size_t i) { return rows[i]; });
}

std::string md(std::string_view s) { return escape(s, EscapeFor::Markdown); }

}  // namespace

void render_markdown(const Inspection& in, const InspectOptions& opts,
                     const std::function<void(std::string_view)>& sink) {
    const GgufFile& f = *in.file;
    TextOut out(sink);
    out += "# " + md(f.path()) + "\n\n";
    out += fmt::format("GGUF v{}, {}-endian, alignment {}, {} metadata entries, {} tensors, {} bytes ({}).\n",
                       f.version(), f.big_endian() ? "big" : "little", f.alignment(), f.metadata().size(),
                       f.tensors().size(), f.file_size(), human_bytes(f.file_size()));
    if (in.remote) out += remote_line(*in.remote) + ".\n";
    if (in.split) {
        out += fmt::format("Shard {} of {} of a split model", in.split->index + 1, in.split->count);
        out += in.model_files > 1 ? fmt::format("; the totals are of all {} shards.\n", in.model_files)
                                  : std::string("; the totals are this file's alone (--shard-only).\n");
    }

    if (opts.metadata) {
        out += "\n## Metadata\n\n";
        const auto row = [&](size_t i) -> std::vector<std::string> {
            const KeyValue& kv = f.metadata()[i];
            return {md(kv.key), md(display_type(f, kv)), kv.type == ValueType::ARRAY ? std::to_string(kv.count) : "",
                    display_value(f.value(kv, opts.max_array_items), opts, EscapeFor::Markdown) + inspect_detail::file_type_note(f, kv)};
        };
        if (f.metadata().empty()) out += "None.\n";
        else table(out, {"key", "type", "count", "value"}, {false, false, true, false}, f.metadata().size(), row);
    }

    if (opts.tensors) {
        out += "\n## Tensors\n\n";
        const auto tensor_row = [&](size_t i) {
            const TensorRow& r = in.rows[i];
            const TensorInfo& t = *r.tensor;
            std::vector<std::string> row;
            if (in.shards_listed) row.push_back(std::to_string(r.shard));
            row.push_back(std::to_string(&t - r.file->tensors().data()));
            row.push_back(md(t.name));
            row.push_back(std::string(t.type->name));
            row.push_back(shape_string(t));
            row.push_back(std::to_string(t.n_elements));
            row.push_back(std::to_string(t.size));
            row.push_back(t.n_elements ? fmt::format("{:.2f}", 8.0 * static_cast<double>(t.size) / t.n_elements)
                                       : "-");
            row.push_back(std::to_string(t.offset));
            return row;
        };
        std::vector<std::string> head{"#", "name", "type", "shape", "elements", "bytes", "bpw", "offset"};
        std::vector<bool> right{true, false, false, false, true, true, true, true};
        if (in.shards_listed) head.insert(head.begin(), "shard"), right.insert(right.begin(), true);
        if (in.rows.empty()) {
            out += "None.\n";
        } else {
            out += "Shapes in GGUF order: ne0 (the row length) first; NumPy and PyTorch give the reverse.\n\n";
            table(out, head, right, in.rows.size(), tensor_row);
        }
    }

    const Totals& tot = in.totals;
    if (tot.tensors > 0) {
        out += "\n## Types\n\n";
        std::vector<std::vector<std::string>> rows;
        for (const TypeTotal& tt : tot.by_type)
            rows.push_back({std::string(tt.type->name), std::to_string(tt.tensors), std::to_string(tt.elements),
                            std::to_string(tt.bytes),
                            fmt::format("{:.1f}%", 100.0 * static_cast<double>(tt.bytes) /
                                                       static_cast<double>(std::max<uint64_t>(in.files_bytes, 1)))});
        table(out, {"type", "tensors", "elements", "bytes", "share of file"}, {false, true, true, true, true}, rows);
    }

    out += "\n## Totals\n\n";
    std::vector<std::vector<std::string>> totals{{"tensors", std::to_string(tot.tensors)},
                                                 {"parameters", std::to_string(tot.parameters)},
                                                 {"stored bytes", fmt::format("{} ({})", tot.bytes, human_bytes(tot.bytes))}};
    if (const auto bpw = tot.bits_per_weight()) totals.push_back({"bits per weight", fmt::format("{:.3f}", *bpw)});
    table(out, {"", "value"}, {false, true}, totals);

    out += "\n## gguf-dequant output, whole model (GGUF)\n\n";
    if (in.dequantized.empty()) {
        out += "None: " + md(in.not_convertible) + ".\n";
    } else {
        std::vector<std::vector<std::string>> rows;
        for (const Dequantized& d : in.dequantized)
            for (const bool all : {false, true}) {
                const ConversionSize& c = all ? d.all : d.quantized;
                rows.push_back({fmt::format("`--to {}{}`", out_type_name(d.to), all ? " --all" : ""),
                                fmt::format("{} ({})", c.tensor_bytes, human_bytes(c.tensor_bytes)),
                                fmt::format("{} ({})", c.file_bytes, human_bytes(c.file_bytes)),
                                std::to_string(c.files)});
            }
        table(out, {"gguf-dequant", "tensor bytes", "file bytes", "files"}, {false, true, true, true}, rows);
    }

    if (in.memory) {
        out += "\n## " + inspect_detail::memory_title(*in.memory) + "\n\n";
        std::vector<std::vector<std::string>> rows;
        for (auto& [label, value] : inspect_detail::memory_rows(*in.memory)) rows.push_back({label, md(value)});
        table(out, {"", "value"}, {false, false}, rows);
    }
    out.flush();
}

std::string render_markdown(const Inspection& in, const InspectOptions& opts) {
    return collect([&](const TextSink& sink) { render_markdown(in, opts, sink); });
}

}  // namespace gguftk
