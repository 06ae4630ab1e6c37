#include "util/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "util/fs.h"

namespace qb {

namespace {
int flock_op(LockMode mode) { return mode == LockMode::kShared ? LOCK_SH : LOCK_EX; }

void write_note(int fd, const std::string& note) {
  std::string content = "pid " + std::to_string(::getpid()) + ": " + note + "\n";
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] ssize_t n = ::pwrite(fd, content.data(), content.size(), 0);
  }
}
}  // namespace

Result<FileLock> FileLock::lock(const std::filesystem::path& path, const std::string& note, LockMode mode,
                                bool wait) {
  QB_TRY(fs::make_dirs(path.parent_path()));
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return errno_error("open lock '" + path.string() + "'");
  for (;;) {
    if (::flock(fd, flock_op(mode) | (wait ? 0 : LOCK_NB)) == 0) break;
    if (errno == EINTR) continue;
    int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK) return Status(Code::kBusy, "'" + path.string() + "' is held by " + holder(path));
    errno = e;
    return errno_error("flock '" + path.string() + "'");
  }
  // A shared holder overwrites the note of another shared holder: the note then names one of
  // them, which is all a "waiting for …" message needs.
  write_note(fd, note);
  FileLock l;
  l.fd_ = fd;
  l.mode_ = mode;
  l.path_ = path;
  return l;
}

Result<FileLock> FileLock::try_acquire(const std::filesystem::path& path, const std::string& note, LockMode mode) {
  return lock(path, note, mode, false);
}

Result<FileLock> FileLock::acquire(const std::filesystem::path& path, const std::string& note, LockMode mode) {
  return lock(path, note, mode, true);
}

Result<FileLock> FileLock::adopt(const std::filesystem::path& path, int fd, LockMode mode) {
  struct stat a {}, b {};
  if (fd < 0 || ::fstat(fd, &a) != 0 || ::stat(path.c_str(), &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
    return not_found("descriptor " + std::to_string(fd) + " is not open on '" + path.string() + "'");
  // On a description that already holds the lock in `mode` this is a no-op; on one that holds
  // nothing it takes the lock if it is free. Either way this process holds it afterwards.
  if (::flock(fd, flock_op(mode) | LOCK_NB) != 0)
    return not_found("descriptor " + std::to_string(fd) + " does not hold '" + path.string() + "'");
  int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);  // our copy; the inherited one stays for our children
  if (own < 0) return errno_error("dup lock descriptor for '" + path.string() + "'");
  FileLock l;
  l.fd_ = own;
  l.mode_ = mode;
  l.path_ = path;
  return l;
}

Status FileLock::convert(LockMode mode, bool wait) {
  if (fd_ < 0) return internal_error("convert: lock not held");
  if (mode == mode_) return Status::ok();
  for (;;) {
    if (::flock(fd_, flock_op(mode) | (wait ? 0 : LOCK_NB)) == 0) break;
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) {
      // The kernel dropped our lock before it found the conflict: take the old mode back.
      while (::flock(fd_, flock_op(mode_)) != 0 && errno == EINTR) {
      }
      return Status(Code::kBusy, "'" + path_.string() + "' is held by " + holder(path_));
    }
    return errno_error("flock '" + path_.string() + "'");
  }
  mode_ = mode;
  return Status::ok();
}

std::string FileLock::holder(const std::filesystem::path& path) {
  auto r = fs::read_file(path);
  if (!r.is_ok()) return "";
  std::string s = *r;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

FileLock::FileLock(FileLock&& o) noexcept : fd_(o.fd_), mode_(o.mode_), path_(std::move(o.path_)) { o.fd_ = -1; }

FileLock& FileLock::operator=(FileLock&& o) noexcept {
  if (this != &o) {
    release();
    fd_ = o.fd_;
    mode_ = o.mode_;
    path_ = std::move(o.path_);
    o.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() { release(); }

void FileLock::release() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace qb
