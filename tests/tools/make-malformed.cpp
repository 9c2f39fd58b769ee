// Writes the malformed-file catalogue (tests/support/malformed_cases.cpp) into a directory, for
// the CLI tests: NAME.gguf per case and cases.tsv (name, offset, expected message part).
//
// Test tools link gguftk only, so the two support sources are compiled in here directly.
#include <cstdio>
#include <fstream>
#include <string>

#include "../support/gguf_builder.cpp"
#include "../support/malformed_cases.cpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: test-make-malformed DIR\n");
        return 2;
    }
    const std::string dir = argv[1];
    std::ofstream index(dir + "/cases.tsv");
    for (const auto& c : gguftk::test::malformed_cases()) {
        std::ofstream out(dir + "/" + c.name + ".gguf", std::ios::binary);
        out.write(reinterpret_cast<const char*>(c.bytes.data()), static_cast<std::streamsize>(c.bytes.size()));
        if (!out) return 1;
        index << c.name << '\t' << c.offset << '\t' << c.what << '\n';
    }
    return index ? 0 : 1;
}
