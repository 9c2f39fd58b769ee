#include "cli.h"

#include <fmt/core.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <set>
#include <sstream>

#include "text/columns.h"
#include "text/escape.h"
#include "gguftk_commit.h"

namespace gguftk::cli {
namespace {

constexpr size_t kHelpColumns = 80;
constexpr size_t kHelpIndent = 30;  // where an option's description starts

// `text` with each paragraph (lines that are neither empty nor indented) refilled to the help's
// width; indented lines (examples) and blank lines kept as they are.
std::string refill(const std::string& text) {
    std::string out, paragraph;
    auto flush = [&] {
        if (paragraph.empty()) return;
        for (const std::string& l : wrap_words(paragraph, kHelpColumns)) out += l + '\n';
        paragraph.clear();
    };
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == ' ') {
            flush();
            out += line + '\n';
        } else {
            paragraph += (paragraph.empty() ? "" : " ") + line;
        }
    }
    flush();
    return out;
}

std::string names(const std::set<CLI::Option*>& opts) {
    std::string s;
    for (const CLI::Option* o : opts) s += " " + o->get_name();
    return s;
}

// CLI11's help with every option's constraints (Needs:, Excludes:, Env:) on lines of their own
// below its description, and everything refilled to 80 columns: CLI11 appends them to the
// option's name, where they run into the description.
class HelpFormatter : public CLI::Formatter {
public:
    HelpFormatter() { column_width(kHelpIndent); }

    std::string make_description(const CLI::App* app) const override { return refill(Formatter::make_description(app)); }
    std::string make_footer(const CLI::App* app) const override { return refill(app->get_footer()); }

    std::string make_option_opts(const CLI::Option* opt) const override {
        if (!opt->get_option_text().empty()) return " " + opt->get_option_text();
        std::string s;
        if (opt->get_type_size() == 0) return s;
        if (!opt->get_type_name().empty()) s += " " + get_label(opt->get_type_name());
        if (!opt->get_default_str().empty()) s += "=" + opt->get_default_str();
        if (opt->get_expected_max() == CLI::detail::expected_max_vector_size) s += " ...";
        else if (opt->get_expected_min() > 1) s += " x " + std::to_string(opt->get_expected());
        if (opt->get_required()) s += " " + get_label("REQUIRED");
        return s;
    }

    std::string make_option_desc(const CLI::Option* opt) const override {
        std::string s = opt->get_description();
        if (!opt->get_envname().empty()) s += "\nEnv: " + opt->get_envname();
        if (!opt->get_needs().empty()) s += "\nNeeds:" + names(opt->get_needs());
        if (!opt->get_excludes().empty()) s += "\nExcludes:" + names(opt->get_excludes());
        return s;
    }

    // The name in the left column, the description wrapped in the right one, starting on the
    // next line when the name fills the left column.
    std::string make_option(const CLI::Option* opt, bool positional) const override {
        std::string out = "  " + make_option_name(opt, positional) + make_option_opts(opt);
        std::vector<std::string> lines;
        std::istringstream desc(make_option_desc(opt));
        for (std::string part; std::getline(desc, part);)
            for (std::string& l : wrap_words(part, kHelpColumns - kHelpIndent)) lines.push_back(std::move(l));
        size_t used = display_width(out);
        for (const std::string& l : lines) {
            if (used >= kHelpIndent) {
                out += '\n';
                used = 0;
            }
            out += std::string(kHelpIndent - used, ' ') + l;
            used = kHelpIndent + 1;  // the next line starts afresh
        }
        return out + '\n';
    }
};

}  // namespace

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

CLI::Validator positive_number(std::string_view unit, bool zero_too) {
    return CLI::Validator(
        [unit = std::string(unit), zero_too](std::string& text) -> std::string {
            double v = 0;
            const char* end = text.data() + text.size();
            const auto [ptr, ec] = std::from_chars(text.data(), end, v);
            if (text.empty() || ptr != end || ec != std::errc() || !std::isfinite(v) || v < 0 || (v == 0 && !zero_too))
                return zero_too ? fmt::format("{} is not a number of {}, 0 or more", text, unit)
                                : fmt::format("{} is not a positive number of {}", text, unit);
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

size_t terminal_columns(std::FILE* f) {
    if (!is_tty(f)) return 0;
    constexpr size_t kNarrowest = 40, kDefault = 80;
    size_t cols = 0;
    if (winsize ws{}; ioctl(fileno(f), TIOCGWINSZ, &ws) == 0) cols = ws.ws_col;
    if (const char* env = std::getenv("COLUMNS"); cols == 0 && env)
        std::from_chars(env, env + std::strlen(env), cols);
    return std::max(cols ? cols : kDefault, kNarrowest);
}

bool use_color(std::FILE* f) {
    const char* no_color = std::getenv("NO_COLOR");
    if (no_color && *no_color) return false;
    return is_tty(f);
}

int run(CLI::App& app, int argc, char** argv, const std::function<int()>& body, const std::string& input) {
    app.formatter(std::make_shared<HelpFormatter>());
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
    } catch (const ArgumentError& e) {
        fmt::print(stderr, "{}\n", error_line(input, e));
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
