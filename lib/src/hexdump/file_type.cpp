// gguf-hexdump --describe for a file type (Q4_K_M, ...): what the mix is and which types its
// tensors get, as a table of a tensor column and a wrapped type column that fits 80 columns.
#include <fmt/core.h>

#include <nlohmann/json.hpp>
#include <set>

#include "text/columns.h"
#include "container/file_types.h"
#include "hexdump/hexdump.h"

namespace gguftk {
namespace {

constexpr size_t kWidth = 80;
constexpr size_t kTensorColumn = 22;

// (tensors, type) for every row of the table: the shared rules around the mix's own.
std::vector<std::pair<std::string, std::string>> rows_of(const FileType& t) {
    std::vector<std::pair<std::string, std::string>> rows{{"1-D (norms, biases)", "F32, as they were"}};
    if (t.output.empty()) return rows;
    rows.emplace_back("output.weight", std::string(t.output));
    rows.emplace_back("token_embd.weight", std::string(t.token_embd));
    constexpr std::string_view kOthers = "every other weight";
    bool others = false;  // a mix may say itself what the others get (MXFP4_MOE: Q8_0, not the base)
    for (const FileTypeRule& r : t.rules) {
        rows.emplace_back(std::string(r.tensors), std::string(r.gets));
        others = others || r.tensors == kOthers;
    }
    if (!others) rows.emplace_back(std::string(kOthers), std::string(t.base));
    return rows;
}

std::string table(const FileType& t) {
    std::string out;
    for (const auto& [tensors, gets] : rows_of(t)) {
        const std::vector<std::string> lines = wrap_words(gets, kWidth - 2 - kTensorColumn);
        for (size_t i = 0; i < lines.size(); ++i)
            out += fmt::format("  {:<{}}{}\n", i ? "" : tensors, kTensorColumn, lines[i]);
    }
    return out;
}

std::string wrapped(const std::string& s) {
    std::string out;
    for (const std::string& line : wrap_words(s, kWidth)) out += line + '\n';
    return out;
}

// The tensor types a reader of this mix meets, for the pointer to their layouts.
std::string types_met(const FileType& t) {
    std::set<std::string> seen;
    std::string out;
    auto add = [&](std::string_view name) {
        if (!name.empty() && seen.insert(std::string(name)).second) out += (out.empty() ? "" : ", ") + std::string(name);
    };
    add(t.base);
    add(t.output);
    add(t.token_embd);
    return out;
}

}  // namespace

std::string render_file_type_text(const FileType& t) {
    std::string out = wrapped(fmt::format("{}: a file type, general.file_type {} (llama.cpp's LLAMA_FTYPE_{}{})",
                                          t.name, t.number, file_type_prefix(t), t.name));
    if (t.output.empty())
        return out + wrapped(fmt::format("Not a mix: every tensor of two or more dimensions is {}. "
                                         "The type's layout: gguf-hexdump --describe {}.", t.base, t.base)) +
               table(t);
    out += wrapped(fmt::format(
        "A mix of tensor types that llama-quantize makes around the base type {}. "
        "By llama.cpp's rules, for a dense model, its tensors get:", t.base));
    out += table(t);
    out += wrapped(fmt::format(
        "A tensor whose rows are not whole blocks of its type gets another: output.weight Q8_0, the "
        "others a type of 32-element blocks (Q4_K gives Q5_0, Q5_K Q5_1, Q6_K Q8_0). Without an "
        "output.weight, token_embd.weight gets output's type. Models of 8 experts, 70B llamas and "
        "Falcon differ in places; llama-quantize --pure gives every weight {}.", t.base));
    return out + wrapped(fmt::format("The types' layouts: gguf-hexdump --describe TYPE, docs/formats/TYPE.md "
                                     "({}).", types_met(t)));
}

std::string file_type_json(const FileType& t) {
    nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
    for (const auto& [which, gets] : rows_of(t)) tensors.push_back({{"tensors", which}, {"type", gets}});
    const nlohmann::ordered_json doc{{"file_type", t.name},
                                     {"general.file_type", t.number},
                                     {"llama_ftype", fmt::format("LLAMA_FTYPE_{}{}", file_type_prefix(t), t.name)},
                                     {"mix", !t.output.empty()},
                                     {"base", t.base},
                                     {"tensors", tensors}};
    return doc.dump(2) + '\n';
}

}  // namespace gguftk
