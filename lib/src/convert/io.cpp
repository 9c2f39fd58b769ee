// Reading tensor data without mapping it, and writing outputs that appear only when complete.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "gguftk/convert.h"
#include "gguftk/error.h"

namespace gguftk {
namespace {

namespace fs = std::filesystem;

std::string errno_text(int e) { return std::strerror(e); }

bool same_file(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

// A name beside `out` that no one else uses: ".NAME.tmp-XXXXXX", filled in by mkstemp/mkdtemp.
std::string temp_template(const std::string& out) {
    const fs::path p(out);
    const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    return (dir / ("." + p.filename().string() + ".tmp-XXXXXX")).string();
}

mode_t creation_mode(mode_t wanted) {
    const mode_t mask = umask(022);
    umask(mask);
    return wanted & ~mask;
}

}  // namespace

// --- input ----------------------------------------------------------------------------------

InputReader::InputReader(const GgufFile& in) : in_(&in) {
    const int fd = ::open(in.path().c_str(), O_RDONLY | O_CLOEXEC);
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

struct OutputWriter::Impl {
    std::string out;
    bool directory = false;
    bool replace_dir = false;  // an existing output directory is swapped out at commit
    std::string temp;          // the temp file, or the temp directory
    std::vector<int> fds;
    std::vector<std::string> paths;
    std::vector<uint64_t> sizes;
    bool committed = false;

    [[noreturn]] void fail(const std::string& what) const { throw Error(what, std::nullopt, out); }

    void close_all(bool check) {
        for (int& fd : fds) {
            if (fd < 0) continue;
            const int r = ::close(fd);
            fd = -1;
            if (r != 0 && check) fail("closing the output failed: " + errno_text(errno));
        }
    }

    void remove_temp() noexcept {
        close_all(false);
        if (temp.empty()) return;
        std::error_code ec;
        if (directory) fs::remove_all(temp, ec);
        else ::unlink(temp.c_str());
    }
};

OutputWriter::OutputWriter(const ConversionPlan& plan, std::string out_path, bool force)
    : impl_(std::make_unique<Impl>()), out_path_(std::move(out_path)) {
    Impl& m = *impl_;
    m.out = out_path_;
    m.directory = is_directory_format(plan.options().format);
    if (out_path_.empty()) throw Error("empty output path");

    struct stat in_st {}, out_st {};
    const bool in_known = ::stat(plan.input().path().c_str(), &in_st) == 0;
    if (::stat(out_path_.c_str(), &out_st) == 0) {
        if (in_known && same_file(in_st, out_st)) m.fail("is the input file; choose another output");
        if (m.directory) {
            if (!S_ISDIR(out_st.st_mode)) m.fail("exists and is not a directory");
            if (!force) m.fail("exists (use --force to replace it)");
            // Replacing a directory deletes what it holds: only ever one that we wrote, and
            // never one the input lives in.
            if (!fs::exists(fs::path(out_path_) / "manifest.json"))
                m.fail("is a directory without manifest.json, not one gguf-dequant wrote; not replacing it");
            std::error_code ec;
            const fs::path in_real = fs::canonical(plan.input().path(), ec);
            const fs::path out_real = fs::canonical(out_path_, ec);
            if (!in_real.empty() && !out_real.empty()) {
                const auto rel = in_real.lexically_relative(out_real);
                if (!rel.empty() && *rel.begin() != "..") m.fail("holds the input file; not replacing it");
            }
            m.replace_dir = true;
        } else {
            if (S_ISDIR(out_st.st_mode)) m.fail("is a directory");
            // A FIFO or a device (say /dev/null) is not a file to replace: renaming over it
            // would swap the node itself for a regular file.
            if (!S_ISREG(out_st.st_mode)) m.fail("exists and is not a regular file; not replacing it");
            if (!force) m.fail("exists (use --force to overwrite it)");
        }
    }

    std::string tmpl = temp_template(out_path_);
    const auto& files = plan.files();
    if (m.directory) {
        if (!mkdtemp(tmpl.data()))
            m.fail("cannot create a directory beside it: " + errno_text(errno));
        m.temp = tmpl;
    }
    try {
        for (const OutputFile& f : files) {
            int fd;
            std::string path;
            if (m.directory) {
                path = m.temp + "/" + f.name;
                fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
                if (fd < 0) m.fail("cannot create " + f.name + ": " + errno_text(errno));
            } else {
                fd = mkstemp(tmpl.data());
                if (fd < 0) m.fail("cannot create a file beside it: " + errno_text(errno));
                path = tmpl;
                m.temp = tmpl;
                fchmod(fd, creation_mode(0666));  // mkstemp's 0600 would survive the rename
            }
            m.fds.push_back(fd);
            m.paths.push_back(path);
            m.sizes.push_back(f.size);
            // Reserve the space now, so a full disk or a file size limit shows before the work.
            // Where the file system cannot (EOPNOTSUPP), a sparse file of the final size will do;
            // glibc's posix_fallocate would instead write every block once.
            int r = f.size && ::fallocate(fd, 0, 0, off_t(f.size)) != 0 ? errno : 0;
            if (r == EOPNOTSUPP) r = ::ftruncate(fd, off_t(f.size)) == 0 ? 0 : errno;
            if (r != 0) m.fail("cannot reserve " + std::to_string(f.size) + " bytes: " + errno_text(r));
            write(uint32_t(m.fds.size() - 1), 0, f.header);
        }
    } catch (...) {
        m.remove_temp();
        throw;
    }
}

OutputWriter::~OutputWriter() {
    if (!impl_->committed) impl_->remove_temp();
}

void OutputWriter::write(uint32_t file, uint64_t offset, std::span<const uint8_t> data) {
    Impl& m = *impl_;
    if (file >= m.fds.size() || offset > m.sizes[file] || data.size() > m.sizes[file] - offset)
        m.fail("internal error: write outside the planned output");
    size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::pwrite(m.fds[file], data.data() + done, data.size() - done, off_t(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) m.fail("write failed: " + errno_text(n < 0 ? errno : EIO));
        done += size_t(n);
    }
}

void OutputWriter::copy(uint32_t file, uint64_t offset, const InputReader& in, uint64_t in_offset, uint64_t size) {
    Impl& m = *impl_;
    if (file >= m.fds.size() || offset > m.sizes[file] || size > m.sizes[file] - offset)
        m.fail("internal error: copy outside the planned output");
    if (in.fd() >= 0) {
        loff_t src = loff_t(in_offset), dst = loff_t(offset);
        uint64_t left = size;
        while (left > 0) {
            const ssize_t n = ::copy_file_range(in.fd(), &src, m.fds[file], &dst, left, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) break;
            if (n < 0) m.fail("write failed: " + errno_text(errno));
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
    if (!m.directory) {
        if (::rename(m.temp.c_str(), m.out.c_str()) != 0) m.fail("cannot rename the finished output into place: " + errno_text(errno));
        m.committed = true;
        return;
    }
    ::chmod(m.temp.c_str(), creation_mode(0777));
    if (!m.replace_dir) {
        if (::rename(m.temp.c_str(), m.out.c_str()) != 0) m.fail("cannot rename the finished output into place: " + errno_text(errno));
        m.committed = true;
        return;
    }
    // Swap the old directory out and the new one in, both in one step, then delete the old one
    // (now at the temp name).
    if (::renameat2(AT_FDCWD, m.temp.c_str(), AT_FDCWD, m.out.c_str(), RENAME_EXCHANGE) != 0) {
        std::string aside = temp_template(m.out);
        if (!mkdtemp(aside.data())) m.fail("cannot move the old output aside: " + errno_text(errno));
        if (::rename(m.out.c_str(), aside.c_str()) != 0) {
            ::rmdir(aside.c_str());
            m.fail("cannot move the old output aside: " + errno_text(errno));
        }
        if (::rename(m.temp.c_str(), m.out.c_str()) != 0) {
            const int e = errno;
            ::rename(aside.c_str(), m.out.c_str());
            m.fail("cannot rename the finished output into place: " + errno_text(e));
        }
        m.temp = aside;
    }
    m.committed = true;
    std::error_code ec;
    fs::remove_all(m.temp, ec);
}

}  // namespace gguftk
