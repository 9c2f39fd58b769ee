// The sides gguf-compare reads: GGUF models (decoded by the library's decoders), and the
// formats gguf-dequant writes or an engine dumps (safetensors, npy, raw), read by pread in
// chunks. Everything a file says (header lengths, shapes, offsets, file names) is checked
// against the file before use: these files come from strangers too.
#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "compare/elements.h"
#include "convert/cpu_loop.h"
#include "compare/compare.h"
#include "formats/decode.h"
#include "container/error.h"
#include "text/escape.h"

namespace gguftk {
namespace fs = std::filesystem;
namespace {

constexpr uint64_t kMaxJsonHeader = uint64_t(100) << 20;  // safetensors caps its own at 100 MB
constexpr uint64_t kMaxNpyHeader = 1 << 16;

Error file_error(const std::string& path, const std::string& what, std::optional<uint64_t> offset = std::nullopt) {
    return Error(what, offset, path);
}

// An open file descriptor, closed on every path.
class Fd {
public:
    explicit Fd(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)) {
        if (fd_ < 0) throw file_error(path, std::string("cannot open: ") + std::strerror(errno));
    }
    ~Fd() { ::close(fd_); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

void pread_all(int fd, uint64_t offset, std::span<uint8_t> out, const std::string& path) {
    size_t done = 0;
    while (done < out.size()) {
        const ssize_t n = ::pread(fd, out.data() + done, out.size() - done, off_t(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw file_error(path, n < 0 ? std::string("read failed: ") + std::strerror(errno) : "file ends early", offset + done);
        done += size_t(n);
    }
}

// The size of a regular file; anything else (a FIFO would block, a directory has none) refused.
uint64_t regular_file_size(const std::string& path) {
    std::error_code ec;
    const auto st = fs::status(path, ec);
    if (ec || !fs::is_regular_file(st)) throw file_error(path, "not a regular file");
    return fs::file_size(path, ec);
}

std::vector<uint8_t> read_prefix(const std::string& path, uint64_t n) {
    const Fd fd(path);
    std::vector<uint8_t> bytes(n);
    pread_all(fd.get(), 0, bytes, path);
    return bytes;
}

uint64_t checked_product(const std::vector<uint64_t>& ne, const std::string& path) {
    uint64_t n = 1;
    for (uint64_t d : ne)
        if (__builtin_mul_overflow(n, d, &n)) throw file_error(path, "shape too large");
    return n;
}

// A tensor stored as plain little-endian elements at an offset of a file.
struct Stored {
    std::string path;
    uint64_t offset = 0;
    Element elem = Element::F32;
};

class FileSide final : public Side {
public:
    explicit FileSide(std::string kind) : kind_(std::move(kind)) {}
    std::string kind() const override { return kind_; }

    void add(SideTensor t, Stored s, uint64_t file_size) {
        uint64_t bytes = 0;
        if (__builtin_mul_overflow(t.n_elements, element_size(s.elem), &bytes) || s.offset > file_size ||
            bytes > file_size - s.offset)
            throw file_error(s.path, "tensor " + quoted_name(t.name) + " needs " + std::to_string(bytes) + " bytes from offset " +
                            std::to_string(s.offset) + ", past the end of the file");
        tensors_.push_back(std::move(t));
        stored_.push_back(std::move(s));
    }

    void read(size_t i, uint64_t first, std::span<double> out, ReadScratch& scratch,
              std::optional<OutType> as) const override {
        const Stored& s = stored_[i];
        const size_t size = element_size(s.elem);
        scratch.bytes.resize(out.size() * size);
        const Fd fd(s.path);
        pread_all(fd.get(), s.offset + first * size, scratch.bytes, s.path);
        to_doubles(s.elem, scratch.bytes.data(), out);
        if (as) round_to(s.elem, *as, out);
    }

private:
    std::string kind_;
    std::vector<Stored> stored_;
};

// ---- GGUF ----

class GgufSide final : public Side {
public:
    explicit GgufSide(GgufModel m) : model_(std::move(m)) {
        for (uint32_t f = 0; f < model_.files().size(); ++f) {
            const GgufFile& file = *model_.files()[f];
            if (file.big_endian()) throw file_error(file.path(), "big-endian GGUF is not supported");
            readers_.push_back(std::make_unique<InputReader>(file));
            for (const TensorInfo& t : file.tensors()) {
                tensors_.push_back({t.name, {t.ne.begin(), t.ne.begin() + t.n_dims}, t.n_elements, std::string(t.type->name)});
                infos_.push_back({f, &t});
            }
        }
    }
    std::string kind() const override { return "GGUF"; }
    const GgufModel* model() const override { return &model_; }

    void read(size_t i, uint64_t first, std::span<double> out, ReadScratch& scratch,
              std::optional<OutType> as) const override {
        const auto [file, t] = infos_[i];
        if (const auto e = plain_element(t->type->type)) {
            read_plain(*readers_[file], *t, *e, first, out, scratch);
            if (as) round_to(*e, *as, out);
            return;
        }
        if (!has_decoder(t->type->type)) throw Error("tensor " + quoted_name(t->name) + ": no decoder for its type");
        // Whole blocks around the range, decoded (and rounded) by gguf-dequant's own loop:
        // exactly the values it writes.
        const OutType to = as.value_or(OutType::F32);
        const uint64_t be = t->type->block_elems, b0 = first / be, b1 = (first + out.size() + be - 1) / be;
        scratch.bytes.resize((b1 - b0) * t->type->block_bytes);
        readers_[file]->read(t->offset + b0 * t->type->block_bytes, scratch.bytes);
        scratch.floats.resize((b1 - b0) * be);  // room for the values of any OutType
        auto* values = reinterpret_cast<uint8_t*>(scratch.floats.data());
        convert_blocks(t->type->type, scratch.bytes.data(), b1 - b0, to, values);
        const Element e = to == OutType::F32 ? Element::F32 : to == OutType::F16 ? Element::F16 : Element::BF16;
        to_doubles(e, values + (first - b0 * be) * out_type_size(to), out);
    }

private:
    static void read_plain(const InputReader& in, const TensorInfo& t, Element e, uint64_t first, std::span<double> out,
                           ReadScratch& scratch) {
        scratch.bytes.resize(out.size() * element_size(e));
        in.read(t.offset + first * element_size(e), scratch.bytes);
        to_doubles(e, scratch.bytes.data(), out);
    }

    GgufModel model_;
    std::vector<std::unique_ptr<InputReader>> readers_;
    std::vector<std::pair<uint32_t, const TensorInfo*>> infos_;
};

// ---- safetensors ----

std::vector<uint64_t> gguf_order(const nlohmann::json& shape, const std::string& path) {
    if (!shape.is_array() || shape.size() > 8) throw file_error(path, "a shape is not an array of at most 8 sizes");
    std::vector<uint64_t> ne;
    for (auto it = shape.rbegin(); it != shape.rend(); ++it) {
        if (!it->is_number_unsigned()) throw file_error(path, "a shape holds something other than a size");
        ne.push_back(it->get<uint64_t>());
    }
    return ne;
}

nlohmann::json parse_json(std::span<const uint8_t> text, const std::string& path) {
    auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw file_error(path, "the JSON header is not a JSON object");
    return j;
}

void add_safetensor(FileSide& side, const std::string& name, const nlohmann::json& t, uint64_t data_start,
                    uint64_t file_size, const std::string& path) {
    if (!t.is_object() || !t.contains("dtype") || !t["dtype"].is_string() || !t.contains("data_offsets"))
        throw file_error(path, "tensor " + quoted_name(name) + ": no dtype or data_offsets");
    const auto e = parse_element(t["dtype"].get<std::string>());
    if (!e) throw file_error(path, "tensor " + quoted_name(name) + ": unsupported dtype " + quoted_name(t["dtype"].get<std::string>()));
    const auto& off = t["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
        throw file_error(path, "tensor " + quoted_name(name) + ": data_offsets is not two offsets");
    SideTensor st{name, gguf_order(t.value("shape", nlohmann::json::array()), path), 0, std::string(element_name(*e))};
    st.n_elements = checked_product(st.ne, path);
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > file_size - data_start) throw file_error(path, "tensor " + quoted_name(name) + ": data_offsets past the end of the file");
    if (end < begin || end - begin != st.n_elements * element_size(*e))
        throw file_error(path, "tensor " + quoted_name(name) + ": data_offsets disagree with its shape and dtype");
    side.add(std::move(st), {path, data_start + begin, *e}, file_size);
}

std::unique_ptr<Side> open_safetensors(const std::string& path) {
    const uint64_t size = regular_file_size(path);
    if (size < 8) throw file_error(path, "too small for a safetensors file");
    const auto head = read_prefix(path, 8);
    uint64_t n = 0;
    for (int k = 7; k >= 0; --k) n = n << 8 | head[size_t(k)];
    if (n > kMaxJsonHeader || n > size - 8) throw file_error(path, "header length " + std::to_string(n) + " is past the file or too large");
    const auto all = read_prefix(path, 8 + n);
    const auto j = parse_json(std::span(all).subspan(8), path);
    auto side = std::make_unique<FileSide>("safetensors");
    for (const auto& [name, t] : j.items())
        if (name != "__metadata__") add_safetensor(*side, name, t, 8 + n, size, path);
    return side;
}

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// ---- npy ----

// The value of `key` in the header dict of a .npy file: "{'descr': '<f2', 'fortran_order': False, 'shape': (4, 1024), }".
std::string npy_field(const std::string& dict, const std::string& key, const std::string& path) {
    const size_t at = dict.find("'" + key + "'");
    const size_t colon = at == std::string::npos ? at : dict.find(':', at);
    if (colon == std::string::npos) throw file_error(path, "npy header has no " + key);
    size_t b = dict.find_first_not_of(' ', colon + 1);
    if (b == std::string::npos) throw file_error(path, "npy header ends in " + key);
    const char close = dict[b] == '(' ? ')' : dict[b] == '\'' ? '\'' : ',';
    const size_t e = dict.find(close, b + 1);
    if (e == std::string::npos) throw file_error(path, "npy header's " + key + " does not end");
    return dict.substr(b, e - b + (close == ',' ? 0 : 1));
}

std::vector<uint64_t> npy_shape(const std::string& text, const std::string& path) {
    std::vector<uint64_t> rows;
    for (size_t i = 1; i + 1 < text.size();) {
        while (i + 1 < text.size() && (text[i] == ' ' || text[i] == ',')) ++i;
        if (i + 1 >= text.size()) break;
        uint64_t v = 0;
        size_t digits = 0;
        for (; i + 1 < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits)
            if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, uint64_t(text[i] - '0'), &v))
                throw file_error(path, "npy shape too large");
        if (!digits || rows.size() == 8) throw file_error(path, "npy shape is not a tuple of at most 8 sizes");
        rows.push_back(v);
    }
    return {rows.rbegin(), rows.rend()};  // GGUF order
}

void add_npy(FileSide& side, const std::string& name, const std::string& path) {
    const uint64_t size = regular_file_size(path);
    if (size < 10) throw file_error(path, "too small for a .npy file");
    const auto head = read_prefix(path, std::min<uint64_t>(size, 12));
    if (std::memcmp(head.data(), "\x93NUMPY", 6) != 0) throw file_error(path, "not a .npy file (no magic)");
    const bool v1 = head[6] == 1;
    const uint64_t len = v1 ? head[8] | uint64_t(head[9]) << 8
                            : head.size() < 12 ? UINT64_MAX : head[8] | uint64_t(head[9]) << 8 | uint64_t(head[10]) << 16 | uint64_t(head[11]) << 24;
    const uint64_t start = v1 ? 10 : 12;
    if (len > kMaxNpyHeader || start + len > size) throw file_error(path, "npy header length past the file");
    const auto all = read_prefix(path, start + len);
    const std::string dict(all.begin() + ptrdiff_t(start), all.end());
    const std::string descr = npy_field(dict, "descr", path);
    if (npy_field(dict, "fortran_order", path) != "False") throw file_error(path, "Fortran-ordered .npy is not supported");
    const auto e = parse_element(descr.substr(1, descr.size() - 2));
    if (!e) throw file_error(path, "unsupported npy dtype " + descr);
    SideTensor t{name, npy_shape(npy_field(dict, "shape", path), path), 0, std::string(element_name(*e))};
    t.n_elements = checked_product(t.ne, path);
    side.add(std::move(t), {path, start + len, *e}, size);
}

// ---- directories ----

// A file name from a manifest: a name within the directory, nothing more.
std::string entry_path(const fs::path& dir, const std::string& file) {
    if (file.empty() || file == "." || file == ".." || file.find('/') != std::string::npos || file.find('\0') != std::string::npos)
        throw file_error(dir.string(), "manifest names a file outside the directory: " + quoted_name(file));
    return (dir / file).string();
}

void add_manifest_entry(FileSide& side, const fs::path& dir, const nlohmann::json& t, bool npy) {
    const std::string where = (dir / "manifest.json").string();
    if (!t.is_object() || !t.contains("name") || !t["name"].is_string() || !t.contains("file") || !t["file"].is_string())
        throw file_error(where, "a tensor entry without name or file");
    const std::string name = t["name"].get<std::string>(), path = entry_path(dir, t["file"].get<std::string>());
    if (npy) return add_npy(side, name, path);
    const auto e = t.contains("dtype") && t["dtype"].is_string() ? parse_element(t["dtype"].get<std::string>()) : std::nullopt;
    if (!e) throw file_error(where, "tensor " + quoted_name(name) + ": no supported dtype");
    SideTensor st{name, gguf_order(t.value("shape", nlohmann::json::array()), where), 0, std::string(element_name(*e))};
    st.n_elements = checked_product(st.ne, where);
    side.add(std::move(st), {path, 0, *e}, regular_file_size(path));
}

std::unique_ptr<Side> open_manifest(const fs::path& dir) {
    const std::string where = (dir / "manifest.json").string();
    const uint64_t size = regular_file_size(where);
    if (size > kMaxJsonHeader) throw file_error(where, "manifest too large");
    const auto j = parse_json(read_prefix(where, size), where);
    const std::string format = j.value("format", "");
    if (format != "npy" && format != "raw") throw file_error(where, "manifest format is neither npy nor raw");
    if (!j.contains("tensors") || !j["tensors"].is_array()) throw file_error(where, "manifest has no tensors");
    auto side = std::make_unique<FileSide>(format + " directory");
    for (const auto& t : j["tensors"]) add_manifest_entry(*side, dir, t, format == "npy");
    return side;
}

// The file of tensor `name` in a dump directory, by the --map pattern or the usual names.
std::optional<std::string> dump_file(const fs::path& dir, const std::string& name, const std::string& map) {
    std::vector<std::string> tries;
    if (map.empty()) {
        tries = {name + ".npy", name + ".bin", name + ".raw", name};
    } else {
        std::string f = map;
        // Searching on past each replacement: a name may itself hold "{name}".
        for (size_t at = 0; (at = f.find("{name}", at)) != std::string::npos; at += name.size()) f.replace(at, 6, name);
        tries = {f};
    }
    for (const std::string& f : tries) {
        if (f.find('/') != std::string::npos || f.find('\0') != std::string::npos || f == "." || f == "..")
            continue;  // a name that leaves the directory, or that the file system would cut short
        std::error_code ec;
        if (fs::is_regular_file(dir / f, ec)) return (dir / f).string();
    }
    return std::nullopt;
}

// A raw dump file of tensor `t` (the other side's), its element type given by --dtype.
void add_raw(FileSide& side, const SideTensor& t, const std::string& path, const std::string& dtype) {
    const auto e = parse_element(dtype);
    if (!e) throw file_error(path, "a raw file needs its element type: --dtype f16|f32|bf16|f64|i8|i16|i32|i64");
    const uint64_t size = regular_file_size(path), width = element_size(*e);
    if (size % width || size / width != t.n_elements)
        throw file_error(path, "holds " + std::to_string(size) + " bytes, not the " + std::to_string(t.n_elements) + " x " +
                                   std::to_string(width) + " bytes of " + quoted_name(t.name) + "'s " +
                                   std::to_string(t.n_elements) + " " + std::string(element_name(*e)) + " values");
    side.add({t.name, t.ne, t.n_elements, std::string(element_name(*e))}, {path, 0, *e}, size);
}

// A dump directory read by the other side's tensor names: a tensor without a file is reported
// as only in the other side, but a directory holding none of them is a mistake (the wrong
// directory, a --map that names no file), not a comparison.
std::unique_ptr<Side> open_dump_by_names(const fs::path& dir, const SideOptions& o, const Side& other) {
    auto side = std::make_unique<FileSide>("dump directory");
    for (const SideTensor& t : other.tensors()) {
        const auto path = dump_file(dir, t.name, o.map);
        if (!path) continue;
        if (ends_with(*path, ".npy")) add_npy(*side, t.name, *path);
        else add_raw(*side, t, *path, o.raw_dtype);
    }
    if (side->tensors().empty() && !other.tensors().empty())
        throw file_error(dir.string(), "holds no file for any of the other side's " + std::to_string(other.tensors().size()) +
                                           " tensors (looked for " + (o.map.empty() ? "NAME.npy, NAME.bin, NAME.raw, NAME" : quoted_name(o.map)) +
                                           ", NAME being e.g. " + quoted_name(other.tensors()[0].name) + ")");
    return side;
}

// A dump directory on its own (both sides are dumps): its .npy files, which carry their shapes.
std::unique_ptr<Side> open_dump_listing(const fs::path& dir) {
    std::vector<std::string> files;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (ends_with(it->path().filename().string(), ".npy")) files.push_back(it->path().filename().string());
    if (ec) throw file_error(dir.string(), "cannot list: " + ec.message());
    if (files.empty())
        throw file_error(dir.string(), "holds no .npy file and no manifest.json: a directory of raw dumps is read by the "
                                       "other side's tensor names and shapes, so the other side must be a model");
    std::sort(files.begin(), files.end());
    auto side = std::make_unique<FileSide>("dump directory");
    for (const std::string& f : files) add_npy(*side, f.substr(0, f.size() - 4), (dir / f).string());
    return side;
}

}  // namespace

bool is_dump_directory(const std::string& path) {
    std::error_code ec;
    return fs::is_directory(path, ec) && !fs::exists(fs::path(path) / "manifest.json", ec);
}

std::unique_ptr<Side> open_side(const std::string& path, const SideOptions& opts, const Side* other) {
    std::error_code ec;
    if (is_dump_directory(path)) return other ? open_dump_by_names(path, opts, *other) : open_dump_listing(path);
    if (fs::is_directory(path, ec)) return open_manifest(path);
    if (ends_with(path, ".safetensors")) return open_safetensors(path);
    return std::make_unique<GgufSide>(GgufModel::open(path));
}

}  // namespace gguftk
