// llama.cpp's file types (include/llama.h's llama_ftype) and, in our words, what its quantizer
// (src/llama-quant.cpp) gives each kind of tensor, for a dense model of any architecture but
// Falcon; models of 8 experts, 70B llamas and Falcon differ in places (said where shown).
#include "container/file_types.h"

#include <array>
#include <string>

#include "formats/types.h"

namespace gguftk {
namespace {

using R = FileTypeRule;

// "use_more_bits" layers: the first and last eighth, and every third layer between.
constexpr std::string_view kHalfQ6 = "Q6_K in about half the layers (the first and last eighth, every third between)";

constexpr std::array<R, 1> kQ4_0{{{"ffn_down", "Q4_1 in the first eighth of the layers, with an importance matrix"}}};
constexpr std::array<R, 1> kQ5_0{{{"ffn_down", "Q5_1 in the first eighth of the layers, with an importance matrix"}}};
constexpr std::array<R, 3> kQ2_K{{{"attn_v.weight", "Q4_K with 4 or more query heads per KV head, else Q3_K"},
                                   {"ffn_down", "Q3_K"},
                                   {"attn_output.weight", "Q3_K"}}};
constexpr std::array<R, 2> kQ2_K_S{{{"attn_v.weight", "Q4_K with 4 or more query heads per KV head"},
                                     {"ffn_down", "Q4_K in the first eighth of the layers"}}};
constexpr std::array<R, 4> kQ3_K_M{{{"attn_v.weight", "Q5_K in the first two layers, else Q4_K"},
                                     {"ffn_down", "Q5_K in the first sixteenth of the layers, else Q4_K"},
                                     {"attn_output.weight", "Q4_K"},
                                     {"attn_qkv.weight", "Q4_K"}}};
constexpr std::array<R, 4> kQ3_K_L{{{"attn_v.weight", "Q5_K"},
                                     {"ffn_down", "Q5_K"},
                                     {"attn_output.weight", "Q5_K"},
                                     {"attn_qkv.weight", "Q4_K"}}};
constexpr std::array<R, 2> kQ4_K_S{{{"attn_v.weight", "Q5_K in the first four layers"},
                                     {"ffn_down", "Q5_K in the first eighth of the layers"}}};
constexpr std::array<R, 3> kQ4_K_M{{{"attn_v.weight", kHalfQ6}, {"ffn_down", kHalfQ6}, {"attn_qkv.weight", "Q5_K"}}};
constexpr std::array<R, 3> kQ5_K_M{{{"attn_v.weight", kHalfQ6}, {"ffn_down", kHalfQ6}, {"attn_qkv.weight", "Q6_K"}}};
constexpr std::array<R, 2> kIQ2{{{"attn_v.weight", "Q4_K with 4 or more query heads per KV head, else Q2_K"},
                                  {"ffn_down", "Q2_K in the first eighth of the layers"}}};
constexpr std::array<R, 3> kIQ2_S{{{"attn_v.weight", "Q4_K with 4 or more query heads per KV head, else IQ3_S"},
                                    {"ffn_down", "IQ3_S in the first eighth of the layers"},
                                    {"attn_output.weight", "IQ3_S"}}};
constexpr std::array<R, 3> kIQ1{{{"attn_v.weight", "Q4_K with 4 or more query heads per KV head, else Q2_K"},
                                  {"ffn_down", "Q2_K in the first eighth of the layers"},
                                  {"attn_output.weight", "IQ2_XXS"}}};
constexpr std::array<R, 5> kIQ3_XXS{
    {{"attn_v.weight", "Q4_K with 4 or more query heads per KV head, else IQ3_S (IQ3_XXS with an importance matrix)"},
     {"attn_k.weight", "IQ2_S"},
     {"attn_q.weight", "IQ2_S"},
     {"ffn_down", "without an importance matrix: Q4_K in the first eighth of the layers, else Q3_K"},
     {"attn_output.weight", "IQ3_S"}}};
constexpr std::array<R, 4> kIQ3_XS{{{"attn_v.weight", "Q4_K with 4 or more query heads per KV head"},
                                     {"attn_k.weight", "IQ3_XXS"},
                                     {"attn_q.weight", "IQ3_XXS"},
                                     {"ffn_gate, ffn_up", "IQ3_XXS but in the first and last eighth of the layers"}}};
constexpr std::array<R, 1> kIQ3_S{{{"attn_v.weight", "Q4_K with 4 or more query heads per KV head"}}};
constexpr std::array<R, 4> kIQ3_M{{{"attn_v.weight", "Q4_K"},
                                    {"ffn_down", "Q4_K in the first eighth of the layers"},
                                    {"attn_output.weight", "Q4_K"},
                                    {"attn_qkv.weight", "Q4_K"}}};
constexpr std::array<R, 2> kIQ4{{{"attn_v.weight", "Q5_K with 4 or more query heads per KV head"},
                                  {"ffn_down", "Q5_K in the first eighth of the layers, without an importance matrix"}}};
constexpr std::array<R, 2> kMXFP4_MOE{{{"expert tensors (3-D)", "MXFP4"}, {"every other weight", "Q8_0"}}};

// Numbers 4-6 and 33-35 are retired in llama.cpp; no file of today carries them.
constexpr std::array<FileType, 35> kFileTypes{{
    {"F32", 0, "F32", "", "F32", {}},
    {"F16", 1, "F16", "", "F16", {}},
    {"Q4_0", 2, "Q4_0", "Q6_K", "Q4_0", kQ4_0},
    {"Q4_1", 3, "Q4_1", "Q6_K", "Q4_1", {}},
    {"Q8_0", 7, "Q8_0", "Q8_0", "Q8_0", {}},
    {"Q5_0", 8, "Q5_0", "Q6_K", "Q5_0", kQ5_0},
    {"Q5_1", 9, "Q5_1", "Q6_K", "Q5_1", {}},
    {"Q2_K", 10, "Q2_K", "Q6_K", "Q2_K", kQ2_K},
    {"Q3_K_S", 11, "Q3_K", "Q6_K", "Q3_K", {}},
    {"Q3_K_M", 12, "Q3_K", "Q6_K", "Q3_K", kQ3_K_M},
    {"Q3_K_L", 13, "Q3_K", "Q6_K", "Q3_K", kQ3_K_L},
    {"Q4_K_S", 14, "Q4_K", "Q6_K", "Q4_K", kQ4_K_S},
    {"Q4_K_M", 15, "Q4_K", "Q6_K", "Q4_K", kQ4_K_M},
    {"Q5_K_S", 16, "Q5_K", "Q6_K", "Q5_K", {}},
    {"Q5_K_M", 17, "Q5_K", "Q6_K", "Q5_K", kQ5_K_M},
    {"Q6_K", 18, "Q6_K", "Q6_K", "Q6_K", {}},
    {"IQ2_XXS", 19, "IQ2_XXS", "Q5_K", "Q2_K", kIQ2},
    {"IQ2_XS", 20, "IQ2_XS", "Q5_K", "Q2_K", kIQ2},
    {"Q2_K_S", 21, "Q2_K", "Q6_K", "Q2_K", kQ2_K_S},
    {"IQ3_XS", 22, "IQ3_S", "Q6_K", "IQ3_S", kIQ3_XS},
    {"IQ3_XXS", 23, "IQ3_XXS", "Q5_K", "IQ3_S", kIQ3_XXS},
    {"IQ1_S", 24, "IQ1_S", "Q5_K", "Q2_K", kIQ1},
    {"IQ4_NL", 25, "IQ4_NL", "Q6_K", "IQ4_NL", kIQ4},
    {"IQ3_S", 26, "IQ3_S", "Q6_K", "IQ3_S", kIQ3_S},
    {"IQ3_M", 27, "IQ3_S", "Q6_K", "IQ3_S", kIQ3_M},
    {"IQ2_S", 28, "IQ2_XS", "Q5_K", "IQ3_S", kIQ2_S},
    {"IQ2_M", 29, "IQ2_S", "Q5_K", "IQ3_S", kIQ2_S},
    {"IQ4_XS", 30, "IQ4_XS", "Q6_K", "IQ4_XS", kIQ4},
    {"IQ1_M", 31, "IQ1_M", "Q5_K", "Q2_K", kIQ1},
    {"BF16", 32, "BF16", "", "BF16", {}},
    {"TQ1_0", 36, "TQ1_0", "Q6_K", "Q4_K", {}},
    {"TQ2_0", 37, "TQ2_0", "Q6_K", "Q4_K", {}},
    {"MXFP4_MOE", 38, "MXFP4", "Q8_0", "Q8_0", kMXFP4_MOE},
    {"NVFP4", 39, "NVFP4", "Q6_K", "NVFP4", {}},
    {"Q1_0", 40, "Q1_0", "Q6_K", "Q1_0", {}},
}};

std::string_view without_prefix(std::string_view name) noexcept {
    for (std::string_view p : {"LLAMA_FTYPE_MOSTLY_", "LLAMA_FTYPE_ALL_", "LLAMA_FTYPE_", "MOSTLY_", "ALL_"})
        if (name.size() > p.size() && iequal(name.substr(0, p.size()), p)) return name.substr(p.size());
    return name;
}

}  // namespace

std::span<const FileType> all_file_types() noexcept { return kFileTypes; }

const FileType* find_file_type(uint32_t number) noexcept {
    for (const FileType& t : kFileTypes)
        if (t.number == number) return &t;
    return nullptr;
}

const FileType* find_file_type(std::string_view name) noexcept {
    const std::string_view bare = without_prefix(name);
    for (const FileType& t : kFileTypes)
        if (iequal(bare, t.name)) return &t;
    return nullptr;
}

std::string_view file_type_prefix(const FileType& t) noexcept { return t.number == 0 ? "ALL_" : "MOSTLY_"; }

}  // namespace gguftk
