#include "container/growing_bytes.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <new>

namespace gguftk {
namespace {

size_t whole_pages(size_t n) {
    const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    return n > SIZE_MAX - page ? SIZE_MAX : (n + page - 1) / page * page;
}

void* map_anonymous(size_t len) {
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return p;
}

// The mapping at `addr` (old_len bytes) made new_len bytes long, its contents kept.
void* remap(void* addr, size_t old_len, size_t new_len) {
#ifdef MREMAP_MAYMOVE
    void* p = mremap(addr, old_len, new_len, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return p;
#else  // no mremap (not Linux): copied, the old pages let go at once
    void* p = map_anonymous(new_len);
    std::memcpy(p, addr, old_len < new_len ? old_len : new_len);
    munmap(addr, old_len);
    return p;
#endif
}

}  // namespace

GrowingBytes::~GrowingBytes() {
    if (addr_) munmap(addr_, mapped_);
}

void GrowingBytes::resize(size_t n) {
    const size_t len = whole_pages(n);
    if (len == 0) {
        if (addr_) munmap(addr_, mapped_);
        addr_ = nullptr;
    } else if (!addr_) {
        addr_ = map_anonymous(len);
    } else if (len != mapped_) {
        addr_ = remap(addr_, mapped_, len);
    }
    mapped_ = addr_ ? len : 0;
    size_ = n;
}

std::pair<void*, size_t> GrowingBytes::release() {
    const std::pair<void*, size_t> out{addr_, mapped_};
    addr_ = nullptr;
    size_ = mapped_ = 0;
    return out;
}

}  // namespace gguftk
