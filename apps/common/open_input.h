#pragma once
// What the file-reading tools share about their input: a local path (mapped) or a remote
// location (http://, https://, hf://: gguftk/remote.h), and the options remote reads take.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "gguftk/gguf.h"
#include "gguftk/remote.h"

namespace gguftk::cli {

// --connect-timeout, --idle-timeout and --request-timeout in seconds, and --min-speed in bytes/s,
// also read from GGUFTK_CONNECT_TIMEOUT, GGUFTK_IDLE_TIMEOUT, GGUFTK_REQUEST_TIMEOUT and
// GGUFTK_MIN_SPEED (a flag wins over its variable).
void add_remote_options(CLI::App& app, remote::Options& opts);

// Maps a local file, or reads a remote one's header (HF_ENDPOINT and HF_TOKEN for hf://).
GgufFile open_input(const std::string& input, const remote::Options& opts);

// The shards of the split model `input` is a shard of (NAME-0000K-of-0000N.gguf), local or remote.
std::vector<std::string> shard_inputs(const std::string& input, uint64_t count);

}  // namespace gguftk::cli
