// `qbuild gc`: deletes cache objects that the configured pipeline no longer needs.
//
// gc deletes what cannot be rebuilt cheaply, so it errs on the side of keeping:
//  - the caller refuses a selection (--trans-config/--quant-config/--eval-config, targets), an
//    empty pipeline and unreadable configs (cli/commands.cc): "what the configs need" must mean
//    every config, or gc would delete the rest;
//  - objects built in the last `keep_days` days are kept unless `all` (a config removed by
//    mistake, or an experiment in another pipeline folder sharing this cache, loses nothing
//    recent);
//  - the plan (count, bytes, what is kept and why) is printed before anything is deleted.
// Quarantined objects (cache/quarantine/) age out the same way. The caller holds the store lock
// exclusively (no step runs meanwhile).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "runner/project.h"

namespace qb::runner {

struct GcOptions {
  int keep_days = 7;  // objects younger than this are kept…
  bool all = false;   // …unless all
};

struct GcItem {
  std::string key, kind, name;  // kind "?" and name "(no manifest)" for an unreadable object
  std::uint64_t bytes = 0;
  double created_unix = 0;
  std::filesystem::path dir;  // the object's folder (or the quarantined one)
  bool quarantined = false;
};

struct GcPlan {
  std::vector<GcItem> remove;
  std::vector<GcItem> kept_recent;  // not needed, but built within keep_days
  std::uint64_t remove_bytes = 0, kept_recent_bytes = 0;
};

// What gc would delete: the objects whose key is not in `live` and quarantined folders, less
// what is recent (by the manifest's creation time; the folder's mtime when it has none).
GcPlan plan_gc(Project& project, const std::set<std::string>& live, const GcOptions& opts, double now_unix);

// Deletes the plan's objects and their index rows. Returns how many were deleted.
Result<int> apply_gc(Project& project, const GcPlan& plan);

}  // namespace qb::runner
