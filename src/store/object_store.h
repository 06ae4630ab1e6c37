// The content-addressed artifact store under cache/objects/.
//
// An artifact is a directory named by its node key. A step writes into a fresh temporary
// directory (cache/tmp/, flock'ed by the step while it lives), and commit() records a manifest
// there — every file with its size, XXH3-128 and mtime — then renames the whole directory into
// place. Rename is atomic, so an artifact is either absent or complete: a step killed at any
// moment leaves only garbage in cache/tmp/, which the next invocation deletes (clean_tmp: only
// folders whose writer is dead, never one still being written, e.g. by a replayed step).
//
// Damage is found at three depths (verify()): kSize, what is always cheap (a stat per file);
// kChanged, which also hashes a file whose mtime is not the one recorded at publish — a file
// written behind qbuild's back, or a cache copied without preserving times, where the hash
// through the index's memo (keyed by inode, size, mtime, ctime) is then paid once; kChecksum,
// every byte (`qbuild verify`, and a step's inputs before it runs). A damaged artifact is
// quarantined: moved whole to cache/quarantine/<key>.<time>/, so its node reruns and the bytes
// stay for inspection until `qbuild gc`.
//
// Manifest format (qbuild-artifact.json), version 1:
//   {"magic": "qbuild-artifact", "format": 1, "key", "kind", "name", "identity",
//    "created" (ISO UTC), "created_unix", "qbuild_version", "params", "inputs": {role: key},
//    "files": [{"path", "size", "xxh3", "mtime_ns" (optional; absent before it was recorded)}],
//    "meta": {...step-specific...}}
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/layout.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/status.h"

namespace qb::store {

inline constexpr int kManifestFormat = 1;

struct Manifest {
  std::string key, kind, name, identity, created, qbuild_version;
  double created_unix = 0;  // seconds since the epoch, for ordering builds of one identity
  nlohmann::json params = nlohmann::json::object();
  nlohmann::json inputs = nlohmann::json::object();
  nlohmann::json files = nlohmann::json::array();
  nlohmann::json meta = nlohmann::json::object();

  nlohmann::json to_json() const;
  static Result<Manifest> from_json(const nlohmann::json& j, const std::string& where);
};

enum class VerifyLevel {
  kSize,      // every listed file present with its recorded size
  kChanged,   // kSize, and the checksum of each file whose mtime is not the recorded one
  kChecksum,  // kSize, and the checksum of every file
};
// Hashes a file for verify(); the default reads it (hash_file). The planner passes the index's
// memo so that a file whose mtime changed is hashed once, not at every plan.
using FileHasher = std::function<Result<Digest>(const std::filesystem::path&)>;
// A file as verify() found it: its path in the artifact and its stat at the check.
struct SeenFile {
  std::string path;
  fs::FileStat stat;
};

class ObjectStore {
 public:
  explicit ObjectStore(Layout layout) : layout_(std::move(layout)) {}
  const Layout& layout() const { return layout_; }

  // True when the artifact's manifest exists (the cheap check the planner uses).
  bool contains(const std::string& key) const;
  Result<Manifest> read_manifest(const std::string& key) const;
  // Checks the files the manifest lists (see VerifyLevel). Code::kCorrupt names the first bad
  // file; an unreadable manifest is Code::kCorrupt too.
  // `seen`, when given, receives each file checked with its stat (when the check passes: what
  // the check memo records).
  Status verify(const std::string& key, VerifyLevel level, const FileHasher& hasher = {},
                std::vector<SeenFile>* seen = nullptr) const;
  Status verify(const std::string& key, bool checksums) const {
    return verify(key, checksums ? VerifyLevel::kChecksum : VerifyLevel::kSize);
  }
  // Moves a damaged artifact to cache/quarantine/<key>.<time>/ with a note saying why (in
  // quarantine-reason.txt); returns where it went. The caller drops its index row.
  Result<std::filesystem::path> quarantine(const std::string& key, const std::string& why) const;

  // A fresh temporary directory for the artifact `key` (deleted unless committed).
  Result<fs::TempDir> begin(const std::string& key) const;
  // Writes the manifest (files listed and hashed by this call) and publishes the directory,
  // then checks that every listed file arrived. Fails, publishing nothing, when the folder is no
  // longer the one begin() made (removed or replaced under the step). When another process
  // published the same key meanwhile, keeps theirs and returns it.
  Result<Manifest> commit(fs::TempDir&& dir, Manifest manifest) const;

  // Deletes an artifact (moved to cache/tmp/ first, so it vanishes atomically).
  Status remove(const std::string& key) const;
  std::vector<std::string> list_keys() const;
  // Deletes what no live process is writing under cache/tmp/ (folders whose owner's flock is
  // free). Safe beside running steps. Returns how many entries it removed.
  int clean_tmp() const;

 private:
  Layout layout_;
};

}  // namespace qb::store
