// The HTTP source: range requests with libcurl, every answer held to what was asked.
//
// A response is accepted only as a 206 Partial Content whose Content-Range is the range asked
// for (the first request may get less: the file ends sooner), of a file of the size the first
// answer gave. Its body is copied straight into the caller's buffer and the transfer is stopped
// the moment the server sends more than that range: memory never holds more than was asked.
// Redirects are followed (the hub answers with one) up to Options::max_redirects; libcurl sends
// the bearer token only to the host it was given for. Time is bounded by the connect timeout
// and an idle timeout (no content arriving), checked by the progress callback.
//
// libcurl is loaded when the first remote file is opened (dlopen), not linked: linked, it and
// the thirty-odd libraries it needs (TLS, HTTP/2, IDN, ...) took ~10 ms at the start of every
// run of the tools, remote or not, five times what inspecting a local header takes.
#include <curl/curl.h>
#include <dlfcn.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <optional>

#include "gguftk/escape.h"
#include "gguftk/remote.h"

namespace gguftk::remote {
namespace {

using Clock = std::chrono::steady_clock;

// The libcurl functions used here, from the library loaded at run time.
struct CurlApi {
    CURL* (*easy_init)();
    void (*easy_cleanup)(CURL*);
    CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
    CURLcode (*easy_perform)(CURL*);
    CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
    const char* (*easy_strerror)(CURLcode);
    curl_slist* (*slist_append)(curl_slist*, const char*);
    void (*slist_free_all)(curl_slist*);

    // Never unloaded (RTLD_NODELETE): the TLS library under it registers exit handlers.
    static CurlApi load(const std::string& file) {
        void* lib = nullptr;
        for (const char* name : {"libcurl.so.4", "libcurl.so"})
            if ((lib = dlopen(name, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE))) break;
        if (!lib) throw Error("cannot load libcurl (libcurl.so.4), which remote files are read with", std::nullopt, file);
        CurlApi api{};
        bool ok = true;
        const auto get = [&](auto& fn, const char* name) {
            fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
            ok = ok && fn;
        };
        get(api.easy_init, "curl_easy_init");
        get(api.easy_cleanup, "curl_easy_cleanup");
        get(api.easy_setopt, "curl_easy_setopt");
        get(api.easy_perform, "curl_easy_perform");
        get(api.easy_getinfo, "curl_easy_getinfo");
        get(api.easy_strerror, "curl_easy_strerror");
        get(api.slist_append, "curl_slist_append");
        get(api.slist_free_all, "curl_slist_free_all");
        if (!ok) throw Error("the libcurl found lacks functions gguftk needs", std::nullopt, file);
        return api;
    }
};

struct CurlFree {
    const CurlApi* api;
    void operator()(CURL* h) const { api->easy_cleanup(h); }
    void operator()(curl_slist* l) const { api->slist_free_all(l); }
};

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
    return s;
}

// A whole decimal number, all of `s`.
std::optional<uint64_t> number(std::string_view s) {
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

struct ContentRange {
    uint64_t first = 0, last = 0;
    std::optional<uint64_t> total;  // none for "/*"
};

// "bytes FIRST-LAST/TOTAL" (RFC 9110 14.4), TOTAL possibly "*".
std::optional<ContentRange> parse_content_range(std::string_view v) {
    if (!starts_with_nocase(v, "bytes ")) return std::nullopt;
    v = trim(v.substr(6));
    const size_t dash = v.find('-'), slash = v.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || dash > slash) return std::nullopt;
    const auto first = number(v.substr(0, dash)), last = number(v.substr(dash + 1, slash - dash - 1));
    if (!first || !last || *first > *last) return std::nullopt;
    ContentRange r{*first, *last, std::nullopt};
    if (v.substr(slash + 1) != "*") {
        r.total = number(v.substr(slash + 1));
        if (!r.total) return std::nullopt;
    }
    return r;
}

std::string status_text(long status) {
    const char* reason = nullptr;
    switch (status) {
        case 400: reason = "Bad Request"; break;
        case 401: reason = "Unauthorized"; break;
        case 403: reason = "Forbidden"; break;
        case 404: reason = "Not Found"; break;
        case 410: reason = "Gone"; break;
        case 416: reason = "Range Not Satisfiable"; break;
        case 429: reason = "Too Many Requests"; break;
        case 500: reason = "Internal Server Error"; break;
        case 502: reason = "Bad Gateway"; break;
        case 503: reason = "Service Unavailable"; break;
        case 504: reason = "Gateway Timeout"; break;
        default: break;
    }
    return "HTTP " + std::to_string(status) + (reason ? std::string(" ") + reason : std::string());
}

// One request and its answer. Header fields are those of the last response: a redirect's are
// forgotten when the next response's status line arrives.
struct Exchange {
    uint64_t offset = 0, length = 0;       // the range asked for
    std::optional<uint64_t> size;          // the file's size, once the first answer gave it
    std::span<uint8_t> out;                // `length` bytes for the body
    bool hub_without_token = false;        // for the hint on 401/403

