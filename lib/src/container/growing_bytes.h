#pragma once
// Anonymous memory that grows without being copied: mremap extends the mapping or moves its pages
// (the page tables, not the bytes), so a prefix of N bytes growing to 1.5N holds 1.5N, where a
// vector's reallocation holds the old bytes and their copy (2.5N) until the copy is done.
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace gguftk {

class GrowingBytes {
public:
    GrowingBytes() = default;
    GrowingBytes(const GrowingBytes&) = delete;
    GrowingBytes& operator=(const GrowingBytes&) = delete;
    ~GrowingBytes();

    // Keeps the first min(n, size()) bytes; the bytes added are for the caller to fill. Throws
    // std::bad_alloc.
    void resize(size_t n);
    std::span<uint8_t> span() { return {static_cast<uint8_t*>(addr_), size_}; }
    size_t size() const { return size_; }
    // Hands the mapping over, to be munmap'ed by its new owner: {address, length mapped}.
    std::pair<void*, size_t> release();

private:
    void* addr_ = nullptr;
    size_t size_ = 0;    // bytes in use
    size_t mapped_ = 0;  // bytes mapped: size_ rounded up to whole pages
};

}  // namespace gguftk
