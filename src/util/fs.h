// File-system helpers used everywhere: whole-file reads, atomic writes (temp file + fsync +
// rename, so a crash leaves the old file or the new one, never half of one), read-only memory
// maps, directory creation and temporary directories.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

struct stat;

namespace qb::fs {

namespace stdfs = std::filesystem;

Result<std::string> read_file(const stdfs::path& path);

// What stat(2) says of a file that identifies its content without reading it: no write, rename
// or copy leaves all five unchanged (the key of every memo: file hashes, checked artifacts,
// generated outputs).
struct FileStat {
  std::uint64_t dev = 0, ino = 0, size = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0;
  bool operator==(const FileStat&) const = default;
};
// stat(2) of `path` (following links); nullopt when it cannot be stat'ed (absent, no permission).
std::optional<FileStat> stat_of(const stdfs::path& path);
FileStat file_stat(const struct ::stat& st);

// Writes `data` to `path` atomically: a sibling temp file, fsync, rename, fsync of the folder.
Status write_file_atomic(const stdfs::path& path, std::string_view data);

// Creates `dir` and its parents; ok when it exists already.
Status make_dirs(const stdfs::path& dir);

// fsync() a file or a directory by path.
Status sync_path(const stdfs::path& path);

// A read-only memory map of a whole file. Movable, not copyable; unmaps on destruction.
// An empty file maps to data() == nullptr, size() == 0.
class MappedFile {
 public:
  static Result<MappedFile> open(const stdfs::path& path);
  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  const stdfs::path& path() const { return path_; }

 private:
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  stdfs::path path_;
};

// A directory removed (recursively) on destruction unless release()d. Its creator holds an
// exclusive flock on the directory itself for as long as the TempDir lives, so that a cleaner
// (remove_unowned_dirs) can tell a folder whose owner died from one still being written.
class TempDir {
 public:
  // Creates a fresh directory "<parent>/<prefix>XXXXXX" and locks it.
  static Result<TempDir> create(const stdfs::path& parent, const std::string& prefix);
  TempDir() = default;
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const stdfs::path& path() const { return path_; }
  // Ok when path() is still the directory this TempDir created (not removed or replaced by
  // someone else); Code::kNotFound naming the folder otherwise.
  Status check_intact() const;
  stdfs::path release();  // keep the directory (and drop the lock); returns its path

 private:
  void reset();
  stdfs::path path_;
  int lock_fd_ = -1;
};

// Removes each entry directly under `dir` that no live process owns: a folder whose flock
// (TempDir's) is free, or a plain file. Folders still locked by their owner are kept. Returns
// how many entries were removed.
int remove_unowned_entries(const stdfs::path& dir);

}  // namespace qb::fs
