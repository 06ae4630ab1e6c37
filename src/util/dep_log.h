// The inputs a build read outside the store (runner/noop_memo.h): while a log is open, the code
// that lists a config folder, reads a config, checks a source, calibration or dataset file, or
// hashes a source model notes the path, and the log keeps its stat as it was at that moment (or
// that it was absent). The first note of a path wins, so a file changed after it was read still
// shows up as changed. Notes cost nothing while no log is open (every command but a build).
//
// A folder's stat moves when an entry is added to, removed from or renamed in it, so noting a
// folder that was listed covers the listing; a file's stat (device, inode, size, mtime, ctime)
// covers its content.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/fs.h"

namespace qb::fs {

class DependencyLog {
 public:
  struct Entry {
    std::string path;  // absolute
    std::optional<FileStat> stat;
  };
  // Opens the log of this process (emptying it).
  static void start();
  // Notes `path` (relative paths are taken from the working directory) if a log is open.
  static void note(const stdfs::path& path);
  // What was noted, in order; closes the log.
  static std::vector<Entry> take();
};

}  // namespace qb::fs
