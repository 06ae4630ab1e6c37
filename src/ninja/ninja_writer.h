// Writes Ninja manifests (the subset qbuild needs), with Ninja's escaping rules:
//   in paths (build outputs/inputs):  '$' -> "$$", ' ' -> "$ ", ':' -> "$:"
//   in variable values:               '$' -> "$$" (spaces and ':' are literal)
// Newlines cannot be represented in either and are rejected (Code::kInvalidArgument).
// Output is deterministic: the caller's order, no timestamps.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace qb::ninja {

std::string escape_path(std::string_view path);
std::string escape_value(std::string_view value);

struct BuildEdge {
  std::vector<std::string> outputs;
  std::string rule;
  std::vector<std::string> inputs;
  std::vector<std::string> implicit;    // | deps
  std::vector<std::string> order_only;  // || deps
  std::vector<std::pair<std::string, std::string>> vars;
};

class NinjaWriter {
 public:
  void comment(std::string_view text);
  void newline();
  Status variable(std::string_view name, std::string_view value, int indent = 0);
  void pool(std::string_view name, int depth);
  void include(std::string_view path);
  Status build(const BuildEdge& edge);
  void default_targets(const std::vector<std::string>& targets);
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

}  // namespace qb::ninja
