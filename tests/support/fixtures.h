#pragma once
// Where the reference fixtures (tests/fixtures/) are: $GGUFTK_FIXTURES when set, so that a build
// carried to another machine (the GPU machine) finds them; else the source tree it was built from.
#include <cstdlib>
#include <string>
#include <string_view>

namespace gguftk::test {

inline std::string fixture(std::string_view name) {
    const char* env = std::getenv("GGUFTK_FIXTURES");
    std::string dir = env && *env ? env : GGUFTK_FIXTURES_DEFAULT;
    return dir.append("/").append(name);
}

}  // namespace gguftk::test
