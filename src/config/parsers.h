// One parser per config kind (internal to qb::config; load_pipeline() in pipeline.cc drives
// them). Each reads a parsed YAML tree, reports every problem to `diags` and returns the spec
// built from what was valid; callers drop the whole pipeline when any error was reported.
#pragma once

#include <filesystem>
#include <cstdint>
#include <optional>
#include <vector>
#include <string>

#include "config/diagnostics.h"
#include "config/specs.h"
#include "config/yaml_tree.h"

namespace qb::config {

struct FileContext {
  Diagnostics& diags;
  std::string file;                  // display path, e.g. "pipline/2-quant/rtn.yaml"
  std::filesystem::path root;        // the project root; config paths are relative to it
  std::string project_file;          // display path of project.yaml (for messages)

  SourceLoc whole_file() const { return SourceLoc{file, 0, 0, 0}; }
};

ProjectSpec parse_project(FileContext& c, const Node& root);
TransSpec parse_trans(FileContext& c, const Node& root, const ProjectSpec& project);
QuantSpec parse_quant(FileContext& c, const Node& root, const ProjectSpec& project);
EvalSpec parse_eval(FileContext& c, const Node& root, const ProjectSpec& project);

// Shared by the parsers: the required `key` (a name) checked with unsafe_name_reason(); sets
// `loc` to the value's location. Returns "" when missing or invalid.
std::string read_name(FileContext& c, class MapReader& top, std::string_view key, SourceLoc& loc);

// A present, non-null output_suffix checked with unsafe_suffix_reason(); nullopt when it is not
// a string (reported). An unsafe suffix is reported and still returned.
std::optional<std::string> read_suffix(FileContext& c, const Node& n);

// A list of GPU ids: non-negative, below kMaxGpuId, no repeats (each problem reported; the
// valid ids are returned, or nullopt when the value is not a list of integers).
std::optional<std::vector<int>> read_gpu_ids(FileContext& c, const Node& list);

// A path relative to the project root, lexically normalized, without a trailing '/'.
std::string normalize_rel_path(const std::string& path);

}  // namespace qb::config
