// Reading tensor data without mapping it, and writing outputs that appear only when complete.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "convert/convert.h"
#include "container/error.h"

namespace gguftk {
namespace {

namespace fs = std::filesystem;

std::string errno_text(int e) { return std::strerror(e); }

bool same_file(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

// A name beside `out` that no one else uses: ".NAME.tmp-XXXXXX", filled in by mkstemp/mkdtemp.
std::string temp_template(const std::string& out) {
    const fs::path p(out);
    const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    std::string name = ".";  // appended rather than `"." + ...`, which GCC 12 warns about (-Wrestrict) when inlined
    name += p.filename().string();
    name += ".tmp-XXXXXX";
    return (dir / name).string();
}

// "weights/" names the directory weights; messages keep the slash as given.
std::string directory_path(std::string out) {
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
}

mode_t creation_mode(mode_t wanted) {
    const mode_t mask = umask(022);
    umask(mask);
    return wanted & ~mask;
}

}  // namespace

// --- input ----------------------------------------------------------------------------------

InputReader::InputReader(const GgufFile& in) : in_(&in) {
    // Not blocking: a FIFO swapped in since would hold open(2) forever; reads of a regular file
    // ignore the flag.
    const int fd = ::open(in.path().c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return;  // parsed from memory, or gone since: the mapping is still valid
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || uint64_t(st.st_size) != in.file_size()) {
        ::close(fd);
        throw Error("the file changed since it was opened", std::nullopt, in.path());
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    fd_ = fd;
}

InputReader::~InputReader() {
    if (fd_ >= 0) ::close(fd_);
}

void InputReader::read(uint64_t offset, std::span<uint8_t> dst) const {
    if (offset > in_->file_size() || dst.size() > in_->file_size() - offset)
        throw Error("read past the end of the file", offset, in_->path());
    if (fd_ < 0) {
        memcpy(dst.data(), in_->bytes().data() + offset, dst.size());
        return;
    }
    size_t done = 0;
    while (done < dst.size()) {
        const ssize_t n = ::pread(fd_, dst.data() + done, dst.size() - done, off_t(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error("read failed: " + errno_text(errno), offset + done, in_->path());
        if (n == 0) throw Error("the file shrank while being read", offset + done, in_->path());
        done += size_t(n);
    }
}

// --- output ---------------------------------------------------------------------------------

// One thing that appears at commit: a file, or a directory of files.
struct Target {
    std::string out;           // as the user named it, for messages
    std::string path;          // the name on the file system (a directory's without its slashes)
    std::string temp;          // the temp file, or the temp directory
    bool directory = false;
    bool replace_dir = false;  // an existing output directory is swapped out at commit
    bool renamed = false;

    [[noreturn]] void fail(const std::string& what) const { throw Error(what, std::nullopt, out); }
};

struct OutputWriter::Impl {
    std::vector<Target> targets;
    std::vector<std::string> final_paths;  // output_paths(plan, out)
    std::vector<int> fds;
    std::vector<std::string> paths;
    std::vector<uint64_t> sizes;
    std::vector<uint32_t> target_of;  // by output file
    bool committed = false;

    [[noreturn]] void fail(uint32_t file, const std::string& what) const { targets[target_of[file]].fail(what); }

    void close_all(bool check) {
        for (size_t i = 0; i < fds.size(); ++i) {
            int& fd = fds[i];
            if (fd < 0) continue;
            const int r = ::close(fd);
            fd = -1;
            if (r != 0 && check) fail(uint32_t(i), "closing the output failed: " + errno_text(errno));
        }
    }

    void remove_temps() noexcept {
        close_all(false);
        for (const Target& t : targets) {
            if (t.temp.empty()) continue;
            std::error_code ec;
            if (t.directory) fs::remove_all(t.temp, ec);
            else ::unlink(t.temp.c_str());
        }
    }
};

namespace {

// The checks before anything is written to `t.out`: not an input, not something we may not replace.
void check_target(Target& t, const ConversionPlan& plan, bool force) {
    struct stat out_st {};
    if (::stat(t.path.c_str(), &out_st) != 0) return;
    for (const GgufFile* in : plan.inputs()) {
        struct stat in_st {};
        if (::stat(in->path().c_str(), &in_st) == 0 && same_file(in_st, out_st))
            t.fail(plan.inputs().size() == 1 ? "is the input file; choose another output"
                                             : "is one of the input files; choose another output");
    }
    if (t.directory) {
        if (!S_ISDIR(out_st.st_mode)) t.fail("exists and is not a directory");
        if (!force) t.fail("exists (use --force to replace it)");
        // Replacing a directory deletes what it holds: only ever one that we wrote, and
        // never one an input lives in.
        if (!fs::exists(fs::path(t.path) / "manifest.json"))
            t.fail("is a directory without manifest.json, not one gguf-dequant wrote; not replacing it");
        std::error_code ec;
        const fs::path out_real = fs::canonical(t.path, ec);
        for (const GgufFile* in : plan.inputs()) {
            const fs::path in_real = fs::canonical(in->path(), ec);
            if (!in_real.empty() && !out_real.empty()) {
                const auto rel = in_real.lexically_relative(out_real);
                if (!rel.empty() && *rel.begin() != "..") t.fail("holds the input file; not replacing it");
            }
        }
        t.replace_dir = true;
    } else {
        if (S_ISDIR(out_st.st_mode)) t.fail("is a directory");
        // A FIFO or a device (say /dev/null) is not a file to replace: renaming over it
        // would swap the node itself for a regular file.
        if (!S_ISREG(out_st.st_mode)) t.fail("exists and is not a regular file; not replacing it");
        if (!force) t.fail("exists (use --force to overwrite it)");
    }
}

// Puts a finished directory in place of `t.path`, swapping out an old one.
void commit_directory(Target& t) {
    ::chmod(t.temp.c_str(), creation_mode(0777));
    if (!t.replace_dir) {
        if (::rename(t.temp.c_str(), t.path.c_str()) != 0)
            t.fail("cannot rename the finished output into place: " + errno_text(errno));
        t.temp.clear();
        t.renamed = true;
        return;
    }
    // Swap the old directory out and the new one in, both in one step, then delete the old one
    // (now at the temp name).
    if (::renameat2(AT_FDCWD, t.temp.c_str(), AT_FDCWD, t.path.c_str(), RENAME_EXCHANGE) != 0) {
        std::string aside = temp_template(t.path);
        if (!mkdtemp(aside.data())) t.fail("cannot move the old output aside: " + errno_text(errno));
        if (::rename(t.path.c_str(), aside.c_str()) != 0) {
            ::rmdir(aside.c_str());
            t.fail("cannot move the old output aside: " + errno_text(errno));
        }
        if (::rename(t.temp.c_str(), t.path.c_str()) != 0) {
            const int e = errno;
            ::rename(aside.c_str(), t.path.c_str());
            t.fail("cannot rename the finished output into place: " + errno_text(e));
        }
        t.temp = aside;
    }
    t.renamed = true;
    std::error_code ec;
    fs::remove_all(t.temp, ec);
    t.temp.clear();
}

}  // namespace

namespace {

// One target per shard, else one: the file, or the directory of per-tensor files.
std::vector<Target> targets_of(const ConversionPlan& plan, const std::string& out, const std::vector<std::string>& final_paths) {
    std::vector<Target> targets;
    if (plan.layout() == OutputLayout::Shards) {
        for (const std::string& p : final_paths) {
            Target t;
            t.out = t.path = p;
            targets.push_back(std::move(t));
        }
        return targets;
    }
    Target t;
    t.out = out;
    t.directory = plan.layout() == OutputLayout::Directory;
    // Without the slash, a regular file named like the directory is found (and refused) by
    // check_target, and the temp sibling and renames do not point inside the directory.
    t.path = t.directory ? directory_path(out) : out;
    targets.push_back(std::move(t));
    return targets;
}

// A file of `t` at a temp name: in its temp directory, or beside it. Returns the descriptor and
// sets `path`.
int create_temp_file(Target& t, const OutputFile& f, std::string& path) {
    if (t.directory) {
        path = t.temp + "/" + f.name;
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) t.fail("cannot create " + f.name + ": " + errno_text(errno));
        return fd;
    }
    std::string tmpl = temp_template(t.path);
    const int fd = mkstemp(tmpl.data());
    if (fd < 0) t.fail("cannot create a file beside it: " + errno_text(errno));
    path = t.temp = tmpl;
    fchmod(fd, creation_mode(0666));  // mkstemp's 0600 would survive the rename
    return fd;
}

// Reserves the space now, so a full disk or a file size limit shows before the work. Where the
// file system cannot (EOPNOTSUPP), a sparse file of the final size will do; glibc's
// posix_fallocate would instead write every block once.
void reserve(const Target& t, int fd, uint64_t size) {
    int r = size && ::fallocate(fd, 0, 0, off_t(size)) != 0 ? errno : 0;
    if (r == EOPNOTSUPP) r = ::ftruncate(fd, off_t(size)) == 0 ? 0 : errno;
    if (r != 0) t.fail("cannot reserve " + std::to_string(size) + " bytes: " + errno_text(r));
}

}  // namespace

OutputWriter::OutputWriter(const ConversionPlan& plan, std::string out_path, bool force)
    : impl_(std::make_unique<Impl>()), out_path_(std::move(out_path)) {
    Impl& m = *impl_;
    if (out_path_.empty()) throw Error("empty output path");
    m.final_paths = output_paths(plan, out_path_);
    m.targets = targets_of(plan, out_path_, m.final_paths);
    for (Target& t : m.targets) check_target(t, plan, force);
    try {
        for (Target& t : m.targets) {
            if (!t.directory) continue;
            std::string tmpl = temp_template(t.path);
            if (!mkdtemp(tmpl.data())) t.fail("cannot create a directory beside it: " + errno_text(errno));
            t.temp = tmpl;
        }
        for (const OutputFile& f : plan.files()) {
            const uint32_t ti = plan.layout() == OutputLayout::Shards ? uint32_t(m.fds.size()) : 0;
            std::string path;
            m.fds.push_back(create_temp_file(m.targets[ti], f, path));
            m.paths.push_back(path);
            m.sizes.push_back(f.size);
            m.target_of.push_back(ti);
            reserve(m.targets[ti], m.fds.back(), f.size);
            write(uint32_t(m.fds.size() - 1), 0, f.header);
        }
    } catch (...) {
        m.remove_temps();
        throw;
    }
}

OutputWriter::~OutputWriter() {
    if (!impl_->committed) impl_->remove_temps();
}

const std::vector<std::string>& OutputWriter::paths() const { return impl_->final_paths; }

void OutputWriter::write(uint32_t file, uint64_t offset, std::span<const uint8_t> data) {
    Impl& m = *impl_;
    if (file >= m.fds.size() || offset > m.sizes[file] || data.size() > m.sizes[file] - offset)
        throw Error("internal error: write outside the planned output", std::nullopt, out_path_);
    size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::pwrite(m.fds[file], data.data() + done, data.size() - done, off_t(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) m.fail(file, "write failed: " + errno_text(n < 0 ? errno : EIO));
        done += size_t(n);
    }
}

void OutputWriter::copy(uint32_t file, uint64_t offset, const InputReader& in, uint64_t in_offset, uint64_t size) {
    Impl& m = *impl_;
    if (file >= m.fds.size() || offset > m.sizes[file] || size > m.sizes[file] - offset)
        throw Error("internal error: copy outside the planned output", std::nullopt, out_path_);
    if (in.fd() >= 0) {
        loff_t src = loff_t(in_offset), dst = loff_t(offset);
        uint64_t left = size;
        while (left > 0) {
            const ssize_t n = ::copy_file_range(in.fd(), &src, m.fds[file], &dst, left, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) break;
            if (n < 0) m.fail(file, "write failed: " + errno_text(errno));
            if (n == 0) throw Error("the file shrank while being read", uint64_t(src));
            left -= uint64_t(n);
        }
        if (left == 0) return;
        in_offset = uint64_t(src);
        offset = uint64_t(dst);
        size = left;
    }
    std::vector<uint8_t> buf(size_t(std::min<uint64_t>(size, 1 << 20)));
    while (size > 0) {
        const size_t n = size_t(std::min<uint64_t>(size, buf.size()));
        in.read(in_offset, std::span(buf.data(), n));
        write(file, offset, std::span<const uint8_t>(buf.data(), n));
        in_offset += n;
        offset += n;
        size -= n;
    }
}

void OutputWriter::commit() {
    Impl& m = *impl_;
    if (m.committed) return;
    m.close_all(true);
    // All or none: the shards of a split output are renamed last to first (so the first, which
    // llama.cpp is given, appears last); if one rename fails, those already in place are removed.
    try {
        for (size_t i = m.targets.size(); i-- > 0;) {
            Target& t = m.targets[i];
            if (t.directory) {
                commit_directory(t);
                continue;
            }
            if (::rename(t.temp.c_str(), t.path.c_str()) != 0)
                t.fail("cannot rename the finished output into place: " + errno_text(errno));
            t.temp.clear();
            t.renamed = true;
        }
    } catch (...) {
        for (const Target& t : m.targets)
            if (t.renamed && !t.directory) ::unlink(t.path.c_str());
        throw;
    }
    m.committed = true;
}

}  // namespace gguftk
