// The cheap check's memo (cache/checked.memo): for each artifact that passed the cheap check
// (ObjectStore::verify at VerifyLevel::kChanged), the stat of its manifest and of every file the
// manifest lists, as they were at that check.
//
// Every plan checks every artifact it needs; without the memo that is a manifest read and
// parsed per node, which made a no-op qbuild linear in the number of edges with a large
// constant. With it, an artifact whose manifest and files all still have the recorded stats
// (device, inode, size, mtime, ctime: no write, rename, truncation or copy keeps all five) is
// as intact as the cheap check would find it, for a stat per file. Any difference, a missing
// file or no record runs the real check, and its verdict replaces the record: the memo can
// make a plan cheaper, never skip a rebuild the check would have asked for.
//
// Format (fs::MemoReader/MemoWriter, "qbuild-checked-memo" version 1): a count, then per
// artifact its key, a count and per file its path relative to the artifact folder (the
// manifest first) and its stat.
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/layout.h"
#include "store/object_store.h"

namespace qb::store {

class CheckMemo {
 public:
  // Reads the memo; empty when it is missing or unusable.
  static CheckMemo load(const Layout& layout);

  // Whether artifact `key` is in the store and passes the cheap check (`hasher` as for
  // ObjectStore::verify): false when it has no manifest; Code::kCorrupt (naming the file) when
  // it is damaged.
  Result<bool> check(const ObjectStore& store, const std::string& key, const FileHasher& hasher);

  // Writes the memo back when check() learned something. Records of artifacts not checked
  // since load() are kept while their manifest is unchanged (a plan of one target keeps the
  // others'), dropped otherwise (gc'd, quarantined).
  Status save(const Layout& layout);

  // The files of `key`'s record (paths relative to its folder, the manifest first) with their
  // stats at its check; nullptr when there is none.
  const std::vector<SeenFile>* record(const std::string& key) const {
    auto it = records_.find(key);
    return it == records_.end() ? nullptr : &it->second;
  }

  std::size_t size() const { return records_.size(); }
  int hits() const { return hits_; }  // checks answered by the memo, for tests

 private:
  std::unordered_map<std::string, std::vector<SeenFile>> records_;
  std::unordered_set<std::string> checked_;
  bool changed_ = false;
  int hits_ = 0;
};

}  // namespace qb::store
