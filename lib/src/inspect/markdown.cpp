// The Markdown view: the text view's content as tables, for reports and issues.
// Everything from the file is escaped for Markdown (text/escape.h, markdown_text), so that a
// CommonMark renderer shows it exactly as the text view does: a name cannot end a table cell
// (|), open a code span, emphasis or a link, inject HTML (< >) or an entity (&).
#include <fmt/core.h>

#include <functional>

#include "inspect/inspect.h"
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

// The view in the sections' shared order (inspect/detail.h).
class MarkdownView {
public:
    MarkdownView(const Inspection& in, const InspectOptions& opts, const TextSink& sink)
        : in_(in), opts_(opts), f_(*in.file), out_(sink) {}

    void header() {
        out_ += "# " + md(f_.path()) + "\n\n";
        out_ += fmt::format("GGUF v{}, {}-endian, alignment {}, {} metadata entries, {} tensors, {} bytes ({}).\n",
                            f_.version(), f_.big_endian() ? "big" : "little", f_.alignment(), f_.metadata().size(),
                            f_.tensors().size(), f_.file_size(), human_bytes(f_.file_size()));
        if (in_.remote) out_ += remote_line(*in_.remote) + ".\n";
        if (!in_.split) return;
        out_ += fmt::format("Shard {} of {} of a split model", in_.split->index + 1, in_.split->count);
        out_ += in_.model_files > 1 ? fmt::format("; the totals are of all {} shards.\n", in_.model_files)
                                    : std::string("; the totals are this file's alone (--shard-only).\n");
    }

    void metadata() {
        if (!opts_.metadata) return;
        out_ += "\n## Metadata\n\n";
        const auto row = [&](size_t i) -> std::vector<std::string> {
            const KeyValue& kv = f_.metadata()[i];
            return {md(kv.key), md(display_type(f_, kv)), kv.type == ValueType::ARRAY ? std::to_string(kv.count) : "",
                    display_value(f_.value(kv, opts_.max_array_items), opts_, EscapeFor::Markdown) +
                        inspect_detail::file_type_note(f_, kv)};
        };
        if (f_.metadata().empty()) out_ += "None.\n";
        else table(out_, {"key", "type", "count", "value"}, {false, false, true, false}, f_.metadata().size(), row);
    }

    void tensors() {
        if (!opts_.tensors) return;
        out_ += "\n## Tensors\n\n";
        std::vector<std::string> head{"#", "name", "type", "shape", "elements", "bytes", "bpw", "offset"};
        std::vector<bool> right{true, false, false, false, true, true, true, true};
        if (in_.shards_listed) head.insert(head.begin(), "shard"), right.insert(right.begin(), true);
        if (in_.rows.empty()) {
            out_ += "None.\n";
            return;
        }
        out_ += "Shapes in GGUF order: ne0 (the row length) first; NumPy and PyTorch give the reverse.\n\n";
        table(out_, head, right, in_.rows.size(), [&](size_t i) { return tensor_row(in_.rows[i]); });
    }

    void summary() {
        types();
        totals();
        dequantized();
    }

    void memory() {
        if (!in_.memory) return;
        out_ += "\n## " + inspect_detail::memory_title(*in_.memory) + "\n\n";
        std::vector<std::vector<std::string>> rows;
        for (auto& [label, value] : inspect_detail::memory_rows(*in_.memory)) rows.push_back({label, md(value)});
        table(out_, {"", "value"}, {false, false}, rows);
    }

    void end() { out_.flush(); }

private:
    std::vector<std::string> tensor_row(const TensorRow& r) const {
        const TensorInfo& t = *r.tensor;
        std::vector<std::string> row;
        if (in_.shards_listed) row.push_back(std::to_string(r.shard));
        for (std::string cell : {std::to_string(&t - r.file->tensors().data()), md(t.name), std::string(t.type->name),
                                 shape_string(t), std::to_string(t.n_elements), std::to_string(t.size),
                                 inspect_detail::bpw_text(t), std::to_string(t.offset)})
            row.push_back(std::move(cell));
        return row;
    }

    void types() {
        if (in_.totals.tensors == 0) return;
        out_ += "\n## Types\n\n";
        std::vector<std::vector<std::string>> rows;
        for (const TypeTotal& tt : in_.totals.by_type)
            rows.push_back({std::string(tt.type->name), std::to_string(tt.tensors), std::to_string(tt.elements),
                            std::to_string(tt.bytes), inspect_detail::share_text(tt, in_)});
        table(out_, {"type", "tensors", "elements", "bytes", "share of file"}, {false, true, true, true, true}, rows);
    }

    void totals() {
        const Totals& tot = in_.totals;
        out_ += "\n## Totals\n\n";
        std::vector<std::vector<std::string>> rows{
            {"tensors", std::to_string(tot.tensors)},
            {"parameters", std::to_string(tot.parameters)},
            {"stored bytes", fmt::format("{} ({})", tot.bytes, human_bytes(tot.bytes))}};
        if (const auto bpw = tot.bits_per_weight()) rows.push_back({"bits per weight", fmt::format("{:.3f}", *bpw)});
        table(out_, {"", "value"}, {false, true}, rows);
    }

    void dequantized() {
        out_ += "\n## gguf-dequant output, whole model (GGUF)\n\n";
        if (in_.dequantized.empty()) {
            out_ += "None: " + md(in_.not_convertible) + ".\n";
            return;
        }
        std::vector<std::vector<std::string>> rows;
        for (const Dequantized& d : in_.dequantized)
            for (const bool all : {false, true}) {
                const ConversionSize& c = all ? d.all : d.quantized;
                rows.push_back({fmt::format("`--to {}{}`", out_type_name(d.to), all ? " --all" : ""),
                                fmt::format("{} ({})", c.tensor_bytes, human_bytes(c.tensor_bytes)),
                                fmt::format("{} ({})", c.file_bytes, human_bytes(c.file_bytes)),
                                std::to_string(c.files)});
            }
        table(out_, {"gguf-dequant", "tensor bytes", "file bytes", "files"}, {false, true, true, true}, rows);
    }

    const Inspection& in_;
    const InspectOptions& opts_;
    const GgufFile& f_;
    TextOut out_;
};

}  // namespace

void render_markdown(const Inspection& in, const InspectOptions& opts,
                     const std::function<void(std::string_view)>& sink) {
    MarkdownView view(in, opts, sink);
    inspect_detail::write_sections(view);
}

std::string render_markdown(const Inspection& in, const InspectOptions& opts) {
    return collect([&](const TextSink& sink) { render_markdown(in, opts, sink); });
}

}  // namespace gguftk
