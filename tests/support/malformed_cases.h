#pragma once
// The catalogue of malformed GGUF files: one or more per class of damage, each with the error
// the reader must give and the absolute offset it must name. The unit test parses each one;
// the CLI test writes them out (bin/test-make-malformed) and runs every app over them.
#include <cstdint>
#include <string>
#include <vector>

namespace gguftk::test {

struct MalformedCase {
    std::string name;            // file-name friendly: "truncated-in-magic"
    std::vector<uint8_t> bytes;
    std::string what;            // must appear in the error message
    uint64_t offset;             // the offset the error must name
};

std::vector<MalformedCase> malformed_cases();

}  // namespace gguftk::test
