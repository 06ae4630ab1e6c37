// The SQLite index (cache/index.sqlite, WAL mode): an accelerator over cache/objects/.
//
// Tables (schema version kSchemaVersion, in PRAGMA user_version):
//   file_hashes(path, dev, ino, size, mtime_ns, ctime_ns, hash)   content-hash memo for sources
//   artifacts(key, kind, name, identity, created_unix, params, inputs, meta)   one per object
//   runs(id, invocation, key, kind, name, status, started, ended, duration_s, host, gpu, pid,
//        log, message)                                            every step execution
// Scores live in the eval artifacts' meta and are read through artifacts.
// Everything but `runs` and the memo can be rebuilt from the manifests (rebuild_from()).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/object_store.h"
#include "store/sqlite_db.h"
#include "util/hash.h"

namespace qb::store {

inline constexpr int kSchemaVersion = 1;

struct FileStat {
  std::uint64_t dev = 0, ino = 0, size = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0;
  bool operator==(const FileStat&) const = default;
};
Result<FileStat> stat_file(const std::filesystem::path& path);

struct ArtifactRow {
  std::string key, kind, name, identity;
  double created_unix = 0;
  nlohmann::json params, inputs, meta;
};

struct RunRow {
  std::int64_t id = 0;
  std::string invocation, key, kind, name, status;  // status: running|ok|failed|hit|interrupted
  double started = 0, ended = 0, duration_s = 0;
  std::string host, gpu, log, message;
  std::int64_t pid = 0;
};

class Index {
 public:
  // Opens (creating if absent) and checks the schema and integrity. Code::kCorrupt when the
  // file is not a usable index; the caller then moves it aside and calls rebuild_from().
  static Result<Index> open(const std::filesystem::path& path);

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
  Result<std::vector<std::string>> artifact_keys();

  Result<std::int64_t> begin_run(const RunRow& r);
  Status end_run(std::int64_t id, const std::string& status, double duration_s, const std::string& message);
  Result<std::vector<RunRow>> runs(const std::string& invocation);  // "" = all
  Result<std::string> last_invocation();

  // Re-creates the artifacts table from the store's manifests.
  Status rebuild_from(const ObjectStore& store);

 private:
  Status migrate();
  Db db_;
  int memo_hits_ = 0, memo_misses_ = 0;
};

}  // namespace qb::store
