// Test helper: decodes raw blocks of one ggml type with the library's reference decoder.
//
//   test-decode-raw TYPE [f32|f16|bf16] < blocks > values
//
// Lets the Python tests compare the library against gguf-py's dequantize without a
// product binary in between. Exit 1 on a bad type or a length that is not whole blocks.
#include <cstdio>
#include <string>
#include <vector>

#include "formats/decode.h"
#include "container/error.h"
#include "formats/types.h"

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: test-decode-raw TYPE [f32|f16|bf16] < blocks > values\n");
        return 2;
    }
    const gguftk::TypeInfo* t = gguftk::find_type(std::string_view(argv[1]));
    const auto out = gguftk::parse_out_type(argc == 3 ? argv[2] : "f32");
    if (!t || !out) {
        std::fprintf(stderr, "error: unknown type or output type\n");
        return 2;
    }
    std::vector<uint8_t> in;
    uint8_t buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) in.insert(in.end(), buf, buf + n);
    if (in.size() % t->block_bytes != 0) {
        std::fprintf(stderr, "error: %zu bytes is not a whole number of %s blocks\n", in.size(),
                     std::string(t->name).c_str());
        return 1;
    }
    const uint64_t n_blocks = in.size() / t->block_bytes;
    std::vector<uint8_t> dst(n_blocks * t->block_elems * gguftk::out_type_size(*out));
    try {
        gguftk::decode_blocks(t->type, in.data(), n_blocks, *out, dst.data());
    } catch (const gguftk::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return std::fwrite(dst.data(), 1, dst.size(), stdout) == dst.size() ? 0 : 1;
}
