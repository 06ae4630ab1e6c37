// Memo files: caches that spare a no-op qbuild work it can always redo (cache/checked.memo,
// cache/outputs.memo). A memo only ever saves time: a file that is missing, torn, of another
// magic or format, or that fails its checksum reads as empty, and the work is done again.
//
// Format (version given by the caller, stored after the magic):
//   <magic> '\n'  u32 version  u64 payload size  payload  u64 XXH3-64 of everything before it
// The payload is a sequence of u64 and length-prefixed byte strings (MemoWriter / MemoReader),
// little-endian, so any bytes (file names with newlines) round-trip. Written atomically without
// fsync: a crash can lose the file, never leave half of one under its name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "util/fs.h"
#include "util/status.h"

namespace qb::fs {

class MemoWriter {
 public:
  MemoWriter& u64(std::uint64_t v);
  MemoWriter& i64(std::int64_t v) { return u64(static_cast<std::uint64_t>(v)); }
  MemoWriter& str(std::string_view s);
  MemoWriter& stat(const FileStat& f);
  const std::string& payload() const { return out_; }

 private:
  std::string out_;
};

// Reads what MemoWriter wrote, in the same order; every read returns false (and the reader
// stays failed) once the payload does not hold what is asked for.
class MemoReader {
 public:
  explicit MemoReader(std::string payload) : data_(std::move(payload)) {}
  bool u64(std::uint64_t& v);
  bool i64(std::int64_t& v);
  bool str(std::string& s);
  bool stat(FileStat& f);
  bool at_end() const { return ok_ && pos_ == data_.size(); }
  bool ok() const { return ok_; }

 private:
  std::string data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// The payload of the memo file at `path`; nullopt when it is missing or unusable (see above).
std::optional<MemoReader> read_memo(const std::filesystem::path& path, std::string_view magic, std::uint32_t version);
// Replaces the memo file at `path` (atomically, unsynced).
Status write_memo(const std::filesystem::path& path, std::string_view magic, std::uint32_t version,
                  const MemoWriter& payload);

}  // namespace qb::fs
