// test-kv-cache FILE N_CTX TYPE PAD UBATCH SWA_FULL: the core's KV cache figure (model/memory.h)
// for a layout given in full, as the llama.cpp comparison needs it (tests/cli/test_kv_cache.py):
// prints "cells swa_cells layers swa_layers window k_bytes v_bytes swa_k_bytes swa_v_bytes", or
// "unknown: WHY".
#include <cstdio>
#include <cstdlib>
#include <string>

#include "container/gguf.h"
#include "model/memory.h"

int main(int argc, char** argv) {
    if (argc != 7) {
        std::fprintf(stderr, "usage: test-kv-cache FILE N_CTX TYPE PAD UBATCH SWA_FULL\n");
        return 2;
    }
    try {
        const gguftk::GgufFile f = gguftk::GgufFile::open(argv[1]);
        const gguftk::TypeInfo* type = gguftk::kv_cache_type(argv[3]);
        if (!type) {
            std::fprintf(stderr, "not a KV cache type: %s\n", argv[3]);
            return 2;
        }
        const gguftk::KvLayout layout{std::stoull(argv[4]), std::string(argv[6]) == "1", std::stoull(argv[5])};
        const gguftk::KvCache kv = gguftk::kv_cache(f, std::stoull(argv[2]), *type, layout);
        if (!kv.known()) {
            std::printf("unknown: %s\n", kv.unknown.c_str());
            return 0;
        }
        for (uint64_t v : {kv.cells, kv.swa_cells, kv.layers, kv.swa_layers, kv.window, kv.k_bytes, kv.v_bytes,
                           kv.swa_k_bytes, kv.swa_v_bytes})
            std::printf("%llu ", static_cast<unsigned long long>(v));
        std::printf("\n");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