    long status = 0;
    bool headers_done = false;             // the blank line that ends the headers arrived
    std::optional<std::string> content_range;
    std::optional<uint64_t> content_length;

    bool checked = false;                  // the response was judged (at its first body byte)
    uint64_t expect = 0, got = 0;          // body bytes the Content-Range promised, and received
    uint64_t total = 0;                    // the file's size by the Content-Range
    std::string error;                     // why the transfer was stopped, if it was

    Clock::time_point last_change = Clock::now();
    curl_off_t last_now = 0;
    Clock::duration idle_limit{};
    bool idle = false;

    // An empty string when the response is the range asked for; else what is wrong with it.
    std::string judge() {
        if (!headers_done) return "the connection closed in the middle of the response headers";
        if (status != 206) {
            if (status == 200)
                return "the server ignored the range request (HTTP 200 instead of 206 Partial Content): it would send "
                       "the whole file";
            if (status == 0) return "no HTTP status in the answer";
            if (status >= 300 && status < 400) return status_text(status) + " without a Location to follow";
            std::string s = status < 400 ? "unexpected " + status_text(status) : status_text(status);
            if ((status == 401 || status == 403) && hub_without_token) s += " (a gated or private model needs HF_TOKEN)";
            return s;
        }
        if (!content_range) return "HTTP 206 without a Content-Range";
        const auto r = parse_content_range(*content_range);
        if (!r) return "unreadable Content-Range \"" + escape(*content_range, EscapeFor::Text, 60) + '"';
        const std::string asked = "bytes " + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
        const std::string got_range = "bytes " + std::to_string(r->first) + "-" + std::to_string(r->last) + "/" +
                                      (r->total ? std::to_string(*r->total) : "*");
        if (!r->total) return "the server does not say how large the file is (Content-Range " + got_range + ")";
        if (r->last >= *r->total)
            return "the server answered " + got_range + " (past the size it gives) to a request for " + asked;
        if (size && *r->total != *size)
            return "the file changed on the server: it had " + std::to_string(*size) + " bytes, now " +
                   std::to_string(*r->total);
        const uint64_t asked_last = offset + length - 1;
        // Only the first request, made before the size is known, may get less: the file's end.
        const bool ends_file = !size && r->last < asked_last && r->last + 1 == *r->total;
        if (r->first != offset || (r->last != asked_last && !ends_file))
            return "the server answered " + got_range + " to a request for " + asked;
        expect = r->last - r->first + 1;
        total = *r->total;
        if (content_length && *content_length != expect)
            return "Content-Length " + std::to_string(*content_length) + " does not match Content-Range " + got_range;
        return {};
    }
};

size_t on_header(char* buf, size_t size, size_t n, void* user) {
    auto& x = *static_cast<Exchange*>(user);
    const std::string_view line = trim(std::string_view(buf, size * n));
    if (line.empty()) {
        x.headers_done = true;
    } else if (starts_with_nocase(line, "HTTP/")) {
        x.status = 0;
        x.headers_done = false;
        x.content_range.reset();
        x.content_length.reset();
        const size_t sp = line.find(' ');
        if (sp != std::string_view::npos && line.size() >= sp + 4)
            x.status = static_cast<long>(number(line.substr(sp + 1, 3)).value_or(0));
    } else if (starts_with_nocase(line, "content-range:")) {
        x.content_range = std::string(trim(line.substr(14)).substr(0, 200));
    } else if (starts_with_nocase(line, "content-length:")) {
        x.content_length = number(trim(line.substr(15)));
        if (!x.content_length) x.content_length = UINT64_MAX;  // unreadable: matches no range
    }
    return size * n;
}

size_t on_body(char* p, size_t size, size_t n, void* user) {
    auto& x = *static_cast<Exchange*>(user);
    const size_t len = size * n;
    if (!x.checked) {
        x.checked = true;
        x.error = x.judge();
        if (!x.error.empty()) return 0;  // anything but len stops the transfer
    }
    if (len > x.expect - x.got) {
        x.error = "the server sent more than the " + std::to_string(x.expect) + " bytes asked for";
        return 0;
    }
    std::memcpy(x.out.data() + x.got, p, len);
    x.got += len;
    return len;
}

int on_progress(void* user, curl_off_t, curl_off_t now, curl_off_t, curl_off_t) {
    auto& x = *static_cast<Exchange*>(user);
    const Clock::time_point t = Clock::now();
    if (now != x.last_now) {
        x.last_now = now;
        x.last_change = t;
        return 0;
    }
    if (t - x.last_change > x.idle_limit) {
        x.idle = true;
        return 1;
    }
    return 0;
}

std::string seconds(double s) {
    std::string t = std::to_string(s);
    t.erase(t.find_last_not_of('0') + 1);
    if (t.back() == '.') t.pop_back();
    return t + " s";
}

class HttpSource final : public Source {
public:
    HttpSource(const Location& where, const Options& opts, uint64_t first_read)
        : curl_(CurlApi::load(where.display)),
          headers_(nullptr, CurlFree{&curl_}),
          h_(nullptr, CurlFree{&curl_}),
          display_(where.display),
          opts_(opts),
          hub_without_token_(where.hub && where.bearer.empty()) {
        h_.reset(curl_.easy_init());
        if (!h_) throw Error("cannot start libcurl", std::nullopt, display_);
        CURL* h = h_.get();
        if (!where.bearer.empty()) {
            // libcurl gives a header set here only to the host it was set for, not to a redirect's.
            const std::string auth = "Authorization: Bearer " + where.bearer;
            headers_.reset(curl_.slist_append(nullptr, auth.c_str()));
            if (!headers_) throw std::bad_alloc();
        }
        const auto ms = [](double s) { return static_cast<long>(std::clamp(s, 0.001, 1e6) * 1000); };
        bool ok = curl_.easy_setopt(h, CURLOPT_URL, where.url.c_str()) == CURLE_OK;
        ok &= curl_.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
        ok &= curl_.easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK;
        ok &= curl_.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK;
        ok &= curl_.easy_setopt(h, CURLOPT_MAXREDIRS, opts.max_redirects) == CURLE_OK;
        ok &= curl_.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms(opts.connect_timeout_s)) == CURLE_OK;
        ok &= curl_.easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
        ok &= curl_.easy_setopt(h, CURLOPT_HTTP_CONTENT_DECODING, 0L) == CURLE_OK;
        ok &= curl_.easy_setopt(h, CURLOPT_USERAGENT, "gguftk/0.1") == CURLE_OK;
        ok &= curl_.easy_setopt(h, CURLOPT_HTTPHEADER, headers_.get()) == CURLE_OK;
        ok &= curl_.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
        ok &= curl_.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
        ok &= curl_.easy_setopt(h, CURLOPT_NOPROGRESS, 0L) == CURLE_OK;
        ok &= curl_.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress) == CURLE_OK;
        if (!ok) throw Error("cannot set libcurl up for this URL", std::nullopt, display_);

