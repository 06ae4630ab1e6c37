// Typed, strict reading of config values with diagnostics. Scalars follow the YAML 1.2 core
// schema: integers are decimal digits, floats may be written as integers (`1` reads as 1.0),
// booleans are true/false, and a quoted scalar is always a string (`"8"` is not an integer).
// Every reader reports its own error and returns nullopt, so callers just skip the value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostics.h"
#include "config/yaml_tree.h"

namespace qb::config {

// How a value reads in "got ..." messages: 'eight', the string "8", null, a list, a mapping.
std::string describe(const Node& n);

std::optional<std::int64_t> read_int(Diagnostics& d, const Node& n, std::string_view field);
std::optional<double> read_float(Diagnostics& d, const Node& n, std::string_view field);
std::optional<bool> read_bool(Diagnostics& d, const Node& n, std::string_view field);
std::optional<std::string> read_string(Diagnostics& d, const Node& n, std::string_view field);
// One of `allowed` (compared ASCII case-insensitively when `ignore_case`); returns the allowed
// spelling, so the result is normalized.
std::optional<std::string> read_enum(Diagnostics& d, const Node& n, std::string_view field,
                                     const std::vector<std::string_view>& allowed,
                                     bool ignore_case = false);
std::optional<std::vector<std::string>> read_string_list(Diagnostics& d, const Node& n,
                                                         std::string_view field);
std::optional<std::vector<std::int64_t>> read_int_list(Diagnostics& d, const Node& n,
                                                       std::string_view field);

// A mapping being read: unknown keys (with did-you-mean) and duplicate keys are reported when
// it is constructed; getters then read single fields.
class MapReader {
 public:
  // `name` names the mapping in messages ("weights"); "" is the top level of a file. `anchor` is
  // where "missing required field" errors point (the mapping's key, or the file). A null node
  // reads as an empty mapping; any other non-mapping is reported and reads as empty.
  MapReader(Diagnostics& diags, const Node& node, std::string name, SourceLoc anchor,
            std::vector<std::string_view> allowed);

  bool is_mapping() const { return valid_; }
  const std::string& name() const { return name_; }
  const SourceLoc& anchor() const { return anchor_; }

  // The value of `key`, or nullptr when absent (the first one when the key is duplicated).
  const Node* find(std::string_view key) const;
  // The key node itself (for pointing at "weights:" rather than its value).
  const Node* find_key(std::string_view key) const;
  // Like find(), but reports "missing required field 'key'" when absent.
  const Node* require(std::string_view key);
  // The keys present, in file order (known keys only).
  std::vector<std::string> keys() const;

  // Typed getters: an absent key gives `fallback` without a diagnostic; a value of the wrong
  // type is reported and gives nullopt.
  std::optional<std::int64_t> get_int(std::string_view key,
                                      std::optional<std::int64_t> fallback = std::nullopt);
  std::optional<double> get_float(std::string_view key,
                                  std::optional<double> fallback = std::nullopt);
  std::optional<bool> get_bool(std::string_view key, std::optional<bool> fallback = std::nullopt);
  std::optional<std::string> get_string(std::string_view key,
                                        std::optional<std::string> fallback = std::nullopt);
  std::optional<std::string> get_enum(std::string_view key,
                                      const std::vector<std::string_view>& allowed,
                                      std::optional<std::string> fallback = std::nullopt,
                                      bool ignore_case = false);

  // Integers/floats that must be > 0 (or >= 0): reports "'key' must be positive, got 0".
  std::optional<std::int64_t> get_positive_int(std::string_view key,
                                               std::optional<std::int64_t> fallback);
  std::optional<std::int64_t> get_non_negative_int(std::string_view key,
                                                   std::optional<std::int64_t> fallback);
  std::optional<double> get_positive_float(std::string_view key, std::optional<double> fallback);

 private:
  Diagnostics& diags_;
  std::string name_;
  SourceLoc anchor_;
  bool valid_ = true;
  std::vector<const std::pair<Node, Node>*> entries_;  // known keys, first occurrence only
};

}  // namespace qb::config
