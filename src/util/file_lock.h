// Advisory whole-file locks (flock). The kernel drops a lock when its holder dies, however it
// dies (SIGKILL included), so a crashed qbuild or step never leaves a stale lock behind.
// The lock file records the holder's pid and a note, for "waiting for …" messages.
#pragma once

#include <filesystem>
#include <string>

#include "util/status.h"

namespace qb {

class FileLock {
 public:
  // Takes the lock without waiting; Code::kBusy when someone else holds it.
  static Result<FileLock> try_acquire(const std::filesystem::path& path, const std::string& note);
  // Waits until the lock is free.
  static Result<FileLock> acquire(const std::filesystem::path& path, const std::string& note);
  // The note of the current holder ("pid 123: qbuild results/x.csv"), or "" if unreadable.
  static std::string holder(const std::filesystem::path& path);

  FileLock() = default;
  FileLock(FileLock&& o) noexcept;
  FileLock& operator=(FileLock&& o) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  bool held() const { return fd_ >= 0; }
  void release();

 private:
  static Result<FileLock> lock(const std::filesystem::path& path, const std::string& note, bool wait);
  int fd_ = -1;
};

}  // namespace qb
