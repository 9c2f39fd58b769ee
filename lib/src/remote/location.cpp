// Where a remote file is: http(s) URLs as given, hf:// locations on the Hugging Face hub, the
// names messages use for them, and the locations of a split model's other shards.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <vector>

#include "remote/remote.h"
#include "text/ascii.h"

namespace gguftk::remote {
namespace {

constexpr std::string_view kHf = "hf://";

using text::istarts_with;

bool is_http(std::string_view s) { return istarts_with(s, "http://") || istarts_with(s, "https://"); }
bool is_hf(std::string_view s) { return istarts_with(s, kHf); }

// RFC 3986's unreserved characters stay; every other byte is %XX. `keep_slash` for paths.
std::string percent_encode(std::string_view s, bool keep_slash) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
            out += c;
        } else {
            out += '%';
            out += kHex[u >> 4];
            out += kHex[u & 15];
        }
    }
    return out;
}

std::vector<std::string_view> split_at_slashes(std::string_view s) {
    std::vector<std::string_view> segs;
    for (size_t from = 0;;) {
        const size_t to = s.find('/', from);
        segs.push_back(s.substr(from, to == std::string_view::npos ? std::string_view::npos : to - from));
        if (to == std::string_view::npos) return segs;
        from = to + 1;
    }
}

// An empty, "." or ".." segment would let the request leave the repository (or resolve/REV/)
// once a server or curl removes dot segments, taking the token along.
bool any_bad_segment(std::string_view s) {
    const std::vector<std::string_view> segs = split_at_slashes(s);
    return std::any_of(segs.begin(), segs.end(),
                       [](std::string_view seg) { return seg.empty() || seg == "." || seg == ".."; });
}

// hf://OWNER/REPO/PATH[@REVISION] taken apart.
struct HfParts {
    std::string owner, repo, path, revision;
};

HfParts hf_parts(std::string_view input) {
    std::string_view rest = input.substr(kHf.size());
    HfParts p;
    // The revision follows the file's ".gguf@", and may hold '/' (refs/pr/1).
    const size_t at = rest.find(".gguf@");
    if (at != std::string_view::npos) {
        p.revision = std::string(rest.substr(at + 6));
        rest = rest.substr(0, at + 5);
    }
    const std::vector<std::string_view> segs = split_at_slashes(rest);
    if (segs.size() < 3 || any_bad_segment(rest) || (at != std::string_view::npos && any_bad_segment(p.revision)))
        throw Error("not a Hugging Face location: expected hf://OWNER/REPO/FILE.gguf or hf://OWNER/REPO/FILE.gguf@REVISION",
                    std::nullopt, std::string(input));
    p.owner = segs[0];
    p.repo = segs[1];
    p.path = rest.substr(segs[0].size() + segs[1].size() + 2);
    return p;
}

// Whether an authority is host[:port] as RFC 3986 spells it: a bracketed IP literal or a name
// of its host characters, and a port of digits.
bool plain_authority(std::string_view a) {
    size_t host_end = 0;
    if (!a.empty() && a[0] == '[') {
        host_end = a.find(']');
        if (host_end == std::string_view::npos) return false;
        ++host_end;
    } else {
        host_end = std::min(a.rfind(':'), a.size());
        const std::string_view host = a.substr(0, host_end);
        if (!std::all_of(host.begin(), host.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-._~%!$&'()*+,;=").find(c) != std::string_view::npos;
            }))
            return false;
    }
    const std::string_view port = a.substr(host_end);
    return port.empty() || (port[0] == ':' && std::all_of(port.begin() + 1, port.end(), [](char c) {
                                return std::isdigit(static_cast<unsigned char>(c));
                            }));
}

// The URL without user:password@ and without its query and fragment, which may hold tokens.
// A password with an unescaped '/', '?', '#' or '@' in it (a URL typed by hand, which libcurl
// refuses) ends the authority early, leaving a part of it that is no host[:port]: then the
// credentials run to the next '@', and are cut there too.
std::string redact(std::string_view url) {
    const size_t scheme_end = url.find("://");
    std::string_view head = url.substr(0, scheme_end + 3);
    std::string_view rest = url.substr(scheme_end + 3);
    for (;;) {
        const std::string_view authority = rest.substr(0, std::min(rest.find_first_of("/?#"), rest.size()));
        size_t cut = authority.rfind('@');
        if (cut == std::string_view::npos && !plain_authority(authority)) cut = rest.find('@');
        if (cut == std::string_view::npos) break;
        rest = rest.substr(cut + 1);
    }
    const size_t query = rest.find_first_of("?#");
    std::string out = std::string(head) + std::string(rest.substr(0, query));
    if (query != std::string_view::npos) out += "?...";
    return out;
}

}  // namespace

Hub Hub::from_env() {
    Hub hub;
    if (const char* e = std::getenv("HF_ENDPOINT"); e && *e) hub.endpoint = e;
    if (const char* t = std::getenv("HF_TOKEN"); t && *t) hub.token = t;
    while (!hub.endpoint.empty() && hub.endpoint.back() == '/') hub.endpoint.pop_back();
    return hub;
}

bool is_remote(std::string_view input) { return is_http(input) || is_hf(input); }

std::string display_name(std::string_view input) {
    if (is_http(input)) return redact(input);
    return std::string(input);
}

Location locate(std::string_view input, const Hub& hub) {
    Location loc;
    if (is_http(input)) {
        loc.url = std::string(input);
        loc.display = redact(input);
        return loc;
    }
    if (!is_hf(input))
        throw Error("not a remote location (http://, https:// or hf://)", std::nullopt, std::string(input));
    const HfParts p = hf_parts(input);
    if (!is_http(hub.endpoint))
        throw Error("HF_ENDPOINT must be an http:// or https:// URL", std::nullopt, std::string(input));
    std::string endpoint = hub.endpoint;
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    loc.url = endpoint + '/' + percent_encode(p.owner, false) + '/' + percent_encode(p.repo, false) + "/resolve/" +
              percent_encode(p.revision.empty() ? "main" : p.revision, false) + '/' + percent_encode(p.path, true);
    loc.display = std::string(input);
    loc.bearer = hub.token;
    loc.hub = true;
    return loc;
}

size_t name_end(std::string_view input) {
    if (is_hf(input)) {
        const size_t at = input.find(".gguf@");
        return at == std::string_view::npos ? input.size() : at + 5;
    }
    if (is_http(input)) return std::min(input.find_first_of("?#"), input.size());
    return input.size();
}

GgufFile open(std::string_view input, const Hub& hub, const Options& opts) { return ModelOpener(hub, opts).open(input); }

GgufFile ModelOpener::open(std::string_view input) {
    const Location where = locate(input, hub_);
    const uint64_t total = opts_.max_header_total;
    const std::string limit = std::to_string(total) +
                              " bytes the headers of one model may take in all (the header total: --max-header-total, "
                              "GGUFTK_MAX_HEADER_TOTAL)";
    if (fetched_ >= total)
        throw Error("no header can be read: the model's other files have taken all " + limit, std::nullopt,
                    where.display);
    HeaderReads reads = opts_.header;
    if (total - fetched_ < reads.max) {
        reads.max = total - fetched_;
        reads.max_is = "all that is left of the " + limit;
    }
    reads.first = std::min(reads.first, reads.max);
    GgufFile f = GgufFile::open(open_source(where, opts_, reads.first, session_), reads);
    fetched_ += f.source()->transfer().bytes;
    return f;
}

}  // namespace gguftk::remote
