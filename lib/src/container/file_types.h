// The file types of general.file_type (llama.cpp's LLAMA_FTYPE values): the mixes of tensor
// types llama-quantize makes, each with its base type and, in words, the tensors that get
// another type by llama.cpp's rules (a summary for people, not a quantizer).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace gguftk {

struct FileTypeRule {
    std::string_view tensors;  // which tensors: "attn_v.weight", "ffn_down", ...
    std::string_view gets;     // the type they get, in words
};

struct FileType {
    std::string_view name;        // llama.cpp's name after LLAMA_FTYPE_MOSTLY_: "Q4_K_M"
    uint32_t number;              // the value of general.file_type
    std::string_view base;        // the type of every tensor no rule names: "Q4_K"
    std::string_view output;      // output.weight's type ("" when not a mix: float files)
    std::string_view token_embd;  // token_embd.weight's type
    std::span<const FileTypeRule> rules;  // the other tensors that differ from the base
};

std::span<const FileType> all_file_types() noexcept;
const FileType* find_file_type(uint32_t number) noexcept;
// By name, in any case, with or without llama.cpp's MOSTLY_ or LLAMA_FTYPE_MOSTLY_ prefix.
const FileType* find_file_type(std::string_view name) noexcept;
// "ALL_F32", "MOSTLY_F16", "MOSTLY_Q4_K_M": the name as llama.cpp's enum spells it.
std::string_view file_type_prefix(const FileType& t) noexcept;

}  // namespace gguftk
