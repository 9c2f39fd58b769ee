// The HTTP source: range requests with libcurl, every answer held to what was asked.
//
// A response is accepted only as a 206 Partial Content whose Content-Range is the range asked
// for (the first request may get less: the file ends sooner), of a file of the size the first
// answer gave. Its body is copied straight into the caller's buffer and the transfer is stopped
// the moment the server sends more than that range: memory never holds more than was asked.
// Redirects are followed (the hub answers with one) up to Options::max_redirects; libcurl sends
// the bearer token only to the host it was given for. A request's whole answer may bring its range
// and a little more: headers, and the bodies of redirects, which libcurl reads and throws away out
// of the write callback's sight (an endless one never ended). Time is bounded by the connect
// timeout (libcurl's) and, checked by the progress callback, which sees every body, the discarded
// ones too: an idle timeout (nothing arriving), a lowest speed over windows of the idle timeout's
// length (a trickle restarts the idle clock with every byte) and a deadline per request. A 429 or
// 503 that says when to come back (Retry-After) is asked again a few times, after a bounded wait.
//
// libcurl is loaded when the first remote file is opened (dlopen), not linked: linked, it and
// the thirty-odd libraries it needs (TLS, HTTP/2, IDN, ...) took ~10 ms at the start of every
// run of the tools, remote or not, five times what inspecting a local header takes.
#include <curl/curl.h>
#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <optional>
#include <thread>

#include "text/escape.h"
#include "remote/remote.h"
#include "text/ascii.h"

namespace gguftk::remote {
namespace {

using Clock = std::chrono::steady_clock;

// What an answer may bring beyond the range asked for: its headers and the bodies of redirects
// (the usual ones are not a KiB; a 10 MB one would be a server to stop).
constexpr uint64_t kSlack = 256 << 10;
// One response's headers. libcurl's own limits (100 KiB a line, 300 KiB in all in 7.88) end in
// messages that do not say what happened; its line limit stays the only one for a single line.
constexpr uint64_t kMaxHeaders = 64 << 10;

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
    time_t (*getdate)(const char*, const time_t*);  // optional: Retry-After dates

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
        api.getdate = reinterpret_cast<decltype(api.getdate)>(dlsym(lib, "curl_getdate"));
        return api;
    }
};

struct CurlFree {
    const CurlApi* api;
    void operator()(CURL* h) const { api->easy_cleanup(h); }
    void operator()(curl_slist* l) const { api->slist_free_all(l); }
};

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
    if (!text::istarts_with(v, "bytes ")) return std::nullopt;
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
        case 200: reason = "OK"; break;
        case 206: reason = "Partial Content"; break;
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

// A number as messages show it: no trailing zeros.
std::string decimal(double v) {
    std::string t = std::to_string(v);
    t.erase(t.find_last_not_of('0') + 1);
    if (t.back() == '.') t.pop_back();
    return t;
}

std::string seconds(double s) { return decimal(s) + " s"; }

Clock::duration duration(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(std::clamp(s, 0.001, 1e6)));
}

// What stopped a transfer from the progress callback.
enum class Stop { none, budget, idle, slow, deadline };

// The clock of one request. A server may stall (nothing for the idle limit), trickle (less than
// min_speed over a window of the idle limit's length: every byte would restart the idle clock) or
// just take too long (the deadline).
struct Pace {
    Clock::duration idle{}, deadline{};
    double min_speed = 0;  // bytes/s; 0: none
    Clock::time_point start = Clock::now(), last_change = start, window_start{};
    uint64_t last = 0, window_from = 0;
    bool window_open = false;
    uint64_t slow_bytes = 0;  // what the window that was too slow brought
    double slow_s = 0;        // and its length

    Stop check(uint64_t received, Clock::time_point t) {
        if (t - start > deadline) return Stop::deadline;
        if (received != last) {
            last = received;
            last_change = t;
        } else if (t - last_change > idle) {
            return Stop::idle;
        }
        return too_slow(received, t) ? Stop::slow : Stop::none;
    }

