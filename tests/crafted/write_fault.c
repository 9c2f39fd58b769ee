/* Write fault injection for the output-safety tests (LD_PRELOAD into gguf-dequant).
 *
 * The writer reserves the whole output up front, so a full disk or a file size limit shows
 * before the work and the failure path in the middle of writing is never taken for real. With
 * GGUFTK_WRITE_BUDGET=N in the environment, the positional writes the writer makes (pwrite,
 * pwrite64, copy_file_range) may write N bytes in all: the write that crosses the budget is cut
 * short, and every one after it fails with ENOSPC. Plain write(2) (stderr) is left alone.
 * With GGUFTK_WRITE_REPORT=PATH too, the bytes written are written to PATH at exit.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

static _Atomic long long budget = -1; /* -1: not read yet */
static long long initial = -2;

/* How many of `n` bytes may be written now (0 with errno = ENOSPC when none). */
static size_t take(size_t n) {
    long long b = atomic_load(&budget);
    if (b == -1) {
        const char* s = getenv("GGUFTK_WRITE_BUDGET");
        long long v = (s && *s) ? strtoll(s, NULL, 10) : -2; /* -2: no budget */
        if (atomic_compare_exchange_strong(&budget, &b, v)) initial = v;
        b = atomic_load(&budget);
    }
    for (;;) {
        if (b == -2) return n;
        if (b <= 0) {
            errno = ENOSPC;
            return 0;
        }
        const long long k = (long long)n < b ? (long long)n : b;
        if (atomic_compare_exchange_weak(&budget, &b, b - k)) return (size_t)k;
    }
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
    static ssize_t (*real)(int, const void*, size_t, off_t);
    if (!real) real = (ssize_t (*)(int, const void*, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    if (n == 0) return real(fd, buf, n, off);
    const size_t k = take(n);
    return k ? real(fd, buf, k, off) : -1;
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off_t off) { return pwrite(fd, buf, n, off); }

ssize_t copy_file_range(int in, loff_t* in_off, int out, loff_t* out_off, size_t n, unsigned flags) {
    static ssize_t (*real)(int, loff_t*, int, loff_t*, size_t, unsigned);
    if (!real) real = (ssize_t (*)(int, loff_t*, int, loff_t*, size_t, unsigned))dlsym(RTLD_NEXT, "copy_file_range");
    if (n == 0) return real(in, in_off, out, out_off, n, flags);
    const size_t k = take(n);
    return k ? real(in, in_off, out, out_off, k, flags) : -1;
}

__attribute__((destructor)) static void report(void) {
    const char* path = getenv("GGUFTK_WRITE_REPORT");
    const long long left = atomic_load(&budget);
    if (!path || initial < 0) return;
    FILE* f = fopen(path, "w");
    if (!f) return;
    fprintf(f, "%lld\n", initial - (left < 0 ? 0 : left));
    fclose(f);
}
