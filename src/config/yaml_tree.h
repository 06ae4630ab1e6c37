// A YAML document as a plain tree with a source location on every node, so that every later
// check can point at the exact key or value it complains about. Built from yaml-cpp; nothing
// else in qb::config touches yaml-cpp.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/diagnostics.h"

namespace qb::config {

struct Node {
  enum class Kind { kNull, kScalar, kSequence, kMapping };

  Kind kind = Kind::kNull;
  std::string text;    // the scalar's value (kScalar only)
  bool plain = true;   // false: quoted, block (| >) or explicitly tagged — always a string
  SourceLoc loc;       // an empty value (`key:`) carries its key's location
  std::vector<Node> items;                      // kSequence
  std::vector<std::pair<Node, Node>> entries;   // kMapping, in file order (duplicates kept)

  bool is_null() const { return kind == Kind::kNull; }
  bool is_scalar() const { return kind == Kind::kScalar; }
  bool is_sequence() const { return kind == Kind::kSequence; }
  bool is_mapping() const { return kind == Kind::kMapping; }
};

// Parses `text`, the content of `file` (the display path), and registers it with `diags` for
// snippets. Malformed YAML is reported at yaml-cpp's mark ("malformed YAML: ...") and gives
// nullopt; so does a file with several documents or one whose aliases expand past a size limit
// or nest past a depth limit (an alias inside the node it names).
// An empty file gives a null root. Never throws.
std::optional<Node> parse_yaml(const std::string& file, const std::string& text,
                               Diagnostics& diags);

}  // namespace qb::config
