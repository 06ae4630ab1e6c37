#include "util/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "util/fs.h"

namespace qb {

Result<FileLock> FileLock::lock(const std::filesystem::path& path, const std::string& note, bool wait) {
  QB_TRY(fs::make_dirs(path.parent_path()));
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return errno_error("open lock '" + path.string() + "'");
  for (;;) {
    if (::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == 0) break;
    if (errno == EINTR) continue;
    int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK) return Status(Code::kBusy, "'" + path.string() + "' is held by " + holder(path));
    errno = e;
    return errno_error("flock '" + path.string() + "'");
  }
  std::string content = "pid " + std::to_string(::getpid()) + ": " + note + "\n";
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] ssize_t n = ::pwrite(fd, content.data(), content.size(), 0);
  }
  FileLock l;
  l.fd_ = fd;
  return l;
}

Result<FileLock> FileLock::try_acquire(const std::filesystem::path& path, const std::string& note) {
  return lock(path, note, false);
}

Result<FileLock> FileLock::acquire(const std::filesystem::path& path, const std::string& note) {
  return lock(path, note, true);
}

std::string FileLock::holder(const std::filesystem::path& path) {
  auto r = fs::read_file(path);
  if (!r.is_ok()) return "";
  std::string s = *r;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

FileLock::FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }

FileLock& FileLock::operator=(FileLock&& o) noexcept {
  if (this != &o) {
    release();
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() { release(); }

void FileLock::release() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace qb
