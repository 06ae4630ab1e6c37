// Reading a spec back from its canonical JSON (what to_json() wrote and the graph hashed): the
// canonical form spells out every field, so a reader here never defaults anything — a missing
// key, an unknown key or a value of the wrong type is an error naming the field. These readers
// serve the steps (which receive node files written by qbuild), not user input: user configs
// are read by src/config with file:line diagnostics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/issues.h"

namespace qb::spec {

class CanonicalReader {
 public:
  // `keys`: exactly the fields the object must have; `optional_keys`: fields it may have (the
  // GPTQ-only ones, e.g.). Reports a non-object, missing and unknown keys to `issues`.
  CanonicalReader(const nlohmann::json& j, std::string path, Issues& issues,
                  std::vector<std::string_view> keys,
                  std::vector<std::string_view> optional_keys = {});

  bool has(std::string_view key) const;
  const nlohmann::json& raw(std::string_view key) const;  // null json when absent
  const std::string& path() const { return path_; }
  std::string at(std::string_view key) const { return field(path_, key); }

  std::int64_t i64(std::string_view key);
  std::uint64_t u64(std::string_view key);
  double f64(std::string_view key);  // an integer is accepted (1 == 1.0)
  bool boolean(std::string_view key);
  std::string str(std::string_view key);
  std::optional<std::int64_t> opt_i64(std::string_view key);  // null → nullopt
  std::optional<std::string> opt_str(std::string_view key);
  std::vector<std::string> strings(std::string_view key);

 private:
  const nlohmann::json* value(std::string_view key);
  void wrong(std::string_view key, std::string_view expected);

  const nlohmann::json& j_;
  std::string path_;
  Issues& issues_;
};

}  // namespace qb::spec
