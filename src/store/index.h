// The SQLite index (cache/index.sqlite, WAL mode): an accelerator over cache/objects/.
//
// Tables (schema version kSchemaVersion, in PRAGMA user_version):
//   file_hashes(path, dev, ino, size, mtime_ns, ctime_ns, hash)   content-hash memo for sources
//   artifacts(key, kind, name, identity, created_unix, params, inputs, meta)   one per object
//   runs(id, invocation, key, kind, name, status, started, ended, duration_s, host, gpu, pid,
//        log, message, job_id, job_state)                         every step execution; job_*:
//                                                                 the Slurm job that ran it
// Schema 2 added runs.job_id and runs.job_state; a schema-1 index is upgraded in place when
// opened for writing (read-only opens read it with the two columns empty).
// Scores live in the eval artifacts' meta and are read through artifacts.
// Everything but `runs` and the memo can be rebuilt from the manifests (rebuild()).
//
// The index is trusted only as far as it agrees with cache/objects/: a file without the schema
// (0 bytes, foreign) is Code::kCorrupt, never "an empty index"; missing_artifacts() lists the
// objects it has no row for (a step killed between publishing and recording, an index that lost
// rows), which runner/project.cc adds back from their manifests before anything reads the index.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/object_store.h"
#include "store/sqlite_db.h"
#include "util/hash.h"

namespace qb::store {

inline constexpr int kSchemaVersion = 2;

enum class IndexAccess {
  kCreate,     // read-write; creates the file (and the schema in an empty file)
  kReadWrite,  // read-write; the file must exist and hold the schema
  kReadOnly,   // no writes at all (a cache this user may not write)
  kImmutable,  // read-only without locks or WAL (a cache on a read-only file system)
};

using FileStat = fs::FileStat;
Result<FileStat> stat_file(const std::filesystem::path& path);

struct ArtifactRow {
  std::string key, kind, name, identity;
  double created_unix = 0;
  nlohmann::json params, inputs, meta;
  // The row upsert_artifact() would store for `m` (for readers that fall back to manifests).
  static ArtifactRow from_manifest(const Manifest& m);
};

// What identifies an artifact row's content without its JSON: a row is written once per build
// of its key, from the manifest, so (key, created_unix) changes whenever the row does.
struct ArtifactStamp {
  std::string key, name, identity;
  double created_unix = 0;
};

struct RunRow {
  std::int64_t id = 0;
  std::string invocation, key, kind, name, status;  // status: running|ok|failed|hit|interrupted
  double started = 0, ended = 0, duration_s = 0;
  std::string host, gpu, log, message;
  std::int64_t pid = 0;
  std::string job_id, job_state;  // the Slurm job ("" for a local step) and its state at the end
};

class Index {
 public:
  // Opens and checks the schema and integrity. Code::kCorrupt when the file is not a usable
  // index (garbage, torn, 0 bytes, no schema, a newer schema); Code::kNotFound when it does not
  // exist (except with kCreate); Code::kIo when the machine refuses (disk full, read-only,
  // permissions): the file itself is then fine and must be left alone.
  static Result<Index> open(const std::filesystem::path& path, IndexAccess access = IndexAccess::kCreate);
  // A fresh, empty index in memory (what read-only commands use when the file is unusable).
  static Result<Index> in_memory();
  // A copy of this index in memory, to be completed without writing the file.
  Result<Index> snapshot_in_memory() const;
  // Builds a complete index from the manifests in '<path>.new-<pid>' and renames it over `path`,
  // so a kill at any moment leaves what was there before (or nothing) or the complete new file,
  // never a half-filled one. Removes a stale -wal/-shm of `path` first (they would be replayed
  // into the new file). The caller holds the store lock exclusively.
  static Status rebuild(const std::filesystem::path& path, const ObjectStore& store);
  bool writable() const { return writable_; }

  // Content hash of a source file, memoized by (dev, inode, size, mtime_ns, ctime_ns).
  Result<Digest> file_hash(const std::filesystem::path& path);
  // Counters since open(), for tests and benchmarks.
  int memo_hits() const { return memo_hits_; }
  int memo_misses() const { return memo_misses_; }

  Status upsert_artifact(const Manifest& m);
  Status remove_artifact(const std::string& key);
  Result<std::optional<ArtifactRow>> artifact(const std::string& key);
  // The most recently built artifact of a node identity (e.g. "quant:original/rtn").
  Result<std::optional<ArtifactRow>> last_built(const std::string& identity);
  Result<std::vector<ArtifactRow>> artifacts_of_kind(const std::string& kind);
  // The stamps of every artifact of `kind`, ordered by created_unix (no JSON is parsed).
  Result<std::vector<ArtifactStamp>> artifact_stamps(const std::string& kind);
  // The rows of those of `keys` the index has (one prepared statement for all).
  Result<std::map<std::string, ArtifactRow>> artifacts(const std::vector<std::string>& keys);
  Result<std::vector<std::string>> artifact_keys();
  // Keys of the store's artifacts (with a manifest) that have no row here, sorted. Costs one
  // readdir per shard, a stat per object and one query.
  Result<std::vector<std::string>> missing_artifacts(const ObjectStore& store);
  // Adds rows for `keys` from their manifests (unreadable manifests are skipped: not artifacts).
  // Returns how many were added.
  Result<int> add_from_manifests(const ObjectStore& store, const std::vector<std::string>& keys);

  Result<std::int64_t> begin_run(const RunRow& r);
  // A finished run recorded elsewhere (a Slurm job's run record), with every field as given.
  Result<std::int64_t> add_run(const RunRow& r);
  Status end_run(std::int64_t id, const std::string& status, double duration_s, const std::string& message);
  Result<std::vector<RunRow>> runs(const std::string& invocation);  // "" = all
  Result<std::string> last_invocation();
  // The latest run of each key (by id), for `qbuild status`.
  Result<std::map<std::string, RunRow>> last_runs();

  // Re-creates the artifacts table from the store's manifests, in one transaction.
  Status rebuild_from(const ObjectStore& store);

 private:
  Status check_schema(bool create);
  std::string run_columns() const;
  bool has_job_columns_ = true;  // false: a schema-1 file read without upgrading it
  Db db_;
  bool writable_ = true;
  int memo_hits_ = 0, memo_misses_ = 0;
};

}  // namespace qb::store
