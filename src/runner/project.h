// An open project for one qbuild invocation: the whole-invocation lock, the store and the
// index (rebuilt from cache/objects/ with a warning when missing or corrupt).
#pragma once

#include <memory>
#include <string>

#include "store/index.h"
#include "store/layout.h"
#include "store/object_store.h"
#include "util/file_lock.h"

namespace qb::runner {

struct OpenOptions {
  bool no_wait = false;     // fail with Code::kBusy instead of waiting for another qbuild
  std::string note;         // recorded in the lock file ("qbuild results/x.csv")
  bool read_only = false;   // status/graph/explain: no lock, no cleanup
};

class Project {
 public:
  static Result<std::unique_ptr<Project>> open(const std::filesystem::path& root, const OpenOptions& opts);

  const store::Layout& layout() const { return layout_; }
  store::ObjectStore& store() { return store_; }
  store::Index& index() { return index_; }
  // Warnings to show the user (index rebuilt, damaged artifacts removed…).
  const std::vector<std::string>& warnings() const { return warnings_; }
  void warn(std::string w) { warnings_.push_back(std::move(w)); }

 private:
  explicit Project(const std::filesystem::path& root) : layout_(root), store_(layout_) {}
  store::Layout layout_;
  store::ObjectStore store_;
  store::Index index_;
  FileLock lock_;
  std::vector<std::string> warnings_;
};

}  // namespace qb::runner
