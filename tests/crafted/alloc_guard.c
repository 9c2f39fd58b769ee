/* Allocation guard for the crafted-file suite (LD_PRELOAD into a gguftk binary).
 *
 * A hostile file must not make a tool ask for more memory than the file could justify. With
 * GGUFTK_ALLOC_LIMIT=N in the environment, any single malloc/calloc/realloc/aligned request
 * above N bytes prints one `alloc-guard:` line and aborts, so the test sees a signal instead of
 * a tool that merely survived because the kernel overcommits. Without the variable it does
 * nothing. glibc's own entry points (__libc_*) do the work, so no dlsym bootstrapping is needed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void* __libc_memalign(size_t, size_t);

static size_t limit(void) {
    static size_t cached = 0;  /* 0: not read yet; SIZE_MAX: no limit */
    if (cached == 0) {
        const char* s = getenv("GGUFTK_ALLOC_LIMIT");
        cached = (s && *s) ? (size_t)strtoull(s, NULL, 10) : SIZE_MAX;
        if (cached == 0) cached = SIZE_MAX;
    }
    return cached;
}

static void check(size_t n) {
    if (n <= limit()) return;
    char line[128];
    int len = snprintf(line, sizeof line, "alloc-guard: allocation of %zu bytes exceeds the limit of %zu\n", n,
                       limit());
    if (len > 0) (void)!write(2, line, (size_t)len);
    abort();
}

void* malloc(size_t n) {
    check(n);
    return __libc_malloc(n);
}

void* calloc(size_t n, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) total = SIZE_MAX;
    check(total);
    return __libc_calloc(n, size);
}

void* realloc(void* p, size_t n) {
    check(n);
    return __libc_realloc(p, n);
}

void* memalign(size_t alignment, size_t n) {
    check(n);
    return __libc_memalign(alignment, n);
}

void* aligned_alloc(size_t alignment, size_t n) {
    check(n);
    return __libc_memalign(alignment, n);
}

int posix_memalign(void** out, size_t alignment, size_t n) {
    check(n);
    void* p = __libc_memalign(alignment, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
