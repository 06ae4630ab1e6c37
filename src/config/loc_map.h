// Where each field of a typed spec came from: canonical field paths (spec/issues.h) mapped to
// the YAML locations they were read from, so that a rule checked on the typed spec (its
// validate(), shared with the step) is reported compiler-style at the exact key or value.
//
// A path not recorded (a default, or a field the YAML spells elsewhere, like a preset's groups)
// falls back to its longest recorded prefix, at that prefix's key ("weights:" for an unwritten
// "weights.strategy"), and finally to the root location (the file, or the modifier's key).
#pragma once

#include <map>
#include <string>

#include "config/diagnostics.h"
#include "config/yaml_tree.h"
#include "spec/issues.h"

namespace qb::config {

class LocMap {
 public:
  explicit LocMap(SourceLoc root) : root_(std::move(root)) {}

  // `path` was read from `value` (and its key `key`, when it has one).
  void add(const std::string& path, const Node* key, const Node& value);
  // Every mapping entry and sequence item under `value`, recursively, with `path` as prefix.
  void add_tree(const std::string& path, const Node* key, const Node& value);
  // All of `path` (and anything under it) is attributed to `loc` (a preset's expansion).
  void alias(const std::string& path, const SourceLoc& loc);

  SourceLoc find(const std::string& path, bool at_key) const;

  // Adds every issue to `diags` at its location. Returns the number of errors added.
  int report(const spec::Issues& issues, Diagnostics& diags) const;

 private:
  struct Locs {
    SourceLoc key, value;
  };
  std::map<std::string, Locs> locs_;
  SourceLoc root_;
};

}  // namespace qb::config
