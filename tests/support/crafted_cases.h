#pragma once
// The catalogue of hostile (and odd but valid) files, tests/crafted/make_crafted.py, as the build
// writes it out (target gguftk_crafted_files): each case's bytes and what the reader must say.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gguftk::test {

struct CraftedCase {
    std::string name;
    std::vector<uint8_t> bytes;
    bool valid = false;
    std::string what;     // the text the error must hold (a refused file)
    uint64_t offset = 0;  // the offset it must name
};

// Every case, from $GGUFTK_CRAFTED when set (a build carried elsewhere), else the build directory.
std::vector<CraftedCase> crafted_cases();
// One case by name (fails the test when there is none).
CraftedCase crafted(std::string_view name);

}  // namespace gguftk::test
