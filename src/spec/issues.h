// Problems found in a typed spec, located by a field path in the spec's canonical JSON shape:
// "config_groups.group_0.weights.num_bits", "datasets[1].subset_list[0]", "" for the whole
// spec. The config layer maps each path back to file:line:col (config/loc_map.h); a step that
// deserializes a spec reports the first error with its path.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace qb::spec {

struct Issue {
  bool error = true;     // false: a warning
  std::string path;      // canonical field path ("" = the spec itself)
  std::string message;   // complete sentence fragment, no path prefix
  bool at_key = false;   // point at the field's key rather than its value (e.g. "X is ignored")
  std::string note_path;  // optional: a second place ("first listed here")
  std::string note;
};

class Issues {
 public:
  void error(std::string path, std::string message, bool at_key = false) {
    all_.push_back({true, std::move(path), std::move(message), at_key, "", ""});
    ++errors_;
  }
  void warning(std::string path, std::string message, bool at_key = false) {
    all_.push_back({false, std::move(path), std::move(message), at_key, "", ""});
  }
  // An error with a note at another field ("dataset 'mmlu' is listed twice" + "first listed here").
  void error_with_note(std::string path, std::string message, std::string note_path, std::string note) {
    all_.push_back({true, std::move(path), std::move(message), false, std::move(note_path), std::move(note)});
    ++errors_;
  }
  const std::vector<Issue>& all() const { return all_; }
  int error_count() const { return errors_; }
  bool ok() const { return errors_ == 0; }
  // Ok, or invalid_argument "<what>: <path>: <message>" for the first error.
  Status to_status(std::string_view what) const;

 private:
  std::vector<Issue> all_;
  int errors_ = 0;
};

// Path building: field("a", "b") = "a.b", field("", "b") = "b", item("a", 2) = "a[2]".
std::string field(std::string_view parent, std::string_view name);
std::string item(std::string_view parent, std::size_t index);

}  // namespace qb::spec
