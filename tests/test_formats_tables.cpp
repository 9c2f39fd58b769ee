// The lookup tables (lib/formats/tables.h) against what the formats say about them: sign
// patterns follow the even-parity rule, grid lanes take only the lattice's few values, no grid
// point appears twice. (That the values are ggml's is the reference-file test.)
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <set>
#include <vector>

#include "formats/tables.h"

using namespace gguftk::formats;

namespace {

template <class T, int N>
std::set<int> lanes_of(const tables::Table<T, N>& t, bool signed_lanes) {
    std::set<int> s;
    for (int i = 0; i < N; ++i)
        for (int j = 0; j < int(sizeof(T)); ++j) {
            const uint8_t b = uint8_t(uint64_t(t[i]) >> (8 * j));
            s.insert(signed_lanes ? int(int8_t(b)) : int(b));
        }
    return s;
}

template <class T, int N>
bool all_distinct(const tables::Table<T, N>& t) {
    std::vector<T> v(t.v, t.v + N);
    std::sort(v.begin(), v.end());
    return std::adjacent_find(v.begin(), v.end()) == v.end();
}

}  // namespace

TEST_CASE("kmask_iq2xs selects bit j; ksigns_iq2xs is 7 sign bits plus an even-parity eighth") {
    for (int j = 0; j < 8; ++j) CHECK(tables::kmask_iq2xs()[j] == 1 << j);
    for (int k = 0; k < 128; ++k) {
        INFO("sign index " << k);
        const int s = tables::ksigns_iq2xs()[k];
        CHECK((s & 127) == k);
        CHECK(std::popcount(unsigned(s)) % 2 == 0);
    }
}

TEST_CASE("grid lanes take only the lattice values, and every grid point is distinct") {
    CHECK(lanes_of(tables::iq2xxs_grid(), false) == std::set<int>{8, 25, 43});
    CHECK(lanes_of(tables::iq2xs_grid(), false) == std::set<int>{8, 25, 43});
    CHECK(lanes_of(tables::iq2s_grid(), false) == std::set<int>{8, 25, 43});
    // ggml's IQ3_XXS lattice has 62 where the pattern 4 + 8k would give 60.
    CHECK(lanes_of(tables::iq3xxs_grid(), false) == std::set<int>{4, 12, 20, 28, 36, 44, 52, 62});
    CHECK(lanes_of(tables::iq3s_grid(), false) == std::set<int>{1, 3, 5, 7, 9, 11, 13, 15});
    CHECK(lanes_of(tables::iq1s_grid(), true) == std::set<int>{-1, 0, 1});

    CHECK(all_distinct(tables::iq2xxs_grid()));
    CHECK(all_distinct(tables::iq2xs_grid()));
    CHECK(all_distinct(tables::iq2s_grid()));
    CHECK(all_distinct(tables::iq3xxs_grid()));
    CHECK(all_distinct(tables::iq3s_grid()));
    CHECK(all_distinct(tables::iq1s_grid()));
    CHECK(tables::iq1s_grid().size == tables::ngrid_iq1s);
}

TEST_CASE("the IQ4 code book is strictly increasing (best_index searches it by bisection)") {
    const auto& k = tables::kvalues_iq4nl();
    for (int i = 1; i < 16; ++i) CHECK(k[i - 1] < k[i]);
}
