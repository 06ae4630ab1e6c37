#include "store/object_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <system_error>

#include "util/hash.h"
#include "util/strings.h"

namespace qb::store {

nlohmann::json Manifest::to_json() const {
  return nlohmann::json{{"magic", "qbuild-artifact"}, {"format", kManifestFormat},
                        {"key", key}, {"kind", kind}, {"name", name}, {"identity", identity},
                        {"created", created}, {"created_unix", created_unix}, {"qbuild_version", qbuild_version},
                        {"params", params}, {"inputs", inputs}, {"files", files}, {"meta", meta}};
}

Result<Manifest> Manifest::from_json(const nlohmann::json& j, const std::string& where) {
  // Type-check before reading: nlohmann's value() throws on a present key of another type.
  if (!j.is_object() || !j.contains("magic") || j["magic"] != "qbuild-artifact")
    return corrupt(where + ": not a qbuild artifact manifest (bad magic)");
  if (!j.contains("format") || !j["format"].is_number_integer() || j["format"].get<int>() != kManifestFormat)
    return corrupt(where + ": manifest format " + (j.contains("format") ? j["format"].dump() : std::string("null")) +
                   " is not the supported " + std::to_string(kManifestFormat));
  Manifest m;
  try {
    m.key = j.at("key").get<std::string>();
    m.kind = j.at("kind").get<std::string>();
    m.name = j.value("name", "");
    m.identity = j.value("identity", "");
    m.created = j.value("created", "");
    m.created_unix = j.value("created_unix", 0.0);
    m.qbuild_version = j.value("qbuild_version", "");
    m.params = j.value("params", nlohmann::json::object());
    m.inputs = j.value("inputs", nlohmann::json::object());
    m.files = j.at("files");
    m.meta = j.value("meta", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    return corrupt(where + ": malformed manifest: " + e.what());
  }
  if (!m.files.is_array()) return corrupt(where + ": manifest 'files' is not a list");
  for (const auto& f : m.files)
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string() || !f.contains("size") ||
        !f["size"].is_number_unsigned() || !f.contains("xxh3") || !f["xxh3"].is_string())
      return corrupt(where + ": malformed manifest: a 'files' entry needs a string path, an unsigned size and a string xxh3");
  return m;
}

bool ObjectStore::contains(const std::string& key) const {
  std::error_code ec;
  return std::filesystem::is_regular_file(layout_.manifest(key), ec);
}

Result<Manifest> ObjectStore::read_manifest(const std::string& key) const {
  auto path = layout_.manifest(key);
  QB_ASSIGN_OR_RETURN(std::string text, fs::read_file(path));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return corrupt("'" + path.string() + "': manifest is not valid JSON");
  QB_ASSIGN_OR_RETURN(Manifest m, Manifest::from_json(j, "'" + path.string() + "'"));
  if (m.key != key) return corrupt("'" + path.string() + "': manifest names key " + m.key);
  return m;
}

namespace {
std::int64_t mtime_ns_of(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}
}  // namespace

Status ObjectStore::verify(const std::string& key, VerifyLevel level, const FileHasher& hasher,
                           std::vector<SeenFile>* seen) const {
  QB_ASSIGN_OR_RETURN(Manifest m, read_manifest(key));
  auto dir = layout_.object_dir(key);
  for (const auto& f : m.files) {
    auto rel = f.value("path", "");
    auto path = dir / rel;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return corrupt("artifact " + key + ": file '" + rel + "' is missing");
      return errno_error("artifact " + key + ": stat '" + path.string() + "'");
    }
    auto size = static_cast<std::uint64_t>(st.st_size);
    if (size != f.value("size", std::uint64_t{0}))
      return corrupt("artifact " + key + ": file '" + rel + "' has " + std::to_string(size) +
                     " bytes, the manifest says " + std::to_string(f.value("size", std::uint64_t{0})));
    bool hash = level == VerifyLevel::kChecksum;
    if (level == VerifyLevel::kChanged && f.contains("mtime_ns") && f["mtime_ns"].is_number_integer())
      hash = f["mtime_ns"].get<std::int64_t>() != mtime_ns_of(st);
    if (hash) {
      QB_ASSIGN_OR_RETURN(Digest d, hasher && level != VerifyLevel::kChecksum ? hasher(path) : hash_file(path));
      if (d.hex() != f.value("xxh3", ""))
        return corrupt("artifact " + key + ": file '" + rel + "' does not match its checksum");
    }
    if (seen) seen->push_back({rel, fs::file_stat(st)});
  }
  return Status::ok();
}

