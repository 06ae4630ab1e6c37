// qbuild's one atomic file writer (write_file_atomic in fs.h is this for a string in memory; 5 GB
// checkpoint shards stream through it): bytes go to a sibling temp file through a buffer; commit()
// fsyncs, renames over the target and fsyncs the folder. Destroyed without commit(), it removes the temp file, so
// a failed or interrupted write leaves the old target (or nothing), never half a file.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "util/status.h"

namespace qb::fs {

class AtomicFileWriter {
 public:
  static Result<AtomicFileWriter> create(const std::filesystem::path& path);
  AtomicFileWriter() = default;
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  Status append(const void* data, std::size_t size);
  Status commit();  // flush, fsync, rename to the target, fsync the folder
  // Flush and rename, without fsync: for caches that are checked when read (memo files), which a
  // crash may lose or leave empty but never half-written under the target's name.
  Status commit_unsynced();
  const std::filesystem::path& path() const { return path_; }

 private:
  Status flush();
  Status finish(bool durable);
  void abandon();  // close and unlink the temp file

  std::filesystem::path path_, tmp_;
  int fd_ = -1;
  std::string buf_;
};

}  // namespace qb::fs