    // Windows start at the first byte: the wait before it is the connect and idle timeouts'.
    bool too_slow(uint64_t received, Clock::time_point t) {
        if (!window_open) {
            window_open = received > 0;
            window_start = t;
            window_from = received;
            return false;
        }
        if (t - window_start < idle) return false;
        slow_bytes = received - window_from;
        slow_s = std::chrono::duration<double>(t - window_start).count();
        window_start = t;
        window_from = received;
        // Nothing at all is the idle timeout's to report, a moment later.
        return slow_bytes > 0 && static_cast<double>(slow_bytes) < min_speed * slow_s;
    }
};

// One request and its answer. Header fields are those of the last response: a redirect's are
// forgotten when the next response's status line arrives.
struct Exchange {
    uint64_t offset = 0, length = 0;       // the range asked for
    std::optional<uint64_t> size;          // the file's size, once the first answer gave it
    std::span<uint8_t> out;                // `length` bytes for the body
    bool hub_without_token = false;        // for the hint on 401/403
    uint64_t budget = 0;                   // the most the whole answer may bring, redirects' included

    long status = 0;
    bool headers_done = false;             // the blank line that ends the headers arrived
    std::optional<std::string> content_range;
    std::optional<uint64_t> content_length;
    std::optional<std::string> retry_after;

    bool checked = false;                  // the response was judged (at its first body byte)
    uint64_t expect = 0, got = 0;          // body bytes the Content-Range promised, and received
    uint64_t total = 0;                    // the file's size by the Content-Range
    std::string error;                     // why the transfer was stopped, if it was

    uint64_t headers = 0, response_headers = 0;  // header bytes: of every response, of this one
    uint64_t earlier_bodies = 0;                 // bodies of the responses before this one
    curl_off_t body_now = 0;                     // this one's body, as libcurl counts it
    Pace pace;
    Stop stop = Stop::none;

    CURLcode rc = CURLE_OK;
    std::array<char, CURL_ERROR_SIZE> curl_error{};
    bool reused = false;                   // the request went on a connection an earlier one left open

    uint64_t received() const { return headers + earlier_bodies + static_cast<uint64_t>(body_now); }

    std::string over_budget() const {
        return "the answer to a request for " + std::to_string(length) + " bytes ran past " + std::to_string(budget) +
               " (headers and bodies, redirects' included)";
    }

    // A status line: a new response begins (after a redirect, the one it leads to).
    void new_response(std::string_view line) {
        status = 0;
        headers_done = false;
        content_range.reset();
        content_length.reset();
        retry_after.reset();
        response_headers = 0;
        const size_t sp = line.find(' ');
        if (sp != std::string_view::npos && line.size() >= sp + 4)
            status = static_cast<long>(number(line.substr(sp + 1, 3)).value_or(0));
    }

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

    // The connection closed before the body's end. With no body byte arrived, the answer is judged
    // now: a 404 that closes early is still a 404, said with the length it announced.
    std::string closed_early() {
        if (!checked) {
            checked = true;
            if (std::string e = judge(); !e.empty()) {
                if (!content_length) return e + ", and the connection closed in its body";
                return e + ", and the connection closed before the " + std::to_string(*content_length) +
                       " bytes of body its Content-Length announced";
            }
        }
        return "the connection closed after " + std::to_string(got) + " of the " + std::to_string(expect) +
               " bytes asked for, in an " + status_text(status) + " answer";
    }
};

