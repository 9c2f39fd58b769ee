#pragma once
// What the file-reading tools share about their input: a local path (mapped) or a remote
// location (http://, https://, hf://: remote/remote.h), and the options remote reads take.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "container/gguf.h"
#include "remote/remote.h"

namespace gguftk::cli {

// --connect-timeout, --idle-timeout and --request-timeout in seconds, --min-speed in bytes/s and
// --max-header-total in bytes, also read from GGUFTK_CONNECT_TIMEOUT, GGUFTK_IDLE_TIMEOUT,
// GGUFTK_REQUEST_TIMEOUT, GGUFTK_MIN_SPEED and GGUFTK_MAX_HEADER_TOTAL (a flag wins over its variable).
void add_remote_options(CLI::App& app, remote::Options& opts);

// Opens the files of one model: maps a local file, or reads a remote one's header (HF_ENDPOINT
// and HF_TOKEN for hf://), the remote headers together held to --max-header-total.
class InputOpener {
public:
    explicit InputOpener(const remote::Options& opts) : remote_(remote::Hub::from_env(), opts) {}
    GgufFile operator()(const std::string& input);

private:
    remote::ModelOpener remote_;
};

// The shards of the split model `input` is a shard of (NAME-0000K-of-0000N.gguf), local or remote.
std::vector<std::string> shard_inputs(const std::string& input, uint64_t count);

}  // namespace gguftk::cli
