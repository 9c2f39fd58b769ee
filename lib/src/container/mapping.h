#pragma once
// What a GgufFile holds its bytes with: the mapping of a local file (gguf.cpp), or the source a
// remote one is read through and the prefix read so far (source.cpp).
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "container/gguf.h"
#include "container/source.h"

namespace gguftk {

struct GgufFile::Mapping {
    void* addr = nullptr;
    size_t len = 0;
    std::unique_ptr<Source> source;
    std::vector<uint8_t> prefix;
    ~Mapping() {
        if (addr) munmap(addr, len);
    }
};

}  // namespace gguftk