size_t on_header(char* buf, size_t size, size_t n, void* user) {
    auto& x = *static_cast<Exchange*>(user);
    const std::string_view line = trim(std::string_view(buf, size * n));
    if (text::istarts_with(line, "HTTP/")) x.new_response(line);
    x.headers += size * n;
    x.response_headers += size * n;
    if (x.response_headers > kMaxHeaders)
        x.error = "the response headers ran past " + std::to_string(kMaxHeaders >> 10) + " KiB";
    if (x.received() > x.budget) x.error = x.over_budget();
    if (!x.error.empty()) return 0;  // anything but size * n stops the transfer
    if (line.empty()) {
        x.headers_done = true;
    } else if (text::istarts_with(line, "content-range:")) {
        x.content_range = std::string(trim(line.substr(14)).substr(0, 200));
    } else if (text::istarts_with(line, "content-length:")) {
        x.content_length = number(trim(line.substr(15)));
        if (!x.content_length) x.content_length = UINT64_MAX;  // unreadable: matches no range
    } else if (text::istarts_with(line, "retry-after:")) {
        x.retry_after = std::string(trim(line.substr(12)).substr(0, 100));
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
    // libcurl counts each response's body from 0 (a redirect's too, which it throws away).
    if (now < x.body_now) x.earlier_bodies += static_cast<uint64_t>(x.body_now);
    x.body_now = now;
    x.stop = x.received() > x.budget ? Stop::budget : x.pace.check(x.received(), Clock::now());
    return x.stop == Stop::none ? 0 : 1;  // non-zero stops the transfer
}

// Retry-After (RFC 9110 10.2.3), seconds or an HTTP date, as seconds from now.
std::optional<double> retry_delay(const std::string& v, const CurlApi& curl) {
    if (const auto n = number(v)) return static_cast<double>(std::min<uint64_t>(*n, 1u << 30));
    const time_t at = curl.getdate ? curl.getdate(v.c_str(), nullptr) : -1;
    if (at == -1) return std::nullopt;
    return std::max(0.0, std::difftime(at, std::time(nullptr)));
}

}  // namespace

// One libcurl handle, set up once, that the sources of one model take turns with: its connection
// to a host stays open from one shard to the next (a thousand shards once held a thousand
// sockets and as many receive buffers).
struct Session {
    CurlApi curl;  // before the handle, which it frees
    std::unique_ptr<CURL, CurlFree> h;

    Session(const std::string& file, const Options& opts) : curl(CurlApi::load(file)), h(curl.easy_init(), CurlFree{&curl}) {
        if (!h) throw Error("cannot start libcurl", std::nullopt, file);
        const auto ms = [](double s) { return static_cast<long>(std::clamp(s, 0.001, 1e6) * 1000); };
        CURL* c = h.get();
        bool ok = curl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
        ok &= curl.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK;
        ok &= curl.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK;
        ok &= curl.easy_setopt(c, CURLOPT_MAXREDIRS, opts.max_redirects) == CURLE_OK;
        ok &= curl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms(opts.connect_timeout_s)) == CURLE_OK;
        ok &= curl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
        ok &= curl.easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 0L) == CURLE_OK;
        ok &= curl.easy_setopt(c, CURLOPT_USERAGENT, "gguftk/0.1") == CURLE_OK;
        ok &= curl.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
        ok &= curl.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
        ok &= curl.easy_setopt(c, CURLOPT_NOPROGRESS, 0L) == CURLE_OK;
        ok &= curl.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress) == CURLE_OK;
        if (!ok) throw Error("cannot set libcurl up", std::nullopt, file);
    }
};

