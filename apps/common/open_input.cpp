#include "open_input.h"

#include "cli.h"
#include "inspect/inspect.h"

namespace gguftk::cli {

void add_remote_options(CLI::App& app, remote::Options& opts) {
    app.add_option("--connect-timeout", opts.connect_timeout_s,
                   "remote files: seconds to wait for a connection (default 15)")
        ->envname("GGUFTK_CONNECT_TIMEOUT")
        ->check(positive_number("seconds"))
        ->group("Remote files");
    app.add_option("--idle-timeout", opts.idle_timeout_s,
                   "remote files: seconds a request may go without data arriving (default 30)")
        ->envname("GGUFTK_IDLE_TIMEOUT")
        ->check(positive_number("seconds"))
        ->group("Remote files");
    app.add_option("--min-speed", opts.min_speed,
                   "remote files: bytes/s a request must keep up over each --idle-timeout (default 1024; 0: none)")
        ->envname("GGUFTK_MIN_SPEED")
        ->check(positive_number("bytes per second", true))
        ->group("Remote files");
    app.add_option("--request-timeout", opts.request_timeout_s,
                   "remote files: seconds one request may take in all, redirects included (default 600)")
        ->envname("GGUFTK_REQUEST_TIMEOUT")
        ->check(positive_number("seconds"))
        ->group("Remote files");
    app.add_option("--max-header-total", opts.max_header_total,
                   "remote files: bytes the headers of one model (all its shards) may bring in all (default "
                   "1073741824, 1 GiB)")
        ->envname("GGUFTK_MAX_HEADER_TOTAL")
        ->check(whole_number(1))
        ->group("Remote files");
}

GgufFile InputOpener::operator()(const std::string& input) {
    if (remote::is_remote(input)) return remote_.open(input);
    return GgufFile::open(input);
}

std::vector<std::string> shard_inputs(const std::string& input, uint64_t count) {
    // Shard names are made from the file name: a revision or query after it stays as it is.
    const size_t cut = remote::name_end(input);
    std::vector<std::string> out;
    try {
        for (std::string& s : shard_paths(input.substr(0, cut), count)) out.push_back(std::move(s) + input.substr(cut));
    } catch (const Error& e) {
        throw Error(e.what(), e.offset(), remote::display_name(input));  // never a user:password@
    }
    return out;
}

}  // namespace gguftk::cli
