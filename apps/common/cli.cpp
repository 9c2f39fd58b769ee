#include "cli.h"

#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "gguftk/escape.h"
#include "gguftk_commit.h"

namespace gguftk::cli {
std::string error_line(const std::string& file, const Error& e) {
    std::string line = "error: ";
    const std::string& named = e.file().empty() ? file : e.file();
    // A file name may hold a newline or an escape sequence: shown raw, it would forge a second
    // line or act on the terminal.
    if (!named.empty()) line += escape(named) + ": ";
    line += e.what();
    if (e.offset()) line += fmt::format(" (at offset {})", *e.offset());
    return line;
}

CLI::Validator whole_number(uint64_t min) {
    return CLI::Validator(
        [min](std::string& text) -> std::string {
            uint64_t v = 0;
            const char* end = text.data() + text.size();
            const auto [ptr, ec] = std::from_chars(text.data(), end, v);
            if (text.empty() || ptr != end || ec != std::errc() || v < min)
                return fmt::format("{} is not a whole number from {} to {}", text, min, UINT64_MAX);
            return {};
        },
        "");
}

void write_stdout(std::string_view s) {
    if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size() || std::fflush(stdout) != 0)
        throw Error(std::string("cannot write: ") + std::strerror(errno), std::nullopt, "<stdout>");
}

void add_version(CLI::App& app) {
    std::string text = app.get_name() + " " + GGUFTK_VERSION_STRING + " (";
    if (*GGUFTK_GIT_COMMIT) text += std::string("commit ") + GGUFTK_GIT_COMMIT + ", ";
#if GGUFTK_APPS_HAVE_CUDA
    text += "CUDA compiled in)";
#else
    text += "no CUDA)";
#endif
    app.set_version_flag("--version", text, "print the version, the commit built from and whether CUDA is in, then exit");
}

bool is_tty(std::FILE* f) { return isatty(fileno(f)) == 1; }

bool use_color(std::FILE* f) {
    const char* no_color = std::getenv("NO_COLOR");
    if (no_color && *no_color) return false;
    return is_tty(f);
}

int run(CLI::App& app, int argc, char** argv, const std::function<int()>& body, const std::string& input) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        fmt::print(stderr, "error: {}\nRun with --help for usage.\n", e.what());
        return kExitUsage;
    }
    try {
        return body();
    } catch (const UsageError& e) {
        fmt::print(stderr, "error: {}\nRun with --help for usage.\n", e.what());
        return kExitUsage;
    } catch (const Error& e) {
        fmt::print(stderr, "{}\n", error_line(input, e));
        return kExitFailure;
    } catch (const std::bad_alloc&) {
        fmt::print(stderr, "{}\n", error_line(input, Error("out of memory")));
        return kExitFailure;
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}\n", error_line(input, Error(e.what())));
        return kExitFailure;
    }
}

}  // namespace gguftk::cli
