// Advisory whole-file locks (flock). The kernel drops a lock when its holder dies, however it
// dies (SIGKILL included), so a crashed qbuild or step never leaves a stale lock behind.
// The lock file records the holder's pid and a note, for "waiting for …" messages.
//
// A flock belongs to an open file description, not to a process: a child that inherits the
// descriptor (fork/exec without O_CLOEXEC) holds the same lock, and the lock is released only
// when the last descriptor referring to it is closed. qbuild relies on this: the build hands its
// project locks to Ninja and the steps, so killing only the qbuild process does not release
// them while the steps run on (runner/project.h). For the same reason release() only closes the
// descriptor and never calls LOCK_UN: unlocking would release the lock for the children too.
#pragma once

#include <filesystem>
#include <string>

#include "util/status.h"

namespace qb {

enum class LockMode { kShared, kExclusive };

class FileLock {
 public:
  // Takes the lock without waiting; Code::kBusy when someone else holds it (in a conflicting
  // mode).
  static Result<FileLock> try_acquire(const std::filesystem::path& path, const std::string& note,
                                      LockMode mode = LockMode::kExclusive);
  // Waits until the lock is free.
  static Result<FileLock> acquire(const std::filesystem::path& path, const std::string& note,
                                  LockMode mode = LockMode::kExclusive);
  // Adopts descriptor `fd`, inherited from a parent, when it is open on `path` (same device and
  // inode) and holds (or can take at once) the lock in `mode` — what a step run by Ninja under a
  // build does. Code::kNotFound when `fd` is not such a descriptor; the caller then locks anew.
  static Result<FileLock> adopt(const std::filesystem::path& path, int fd, LockMode mode);
  // The note of the current holder ("pid 123: qbuild results/x.csv"), or "" if unreadable.
  static std::string holder(const std::filesystem::path& path);

  FileLock() = default;
  FileLock(FileLock&& o) noexcept;
  FileLock& operator=(FileLock&& o) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  bool held() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  LockMode mode() const { return mode_; }
  // Changes the mode of a held lock, waiting for a conflicting holder unless `wait` is false
  // (then Code::kBusy, holding the old mode again). flock's conversion is not atomic: the kernel
  // drops the old lock first, so another process may take the lock in between.
  Status convert(LockMode mode, bool wait = true);
  // Closes the descriptor: the lock is released once no inherited copy of it remains open.
  void release();

 private:
  static Result<FileLock> lock(const std::filesystem::path& path, const std::string& note, LockMode mode,
                               bool wait);
  int fd_ = -1;
  LockMode mode_ = LockMode::kExclusive;
  std::filesystem::path path_;
};

}  // namespace qb