        // The first request learns the size; its bytes wait for the reader's first read.
        head_.resize(std::max<uint64_t>(first_read, 1));
        head_.resize(fetch(0, head_));
        head_.shrink_to_fit();
    }

    const std::string& name() const override { return display_; }
    uint64_t size() const override { return size_; }
    Transfer transfer() const override { return stats_; }

    void read(uint64_t offset, std::span<uint8_t> out) override {
        if (offset > size_ || out.size() > size_ - offset)
            throw Error("cannot read " + std::to_string(out.size()) + " bytes at offset " + std::to_string(offset) +
                            ": the file has " + std::to_string(size_),
                        offset, display_);
        if (out.empty()) return;
        if (offset < head_.size() && out.size() <= head_.size() - offset) {
            std::memcpy(out.data(), head_.data() + offset, out.size());
            if (offset == 0 && out.size() == head_.size()) std::vector<uint8_t>().swap(head_);  // taken: let go
            return;
        }
        fetch(offset, out);
    }

private:
    [[noreturn]] void fail(const std::string& what) const { throw Error(what, std::nullopt, display_); }

    // Requests [offset, offset + out.size()); returns the bytes received (fewer only for the
    // first request of a smaller file).
    uint64_t fetch(uint64_t offset, std::span<uint8_t> out) {
        Exchange x;
        x.offset = offset;
        x.length = out.size();
        x.out = out;
        x.hub_without_token = hub_without_token_;
        if (size_known_) x.size = size_;
        x.idle_limit = std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(std::clamp(opts_.idle_timeout_s, 0.001, 1e6)));
        CURL* h = h_.get();
        const std::string range = std::to_string(offset) + "-" + std::to_string(offset + out.size() - 1);
        char err[CURL_ERROR_SIZE] = "";
        curl_.easy_setopt(h, CURLOPT_RANGE, range.c_str());
        curl_.easy_setopt(h, CURLOPT_HEADERDATA, &x);
        curl_.easy_setopt(h, CURLOPT_WRITEDATA, &x);
        curl_.easy_setopt(h, CURLOPT_XFERINFODATA, &x);
        curl_.easy_setopt(h, CURLOPT_ERRORBUFFER, err);
        const CURLcode rc = curl_.easy_perform(h);
        curl_.easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
        long redirects = 0;
        curl_.easy_getinfo(h, CURLINFO_REDIRECT_COUNT, &redirects);
        ++stats_.requests;
        stats_.redirects += static_cast<uint64_t>(std::max(redirects, 0L));
        stats_.bytes += x.got;

        if (!x.error.empty()) fail(x.error);
        if (x.idle)
            fail("no data for " + seconds(opts_.idle_timeout_s) + " (the idle timeout: --idle-timeout, GGUFTK_IDLE_TIMEOUT)");
        if (rc != CURLE_OK) fail(curl_failure(rc, err, x));
        if (!x.checked) {  // no body at all: the answer is judged now
            x.checked = true;
            if (std::string e = x.judge(); !e.empty()) fail(e);
        }
        if (x.got != x.expect)
            fail("the connection closed after " + std::to_string(x.got) + " of the " + std::to_string(x.expect) +
                 " bytes asked for");
        if (!size_known_) {
            size_ = x.total;
            size_known_ = true;
        }
        return x.got;
    }

    std::string curl_failure(CURLcode rc, const char* err, const Exchange& x) const {
        switch (rc) {
            case CURLE_OPERATION_TIMEDOUT:  // the only timeout set is the connect timeout
                return "cannot connect within " + seconds(opts_.connect_timeout_s) +
                       " (the connect timeout: --connect-timeout, GGUFTK_CONNECT_TIMEOUT)";
            case CURLE_TOO_MANY_REDIRECTS:
                return "more than " + std::to_string(opts_.max_redirects) + " redirects (a redirect loop?)";
            case CURLE_PARTIAL_FILE:
                return "the connection closed after " + std::to_string(x.got) + " of the " + std::to_string(x.expect) +
                       " bytes asked for";
            case CURLE_GOT_NOTHING: return "the server closed the connection without answering";
            default: break;
        }
        // libcurl's own words; a redirect's host name in them comes from the server: escaped.
        return escape(*err ? std::string_view(err) : std::string_view(curl_.easy_strerror(rc)), EscapeFor::Text, 200);
    }

    CurlApi curl_;  // before the handles, which it frees
    std::unique_ptr<curl_slist, CurlFree> headers_;  // outlives the handle that sends it
    std::unique_ptr<CURL, CurlFree> h_;
    std::string display_;
    Options opts_;
    bool hub_without_token_;
    bool size_known_ = false;
    uint64_t size_ = 0;
    std::vector<uint8_t> head_;
    Transfer stats_;
};

}  // namespace

std::unique_ptr<Source> open_source(const Location& where, const Options& opts, uint64_t first_read) {
    return std::make_unique<HttpSource>(where, opts, first_read);
}

}  // namespace gguftk::remote
