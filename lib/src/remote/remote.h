#pragma once
// GGUF files on a web server, read with HTTP range requests (libcurl): the header first, growing
// as the parser asks, then exactly the bytes a view needs; never the whole file.
//
//   remote::Options o;                                       // timeouts
//   GgufFile f = remote::open("hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf",
//                             remote::Hub::from_env(), o);
//
// A server is as untrusted as a file: every response must be the 206 Partial Content of exactly
// the range asked for, of a file whose size stays the same; a transfer that brings more than
// was asked is stopped, so memory never holds more than the reads asked for; the whole answer to
// a request (headers and bodies, redirects' included) may bring only a little more than its
// range, no slower than a lowest speed, within a deadline. Every failure is an Error naming the
// file as Location::display (no credentials) and what happened.
// Built without libcurl (GGUFTK_REMOTE=OFF, or no libcurl found), open() throws saying so.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "container/gguf.h"
#include "container/source.h"

namespace gguftk::remote {

struct Options {
    double connect_timeout_s = 15;    // to open a connection (each redirect's too)
    double idle_timeout_s = 30;       // without a byte arriving, while a request is open
    double min_speed = 1024;          // bytes/s: a request slower than this over an idle_timeout_s
                                      // window is stopped (a trickle never meets the idle timeout); 0: off
    double request_timeout_s = 600;   // the most one request may take, its redirects included
    long max_redirects = 10;
    int max_retries = 3;              // of a 429 or 503 that says when to retry (Retry-After) ...
    double max_retry_wait_s = 10;     // ... waiting at most this long in all, for one request
    HeaderReads header;               // how the header is read (the first read, the most it may take)
    uint64_t max_header_total = uint64_t{1} << 30;  // bytes the headers of one model's files (a split
                                                    // model's shards) may bring in all: ModelOpener
};

// The Hugging Face hub that hf:// locations resolve against (HF_ENDPOINT, HF_TOKEN).
struct Hub {
    std::string endpoint = "https://huggingface.co";
    std::string token;  // sent as "Authorization: Bearer ..." to the hub only, for gated models
    static Hub from_env();
};

// http://, https:// or hf://: a location to read with this module rather than a local path.
bool is_remote(std::string_view input);

struct Location {
    std::string url;      // what is requested
    std::string display;  // how messages and views name it: no user:password@, no query
    std::string bearer;   // the token to send, or empty
    bool hub = false;     // an hf:// location
};
// http(s)://... as it is; hf://OWNER/REPO/PATH/FILE.gguf[@REVISION] as the hub's
// ENDPOINT/OWNER/REPO/resolve/REVISION/PATH/FILE.gguf (REVISION main when absent; it may hold
// '/', as refs/pr/1 does), with the hub's token. Throws Error for a location of neither form.
Location locate(std::string_view input, const Hub& hub);
// `input` as messages name it (Location::display); the input itself when it is not remote.
std::string display_name(std::string_view input);

// Where the file name in `input` ends: before an hf:// location's @REVISION or a URL's ?query
// or #fragment (the end of anything else), so that a split model's shard names can be made.
size_t name_end(std::string_view input);

// The libcurl handle (and so the connections) sources share; made by the first of them.
struct Session;

// A source reading `where` by range requests. The first request asks for `first_read` bytes
// and learns the file's size from the answer; its bytes are kept for the first read() to take.
// Sources given the same `session` (null: a new one is made and stored there) use one libcurl
// handle, so they must be read from one thread at a time.
std::unique_ptr<Source> open_source(const Location& where, const Options& opts, uint64_t first_read,
                                    std::shared_ptr<Session>& session);

// The header of the remote file `input`, validated as GgufFile::open validates a local one.
GgufFile open(std::string_view input, const Hub& hub, const Options& opts);

// Opens the remote files of one model (a split model's shards) with their headers' reads counted
// together: in all they may bring at most Options::max_header_total bytes, past which open()
// throws an Error naming the file it was reading, so that a model of 99999 shards cannot fetch
// 99999 headers' worth. Each file's header is held to Options::header.max as well. The files
// share one libcurl handle (one connection per host): read them from one thread at a time.
class ModelOpener {
public:
    ModelOpener(Hub hub, Options opts) : hub_(std::move(hub)), opts_(std::move(opts)) {}
    GgufFile open(std::string_view input);
    uint64_t fetched() const { return fetched_; }  // by the headers opened so far

private:
    Hub hub_;
    Options opts_;
    uint64_t fetched_ = 0;
    std::shared_ptr<Session> session_;
};

}  // namespace gguftk::remote
