#include "util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "util/fs.h"

namespace qb::fs {
namespace {

constexpr std::size_t kBufferBytes = 1 << 20;  // small writes are batched; big ones go straight

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}() ^ static_cast<unsigned>(::getpid())};
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s(8, 'x');
  for (char& c : s) c = kAlphabet[rng() % (sizeof kAlphabet - 1)];
  return s;
}

Status write_all(int fd, const char* p, std::size_t left, const std::filesystem::path& tmp) {
  while (left > 0) {
    // Linux writes at most ~2 GiB per call; loop on partial writes.
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("write '" + tmp.string() + "'");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return Status::ok();
}

}  // namespace

Result<AtomicFileWriter> AtomicFileWriter::create(const std::filesystem::path& path) {
  std::filesystem::path dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  QB_TRY(fs::make_dirs(dir));
  AtomicFileWriter w;
  w.path_ = path;
  w.tmp_ = dir / ("." + path.filename().string() + ".tmp-" + random_suffix());
  w.fd_ = ::open(w.tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (w.fd_ < 0) return errno_error("create '" + w.tmp_.string() + "'");
  w.buf_.reserve(kBufferBytes);
  return w;
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& o) noexcept
    : path_(std::move(o.path_)), tmp_(std::move(o.tmp_)), fd_(o.fd_), buf_(std::move(o.buf_)) {
  o.fd_ = -1;
}

AtomicFileWriter& AtomicFileWriter::operator=(AtomicFileWriter&& o) noexcept {
  if (this != &o) {
    abandon();
    path_ = std::move(o.path_);
    tmp_ = std::move(o.tmp_);
    fd_ = o.fd_;
    buf_ = std::move(o.buf_);
    o.fd_ = -1;
  }
  return *this;
}

AtomicFileWriter::~AtomicFileWriter() { abandon(); }

void AtomicFileWriter::abandon() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(tmp_.c_str());
  fd_ = -1;
}

Status AtomicFileWriter::flush() {
  Status s = write_all(fd_, buf_.data(), buf_.size(), tmp_);
  buf_.clear();
  return s;
}

Status AtomicFileWriter::append(const void* data, std::size_t size) {
  if (fd_ < 0) return internal_error("append to a closed AtomicFileWriter for '" + path_.string() + "'");
  const char* p = static_cast<const char*>(data);
  if (buf_.size() + size <= kBufferBytes) {
    buf_.append(p, size);
    return Status::ok();
  }
  QB_TRY(flush());
  if (size < kBufferBytes) {
    buf_.append(p, size);
    return Status::ok();
  }
  return write_all(fd_, p, size, tmp_);
}

Status AtomicFileWriter::commit() { return finish(true); }
Status AtomicFileWriter::commit_unsynced() { return finish(false); }

Status AtomicFileWriter::finish(bool durable) {
  if (fd_ < 0) return internal_error("commit of a closed AtomicFileWriter for '" + path_.string() + "'");
  QB_TRY(flush());
  if (durable && ::fsync(fd_) != 0) return errno_error("fsync '" + tmp_.string() + "'");
  if (::close(fd_) != 0) {
    fd_ = -1;
    Status s = errno_error("close '" + tmp_.string() + "'");
    ::unlink(tmp_.c_str());
    return s;
  }
  fd_ = -1;
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    Status s = errno_error("rename '" + tmp_.string() + "' to '" + path_.string() + "'");
    ::unlink(tmp_.c_str());
    return s;
  }
  if (!durable) return Status::ok();
  std::filesystem::path dir = path_.parent_path().empty() ? std::filesystem::path(".") : path_.parent_path();
  return fs::sync_path(dir);
}

}  // namespace qb::fs