Result<std::filesystem::path> ObjectStore::quarantine(const std::string& key, const std::string& why) const {
  auto dir = layout_.object_dir(key);
  QB_TRY(fs::make_dirs(layout_.quarantine()));
  auto dest = layout_.quarantine() / (key + "." + timestamp_compact() + "." + std::to_string(::getpid()));
  if (::rename(dir.c_str(), dest.c_str()) != 0) return errno_error("quarantine artifact '" + dir.string() + "'");
  (void)fs::write_file_atomic(dest / "quarantine-reason.txt", why + "\n");
  return dest;
}

Result<fs::TempDir> ObjectStore::begin(const std::string& key) const {
  return fs::TempDir::create(layout_.tmp(), key + ".");
}

Result<Manifest> ObjectStore::commit(fs::TempDir&& dir, Manifest manifest) const {
  namespace sfs = std::filesystem;
  QB_TRY_CTX(dir.check_intact(), "publishing " + manifest.key);
  // List and hash every file (sorted, relative paths), fsync them.
  std::vector<std::string> rels;
  std::error_code ec;
  for (auto it = sfs::recursive_directory_iterator(dir.path(), ec); !ec && it != sfs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file()) rels.push_back(sfs::relative(it->path(), dir.path()).string());
  }
  if (ec) return io_error("listing '" + dir.path().string() + "': " + ec.message());
  std::sort(rels.begin(), rels.end());
  manifest.files = nlohmann::json::array();
  for (const auto& rel : rels) {
    if (rel == Layout::kManifestName) continue;
    auto path = dir.path() / rel;
    QB_ASSIGN_OR_RETURN(Digest d, hash_file(path));
    QB_TRY(fs::sync_path(path));
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return errno_error("publishing " + manifest.key + ": stat '" + path.string() + "'");
    manifest.files.push_back({{"path", rel}, {"size", static_cast<std::uint64_t>(st.st_size)}, {"xxh3", d.hex()},
                              {"mtime_ns", mtime_ns_of(st)}});
  }
  if (manifest.created.empty()) manifest.created = timestamp_iso_utc();
  if (manifest.created_unix == 0) manifest.created_unix = unix_time_now();
  QB_TRY(fs::write_file_atomic(dir.path() / Layout::kManifestName, manifest.to_json().dump(2) + "\n"));
  QB_TRY_CTX(dir.check_intact(), "publishing " + manifest.key);

  auto final_dir = layout_.object_dir(manifest.key);
  QB_TRY(fs::make_dirs(final_dir.parent_path()));
  if (::rename(dir.path().c_str(), final_dir.c_str()) != 0) {
    int err = errno;  // contains() below may overwrite errno
    bool occupied = err == ENOTEMPTY || err == EEXIST;
    if (occupied && contains(manifest.key)) {
      return read_manifest(manifest.key);  // someone else published it first; ours is dropped
    }
    // A directory without a manifest (e.g. removed halfway): move it aside and retry once.
    if (occupied) {
      QB_TRY(remove(manifest.key));
      if (::rename(dir.path().c_str(), final_dir.c_str()) != 0)
        return errno_error("publish '" + final_dir.string() + "'");
    } else {
      errno = err;
      return errno_error("publish '" + final_dir.string() + "'");
    }
  }
  dir.release();
  QB_TRY(fs::sync_path(final_dir.parent_path()));
  // Every listed file must have arrived: a manifest naming files that are not there would be
  // "cached" and wrong. Nobody else can publish this key meanwhile (the step holds its node lock).
  if (Status s = verify(manifest.key, VerifyLevel::kSize); !s.is_ok()) {
    (void)remove(manifest.key);
    return s.with_context("publishing " + manifest.key + " (withdrawn)");
  }
  return manifest;
}

Status ObjectStore::remove(const std::string& key) const {
  auto dir = layout_.object_dir(key);
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return Status::ok();
  QB_TRY(fs::make_dirs(layout_.tmp()));
  auto trash = layout_.tmp() / ("trash." + key + "." + std::to_string(::getpid()));
  if (::rename(dir.c_str(), trash.c_str()) != 0) return errno_error("remove artifact '" + dir.string() + "'");
  std::filesystem::remove_all(trash, ec);
  return Status::ok();
}

std::vector<std::string> ObjectStore::list_keys() const {
  std::vector<std::string> keys;
  std::error_code ec;
  for (auto& shard : std::filesystem::directory_iterator(layout_.objects(), ec)) {
    if (!shard.is_directory()) continue;
    std::error_code ec2;
    for (auto& obj : std::filesystem::directory_iterator(shard.path(), ec2)) {
      if (obj.is_directory()) keys.push_back(obj.path().filename().string());
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

int ObjectStore::clean_tmp() const { return fs::remove_unowned_entries(layout_.tmp()); }

}  // namespace qb::store
