// The outputs memo (cache/outputs.memo): what the build last wrote outside the store — node
// files, project.json, build.ninja, results CSVs, eval sets and eval outputs copied out of
// artifacts — each as a unit: a fingerprint of what it was written from and the stat of each of
// its files (or that a file was absent) right after the build wrote or checked it.
//
// A unit whose fingerprint is the same and whose files all still have the recorded stats
// (device, inode, size, mtime, ctime) is up to date: the build skips regenerating, re-reading and
// comparing it, which is what kept a no-op build linear in the number of edges. A file that was
// deleted, edited, replaced or touched has another stat, and a new fingerprint means new
// content, so either way the unit is written again: the memo can save work, never skip any.
// (One limit, shared with every stat-keyed cache: a same-size edit within the file system's
// timestamp granularity of the build's own write is not seen.)
//
// Format (fs::MemoReader/MemoWriter, "qbuild-outputs-memo" version 1): a count, then per unit
// its name, its fingerprint (32 hex), a count and per file its path and whether it exists,
// with its stat.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/layout.h"
#include "util/fs.h"
#include "util/hash.h"

namespace qb::runner {

class OutputMemo {
 public:
  // Reads the memo; empty when it is missing or unusable.
  static OutputMemo load(const store::Layout& layout);

  // True when `unit` was recorded with `fingerprint` and its files still have their stats.
  bool fresh(const std::string& unit, const Digest& fingerprint);
  // Records `unit` as written from `fingerprint`, stat'ing `files` now (absent ones as absent).
  void record(const std::string& unit, const Digest& fingerprint, const std::vector<std::filesystem::path>& files);

  // Writes the memo back when record() changed it. Units neither checked nor recorded since
  // load() are kept while their files are unchanged, dropped otherwise.
  Status save(const store::Layout& layout);

  int hits() const { return hits_; }  // fresh() answers of true, for tests

  // Every file of every unit as recorded: its path, and its stat or nullopt for an absent one.
  template <typename Fn>
  void for_each_file(Fn&& fn) const {
    for (const auto& [name, u] : units_)
      for (const auto& f : u.files) fn(f.path, f.exists ? std::optional<fs::FileStat>(f.stat) : std::nullopt);
  }

 private:
  struct File {
    std::string path;
    bool exists = false;
    fs::FileStat stat;
  };
  struct Unit {
    std::string fingerprint;
    std::vector<File> files;
  };
  static bool unchanged(const Unit& u);
  std::unordered_map<std::string, Unit> units_;
  std::unordered_set<std::string> seen_;
  bool changed_ = false;
  int hits_ = 0;
};

// Writes `text` to `path` (atomically) unless it holds that text already, through `memo` (the
// unit is the path; the fingerprint is the text's hash): a fresh unit costs a stat, a stale
// one a read and a comparison before any write.
Status write_if_changed(OutputMemo& memo, const std::filesystem::path& path, const std::string& text);

}  // namespace qb::runner
