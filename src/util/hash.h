// Content hashing: XXH3-128 with a typed, versioned serialization ("hash with a schema").
//
// Every field fed to a Hasher is framed as <tag byte><length u64 LE><bytes>, so ("ab","c") and
// ("a","bc") differ and a string never collides with an integer of the same bytes. A node key is
// Hasher().salt("qbuild-node-v1").str(kind).i64(code_version).json(params)... .digest().
// `explain()` records a human-readable line per field, which `qbuild explain` prints.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace qb {

// A 128-bit digest, printed as 32 lowercase hex characters.
struct Digest {
  std::uint64_t hi = 0, lo = 0;
  std::string hex() const;
  static Result<Digest> from_hex(std::string_view hex);
  bool operator==(const Digest&) const = default;
};

class Hasher {
 public:
  // kSkip: no explain() lines (a fingerprint nobody prints: the lines cost more than the hash).
  enum class Explain { kRecord, kSkip };
  explicit Hasher(Explain explain = Explain::kRecord);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  Hasher& salt(std::string_view version_salt);          // first field: the schema version
  Hasher& str(std::string_view field, std::string_view value);
  Hasher& i64(std::string_view field, std::int64_t value);
  Hasher& boolean(std::string_view field, bool value);
  // Canonical JSON: objects by sorted key, numbers typed (integers vs floats; floats by their
  // exact bits, with -0.0 folded into 0.0), strings by bytes.
  Hasher& json(std::string_view field, const nlohmann::json& value);
  Hasher& digest_field(std::string_view field, const Digest& d);
  Hasher& bytes(std::string_view field, const void* data, std::size_t size);
  // The stat of the file at `path` as it is now (exists, then device, inode, size, mtime,
  // ctime): what identifies its content without reading it, for the memos' fingerprints.
  Hasher& path_stat(const std::filesystem::path& path);

  Digest digest() const;
  // One line per field fed so far ("kind = quant", "params = {...}").
  const std::vector<std::string>& explain() const { return explain_; }

 private:
  void frame(char tag, const void* data, std::size_t size);
  void feed_json(const nlohmann::json& v);
  void* state_;
  bool record_;
  std::vector<std::string> explain_;
};

// XXH3-128 of a byte range / of a file's contents (streamed, 1 MiB chunks).
Digest hash_bytes(const void* data, std::size_t size);
Result<Digest> hash_file(const std::filesystem::path& path);

}  // namespace qb