namespace {

class HttpSource final : public Source {
public:
    HttpSource(const Location& where, const Options& opts, uint64_t first_read, std::shared_ptr<Session>& session)
        : session_(session ? session : (session = std::make_shared<Session>(where.display, opts))),
          curl_(session_->curl),
          headers_(nullptr, CurlFree{&curl_}),
          url_(where.url),
          display_(where.display),
          opts_(opts),
          hub_without_token_(where.hub && where.bearer.empty()) {
        if (!where.bearer.empty()) {
            // libcurl gives a header set here only to the host it was set for, not to a redirect's.
            const std::string auth = "Authorization: Bearer " + where.bearer;
            headers_.reset(curl_.slist_append(nullptr, auth.c_str()));
            if (!headers_) throw std::bad_alloc();
        }
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
    // first request of a smaller file). A 429 or 503 with a Retry-After is asked again, at most
    // max_retries times and max_retry_wait_s of waiting in all: a busy server says when to come back.
    uint64_t fetch(uint64_t offset, std::span<uint8_t> out) {
        double waited = 0;
        for (int retries = 0;; ++retries) {
            Exchange x = exchange(offset, out);
            perform(x);
            const std::optional<double> wait = retry_wait(x);
            if (!wait) return settle(x);
            if (retries == opts_.max_retries || waited + *wait > opts_.max_retry_wait_s)
                fail(no_more_retries(x, retries, waited + *wait > opts_.max_retry_wait_s ? wait : std::nullopt));
            std::this_thread::sleep_for(std::chrono::duration<double>(*wait));
            waited += *wait;
        }
    }

    Exchange exchange(uint64_t offset, std::span<uint8_t> out) const {
        Exchange x;
        x.offset = offset;
        x.length = out.size();
        x.out = out;
        x.hub_without_token = hub_without_token_;
        if (size_known_) x.size = size_;
        x.budget = out.size() + kSlack;
        x.pace.idle = duration(opts_.idle_timeout_s);
        x.pace.deadline = duration(opts_.request_timeout_s);
        x.pace.min_speed = opts_.min_speed;
        return x;
    }

    void perform(Exchange& x) {
        CURL* h = session_->h.get();
        const std::string range = std::to_string(x.offset) + "-" + std::to_string(x.offset + x.length - 1);
        if (curl_.easy_setopt(h, CURLOPT_URL, url_.c_str()) != CURLE_OK) fail("cannot set libcurl up for this URL");
        curl_.easy_setopt(h, CURLOPT_HTTPHEADER, headers_.get());
        curl_.easy_setopt(h, CURLOPT_RANGE, range.c_str());
        curl_.easy_setopt(h, CURLOPT_HEADERDATA, &x);
        curl_.easy_setopt(h, CURLOPT_WRITEDATA, &x);
        curl_.easy_setopt(h, CURLOPT_XFERINFODATA, &x);
        curl_.easy_setopt(h, CURLOPT_ERRORBUFFER, x.curl_error.data());
        x.pace.start = x.pace.last_change = Clock::now();
        x.rc = curl_.easy_perform(h);
        curl_.easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
        curl_.easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);  // this source's, freed with it
        long redirects = 0, connects = 0;
        curl_.easy_getinfo(h, CURLINFO_REDIRECT_COUNT, &redirects);
        curl_.easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
        x.reused = connects == 0;
        ++stats_.requests;
        stats_.redirects += static_cast<uint64_t>(std::max(redirects, 0L));
        stats_.bytes += x.got;
    }

    // The answer's bytes, or an Error saying what was wrong with it.
    uint64_t settle(Exchange& x) {
        if (!x.error.empty()) fail(x.error);
        if (x.stop != Stop::none) fail(stopped(x));
        if (x.rc != CURLE_OK) fail(curl_failure(x));
        if (!x.checked) {  // no body at all: the answer is judged now
            x.checked = true;
            if (std::string e = x.judge(); !e.empty()) fail(e);
        }
        if (x.got != x.expect) fail(x.closed_early());
        if (!size_known_) {
            size_ = x.total;
            size_known_ = true;
        }
        return x.got;
    }

    // How long a 429 or 503 asks to wait before the next try; none for any other answer.
    std::optional<double> retry_wait(const Exchange& x) const {
        if ((x.status != 429 && x.status != 503) || !x.headers_done || !x.retry_after || x.stop != Stop::none)
            return std::nullopt;
        return retry_delay(*x.retry_after, curl_);
    }

    std::string no_more_retries(const Exchange& x, int retries, std::optional<double> too_long) const {
        std::string s = status_text(x.status);
        if (retries > 0) s += ", still after " + std::to_string(retries) + (retries == 1 ? " retry" : " retries");
        if (too_long)
            s += ": the server asks to retry in " + seconds(*too_long) + ", past the " +
                 seconds(opts_.max_retry_wait_s) + " gguftk waits in all";
        return s;
    }

