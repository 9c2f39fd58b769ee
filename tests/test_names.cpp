// Names as users give them: the one case-insensitive comparison (lib/src/text/ascii.h) and the
// suggestions for a name or glob that finds no tensor (ClosestNames).
#include <doctest/doctest.h>

#include <string>

#include "container/names.h"
#include "formats/types.h"
#include "text/ascii.h"

using namespace gguftk;

TEST_CASE("ASCII case is ignored, and nothing else") {
    static_assert(text::iequal("F16", "f16"));  // usable at compile time
    CHECK(text::iequal("Q4_k", "q4_K"));
    CHECK_FALSE(text::iequal("q4_k", "q4_k "));
    CHECK_FALSE(text::iequal("\xc4", "\xe4"));  // Latin-1 A and a umlaut: not ASCII, not folded
    CHECK_FALSE(text::iequal("[", "{"));        // 0x5b and 0x7b differ by the case bit only
    CHECK(text::istarts_with("HTTPS://host/x", "https://"));
    CHECK_FALSE(text::istarts_with("http", "https://"));
    CHECK(text::ascii_lowered("Blk.0.ATTN_Q\xc4") == "blk.0.attn_q\xc4");
    CHECK(iequal("BF16", "bf16"));
    CHECK(find_type("iq2_xxs") == &type_info(GgmlType::IQ2_XXS));
}

namespace {
std::string suggest(std::string_view wanted, std::initializer_list<std::string_view> names) {
    ClosestNames near(wanted);
    for (std::string_view n : names) near.consider(n);
    return near.message(has_glob_chars(wanted) ? "matches" : "named", names.size(), "ALL", "NONE");
}
}  // namespace

TEST_CASE("suggestions: a name by its edit distance to whole names, case aside") {
    // attn_q and ATTN_Q are one edit away, attn_k two; output is too far and holds no "attn_qq".
    CHECK(suggest("blk.0.attn_qq.weight",
                  {"blk.0.attn_k.weight", "blk.0.attn_q.weight", "output.weight", "BLK.0.ATTN_Q.WEIGHT"}) ==
          "no tensor named 'blk.0.attn_qq.weight'; did you mean 'blk.0.attn_q.weight', 'BLK.0.ATTN_Q.WEIGHT', "
          "'blk.0.attn_k.weight'?");
    // "atn_q" is one edit from a stretch of the name, but far from the whole of it: a name is
    // held to the whole.
    CHECK(suggest("atn_q", {"blk.0.attn_q.weight"}) == "no tensor named 'atn_q' among ALL");
}

TEST_CASE("suggestions: a glob by the distance of its literal text to the nearest stretch of a name") {
    CHECK(suggest("*.attn_qq.*", {"blk.0.attn_q.weight", "blk.0.ffn_up.weight", "output.weight"}) ==
          "no tensor matches '*.attn_qq.*'; did you mean 'blk.0.attn_q.weight'?");
    CHECK(suggest("*.attn_qq.*", {}) == "no tensor matches '*.attn_qq.*' (NONE)");
}
