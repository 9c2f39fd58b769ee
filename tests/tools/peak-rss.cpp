// test-peak-rss OUT CMD [ARG...]: runs CMD and writes its peak RSS in KiB to OUT; exits as CMD
// did (128 + the signal if one ended it).
//
// The crafted suite needs a tool's own peak. A child's ru_maxrss starts from the high-water mark
// of the image its exec replaced, i.e. from the peak of whatever process spawned it: measured
// straight from Python, every tool "took" as much as the test process ever had. Spawned from
// this small program, the floor is this program's size.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: test-peak-rss OUT CMD [ARG...]\n");
        return 2;
    }
    const pid_t pid = fork();
    if (pid < 0) return 125;
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        _exit(127);
    }
    int status = 0;
    rusage usage{};
    while (wait4(pid, &status, 0, &usage) < 0) {
    }
    if (std::FILE* f = std::fopen(argv[1], "w")) {
        std::fprintf(f, "%ld\n", usage.ru_maxrss);
        std::fclose(f);
    }
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
