#include "crafted_cases.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

namespace gguftk::test {
namespace {

// Where the catalogue was written: $GGUFTK_CRAFTED when set (a build carried elsewhere), else
// the build directory.
std::string crafted_dir() {
    const char* env = std::getenv("GGUFTK_CRAFTED");
    return env && *env ? env : GGUFTK_CRAFTED_DEFAULT;
}

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE_MESSAGE(in, "cannot open " << path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

std::vector<CraftedCase> crafted_cases() {
    const std::string dir = crafted_dir();
    std::ifstream index(dir + "/cases.json");
    REQUIRE_MESSAGE(index, "no catalogue in " << dir << " (the build writes it: target gguftk_crafted_files)");
    std::vector<CraftedCase> cases;
    for (const auto& c : nlohmann::json::parse(index)) {
        CraftedCase k{c.at("name").get<std::string>(), read_file(dir + "/" + c.at("file").get<std::string>()),
                      c.at("valid").get<bool>()};
        if (!k.valid) {
            k.what = c.at("what").get<std::string>();
            k.offset = c.at("offset").get<uint64_t>();
        }
        cases.push_back(std::move(k));
    }
    return cases;
}

CraftedCase crafted(std::string_view name) {
    for (CraftedCase& c : crafted_cases())
        if (c.name == name) return std::move(c);
    FAIL("no case " << name << " in the catalogue");
    return {};
}

}  // namespace gguftk::test