    std::string stopped(const Exchange& x) const {
        switch (x.stop) {
            case Stop::budget: return x.over_budget();
            case Stop::idle:  // a header line counts once whole: one trickled in is "no further"
                return (x.status && !x.headers_done ? "the response headers came no further for " : "no data for ") +
                       seconds(opts_.idle_timeout_s) + " (the idle timeout: --idle-timeout, GGUFTK_IDLE_TIMEOUT)";
            case Stop::slow:
                return "only " + std::to_string(x.pace.slow_bytes) + " bytes in " +
                       seconds(std::round(x.pace.slow_s * 10) / 10) + ", slower than " + decimal(opts_.min_speed) +
                       " bytes/s (the lowest speed: --min-speed, GGUFTK_MIN_SPEED)";
            case Stop::deadline:
                return "the request took more than " + seconds(opts_.request_timeout_s) +
                       " (the request timeout: --request-timeout, GGUFTK_REQUEST_TIMEOUT)";
            case Stop::none: break;
        }
        return {};
    }

    // libcurl's failures in words that say what the server did, where libcurl's do not.
    std::string curl_failure(Exchange& x) const {
        // "Out of memory" is libcurl's word for a header line past its limit; 8.6 and later say
        // CURLE_TOO_LARGE (100), which the headers built against may not name.
        if (!x.headers_done && (x.rc == CURLE_OUT_OF_MEMORY || static_cast<int>(x.rc) == 100))
            return "a response header line longer than libcurl reads (" + std::to_string(CURL_MAX_HTTP_HEADER >> 10) +
                   " KiB)";
        switch (x.rc) {
            case CURLE_OPERATION_TIMEDOUT:  // the only timeout libcurl keeps is the connect timeout
                return "cannot connect within " + seconds(opts_.connect_timeout_s) +
                       " (the connect timeout: --connect-timeout, GGUFTK_CONNECT_TIMEOUT)";
            case CURLE_TOO_MANY_REDIRECTS:
                return "more than " + std::to_string(opts_.max_redirects) + " redirects (a redirect loop?)";
            case CURLE_PARTIAL_FILE:
            case CURLE_RECV_ERROR:
                if (x.headers_done) return x.closed_early();
                if (x.status) return "the connection closed in the middle of the response headers";
                break;
            case CURLE_GOT_NOTHING: return "the server closed the connection without answering";
            case CURLE_UNSUPPORTED_PROTOCOL:  // "Received HTTP/0.9": bytes that are no status line
            case CURLE_WEIRD_SERVER_REPLY:
                if (!x.status) return not_http(x);
                break;
            default: break;
        }
        // libcurl's own words; a redirect's host name in them comes from the server: escaped.
        const char* err = x.curl_error[0] ? x.curl_error.data() : curl_.easy_strerror(x.rc);
        return escape(std::string_view(err), EscapeFor::Text, 200);
    }

    static std::string not_http(const Exchange& x) {
        std::string s = "the answer does not begin with an HTTP status line";
        if (x.reused)  // the likeliest cause: the previous answer on this connection ran past its end
            s += " (on the connection the previous answer left open: bytes sent past that answer's end?)";
        return s;
    }

    std::shared_ptr<Session> session_;  // before the headers, which its libcurl frees
    const CurlApi& curl_;
    std::unique_ptr<curl_slist, CurlFree> headers_;
    std::string url_;
    std::string display_;
    Options opts_;
    bool hub_without_token_;
    bool size_known_ = false;
    uint64_t size_ = 0;
    std::vector<uint8_t> head_;
    Transfer stats_;
};

}  // namespace

std::unique_ptr<Source> open_source(const Location& where, const Options& opts, uint64_t first_read,
                                    std::shared_ptr<Session>& session) {
    return std::make_unique<HttpSource>(where, opts, first_read, session);
}

}  // namespace gguftk::remote
