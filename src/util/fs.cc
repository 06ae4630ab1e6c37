#include "util/fs.h"

#include "util/atomic_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

namespace qb::fs {

Result<std::string> read_file(const stdfs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error("open '" + path.string() + "'");
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = errno_error("read '" + path.string() + "'");
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::optional<FileStat> stat_of(const stdfs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return file_stat(st);
}

FileStat file_stat(const struct ::stat& st) {
  FileStat f;
  f.dev = st.st_dev;
  f.ino = st.st_ino;
  f.size = static_cast<std::uint64_t>(st.st_size);
  f.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  f.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  return f;
}

Status sync_path(const stdfs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error("open '" + path.string() + "' for fsync");
  int rc = ::fsync(fd);
  Status s = rc == 0 ? Status::ok() : errno_error("fsync '" + path.string() + "'");
  ::close(fd);
  return s;
}

Status write_file_atomic(const stdfs::path& path, std::string_view data) {
  QB_ASSIGN_OR_RETURN(AtomicFileWriter w, AtomicFileWriter::create(path));
  QB_TRY(w.append(data.data(), data.size()));
  return w.commit();
}

Status make_dirs(const stdfs::path& dir) {
  std::error_code ec;
  stdfs::create_directories(dir, ec);
  if (ec) return io_error("create directory '" + dir.string() + "': " + ec.message());
  return Status::ok();
}

Result<MappedFile> MappedFile::open(const stdfs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error("open '" + path.string() + "'");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = errno_error("stat '" + path.string() + "'");
    ::close(fd);
    return s;
  }
  MappedFile m;
  m.path_ = path;
  m.size_ = static_cast<std::size_t>(st.st_size);
  if (m.size_ > 0) {
    void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      Status s = errno_error("mmap '" + path.string() + "'");
      ::close(fd);
      return s;
    }
    m.data_ = static_cast<const std::uint8_t*>(p);
  }
  ::close(fd);
  return m;
}

MappedFile::MappedFile(MappedFile&& o) noexcept : data_(o.data_), size_(o.size_), path_(std::move(o.path_)) {
  o.data_ = nullptr;
  o.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (data_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
    data_ = o.data_;
    size_ = o.size_;
    path_ = std::move(o.path_);
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
}

Result<TempDir> TempDir::create(const stdfs::path& parent, const std::string& prefix) {
  QB_TRY(make_dirs(parent));
  std::string tmpl = (parent / (prefix + "XXXXXX")).string();
  // A cleaner may lock and delete the folder between mkdtemp and our flock: then the folder we
  // locked is unlinked (st_nlink == 0) and we make another.
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) return errno_error("mkdtemp '" + tmpl + "'");
    int fd = ::open(buf.data(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      return errno_error("open '" + std::string(buf.data()) + "'");
    }
    while (::flock(fd, LOCK_EX) != 0 && errno == EINTR) {
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_nlink == 0) {
      ::close(fd);
      continue;
    }
    TempDir t;
    t.path_ = stdfs::path(buf.data());
    t.lock_fd_ = fd;
    return t;
  }
  return io_error("mkdtemp '" + tmpl + "': the folder kept disappearing (another process cleaning '" +
                  parent.string() + "'?)");
}

Status TempDir::check_intact() const {
  struct stat a {}, b {};
  if (lock_fd_ < 0 || ::fstat(lock_fd_, &a) != 0 || ::stat(path_.c_str(), &b) != 0 || a.st_dev != b.st_dev ||
      a.st_ino != b.st_ino || a.st_nlink == 0)
    return not_found("the temporary folder '" + path_.string() + "' was removed or replaced while it was written");
  return Status::ok();
}

void TempDir::reset() {
  if (!path_.empty()) {
    std::error_code ec;
    stdfs::remove_all(path_, ec);
    path_.clear();
  }
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
}

TempDir::TempDir(TempDir&& o) noexcept : path_(std::move(o.path_)), lock_fd_(o.lock_fd_) {
  o.path_.clear();
  o.lock_fd_ = -1;
}

TempDir& TempDir::operator=(TempDir&& o) noexcept {
  if (this != &o) {
    reset();
    path_ = std::move(o.path_);
    lock_fd_ = o.lock_fd_;
    o.path_.clear();
    o.lock_fd_ = -1;
  }
  return *this;
}

TempDir::~TempDir() { reset(); }

stdfs::path TempDir::release() {
  stdfs::path p = std::move(path_);
  path_.clear();
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
  return p;
}

int remove_unowned_entries(const stdfs::path& dir) {
  int removed = 0;
  std::error_code ec;
  for (auto& e : stdfs::directory_iterator(dir, ec)) {
    std::error_code ec2;
    if (!e.is_directory(ec2) || e.is_symlink(ec2)) {
      removed += stdfs::remove(e.path(), ec2) ? 1 : 0;
      continue;
    }
    int fd = ::open(e.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {  // its owner is gone: holding the lock, delete it
      stdfs::remove_all(e.path(), ec2);
      ++removed;
    }
    ::close(fd);
  }
  return removed;
}

}  // namespace qb::fs
