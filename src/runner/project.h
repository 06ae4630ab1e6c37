// An open project for one qbuild invocation: the project locks, the store and the index
// (repaired or rebuilt from cache/objects/ with a warning when it is missing, corrupt or behind).
//
// The locks (cache/locks/), always taken in this order:
//   qbuild.lock   the invocation lock, exclusive: one build, gc or verify at a time in a project
//                 (a second one waits, or exits 4 with --no-wait).
//   store.lock    the store lock. Shared by every writer of objects and index rows: a build for
//                 its whole run, and every step (`qbuild step`, run by Ninja or replayed by hand
//                 from logs/). Exclusive for what deletes or replaces shared state: gc, an index
//                 rebuild (upgraded to for the rebuild only), a forced step (`--force` replaces a
//                 published artifact). So a replayed step runs beside a build, and gc waits for it.
//   node-<key>.lock   one per node being run: two runs of one node never overlap.
//   gpu<N>.lock   one per device.
// With `cache:` (a store shared by several checkouts, maybe on a network file system) the store
// lock and the node locks live in the store — flock works across checkouts, and across machines
// on NFS (emulated with fcntl locks) — so gc in one checkout waits for the steps of every
// checkout, and two checkouts building one key publish it once (the second finds it cached).
// The index stays in each checkout's cache/: its rebuild then takes cache/locks/index.lock
// exclusively, which this checkout's steps that write the index hold shared, rather than the
// store lock, which would wait for every other checkout's build. Steps in Slurm jobs write no
// index at all (runner/run_record.h).
// Read-only commands (status, explain, graph, runs, --dry-run, gc --dry-run) take no lock and
// never move, rebuild, repair or delete anything: when the index is unusable or behind they read
// a copy in memory completed from the manifests, and a damaged artifact is only reported.
//
// A build hands both project locks to Ninja as inherited descriptors, and Ninja to the steps,
// which adopt the store lock (QBUILD_STORE_LOCK_FD) instead of taking it again. A flock lives as
// long as any descriptor of it (util/file_lock.h), so killing only the qbuild process does not
// release the project while its steps run on; and Ninja gets SIGTERM when qbuild dies
// (PR_SET_PDEATHSIG), which it passes on to the steps, which record "interrupted" and exit.
//
// The index is an accelerator. Only Code::kCorrupt (garbage, torn, 0 bytes, no schema) makes a
// writing command move it aside (cache/index.sqlite.corrupt-<time>) and rebuild it atomically
// (store::Index::rebuild); a full disk, a read-only file system or missing permissions are
// reported and change nothing. Objects without an index row are added from their manifests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/index.h"
#include "store/layout.h"
#include "store/object_store.h"
#include "util/file_lock.h"

namespace qb::runner {

struct OpenOptions {
  bool no_wait = false;          // fail with Code::kBusy instead of waiting for a lock
  std::string note;              // recorded in the lock files ("qbuild results/x.csv")
  bool read_only = false;        // status/graph/explain/runs/dry runs: no lock, no change on disk
  bool exclusive_store = false;  // gc: hold the store lock exclusively (waits for running steps)
};

class Project {
 public:
  // `layout` names the project root and the store (project.yaml's `cache:`).
  static Result<std::unique_ptr<Project>> open(const store::Layout& layout, const OpenOptions& opts);

  const store::Layout& layout() const { return layout_; }
  store::ObjectStore& store() { return store_; }
  store::Index& index() { return index_; }
  bool read_only() const { return read_only_; }
  // The descriptors Ninja inherits (the invocation lock and the store lock), and the store
  // lock's, which the steps adopt (QBUILD_STORE_LOCK_FD).
  std::vector<int> lock_fds() const;
  int store_lock_fd() const { return store_lock_.fd(); }

  // Moves a damaged artifact to cache/quarantine/ and drops its index row, with a warning; its
  // node then reruns. Not in read-only projects.
  Status quarantine(const std::string& key, const std::string& why);

  // Warnings to show the user (index rebuilt, damaged artifacts quarantined…).
  const std::vector<std::string>& warnings() const { return warnings_; }
  void warn(std::string w) { warnings_.push_back(std::move(w)); }

  // Closes the index (SQLite checkpoints and removes its -wal and -shm), keeping the locks: what
  // a no-op records (runner/noop_memo.h) is the index file as the next invocation finds it.
  void close_index() { index_ = store::Index(); }

 private:
  explicit Project(const store::Layout& layout) : layout_(layout), store_(layout_) {}
  Status lock(const OpenOptions& opts);
  Status open_index_for_writing(const OpenOptions& opts);
  Status open_index_for_reading();
  std::string rel(const std::filesystem::path& p) const;

  store::Layout layout_;
  store::ObjectStore store_;
  store::Index index_;
  FileLock invocation_lock_, store_lock_;
  bool read_only_ = false;
  std::vector<std::string> warnings_;
};

// The store lock for `qbuild step`: adopted from the build that runs it (QBUILD_STORE_LOCK_FD,
// inherited through Ninja), else taken here — shared, or exclusive for a forced step — saying on
// stderr when it has to wait.
Result<FileLock> lock_store_for_step(const store::Layout& layout, bool exclusive, const std::string& note);

// The environment variable naming the inherited store lock descriptor.
inline constexpr const char* kStoreLockFdEnv = "QBUILD_STORE_LOCK_FD";

}  // namespace qb::runner
