// The content-addressed artifact store under cache/objects/.
//
// An artifact is a directory named by its node key. A step writes into a fresh temporary
// directory (cache/tmp/), and commit() records a manifest there — every file with its size and
// XXH3-128 — then renames the whole directory into place. Rename is atomic, so an artifact is
// either absent or complete: a step killed at any moment leaves only garbage in cache/tmp/,
// which the next invocation deletes.
//
// Manifest format (qbuild-artifact.json), version 1:
//   {"magic": "qbuild-artifact", "format": 1, "key", "kind", "name", "identity",
//    "created" (ISO UTC), "created_unix", "qbuild_version", "params", "inputs": {role: key},
//    "files": [{"path", "size", "xxh3"}], "meta": {...step-specific...}}
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/layout.h"
#include "util/fs.h"
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

class ObjectStore {
 public:
  explicit ObjectStore(Layout layout) : layout_(std::move(layout)) {}
  const Layout& layout() const { return layout_; }

  // True when the artifact's manifest exists (the cheap check the planner uses).
  bool contains(const std::string& key) const;
  Result<Manifest> read_manifest(const std::string& key) const;
  // Checks the files the manifest lists: present with the recorded size; with `checksums`,
  // also their XXH3-128. Code::kCorrupt names the first bad file.
  Status verify(const std::string& key, bool checksums) const;

  // A fresh temporary directory for the artifact `key` (deleted unless committed).
  Result<fs::TempDir> begin(const std::string& key) const;
  // Writes the manifest (files listed and hashed by this call) and publishes the directory.
  // When another process published the same key meanwhile, keeps theirs and returns it.
  Result<Manifest> commit(fs::TempDir&& dir, Manifest manifest) const;

  // Deletes an artifact (moved to cache/tmp/ first, so it vanishes atomically).
  Status remove(const std::string& key) const;
  std::vector<std::string> list_keys() const;
  // Deletes everything under cache/tmp/ (call only under the project lock).
  void clean_tmp() const;

 private:
  Layout layout_;
};

}  // namespace qb::store
