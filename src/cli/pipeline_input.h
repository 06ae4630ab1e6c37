// From the config layer to the graph: loads pipline/ (all errors printed compiler-style),
// applies --trans-config/--quant-config/--eval-config, and maps specs to graph inputs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/pipeline.h"
#include "graph/graph.h"
#include "runner/build.h"

namespace qb::cli {

struct Selection {
  std::vector<std::string> trans, quant, eval;  // config names or file paths; empty = all
  std::string pipeline_dir = config::kDefaultPipelineDir;
};

struct LoadedPipeline {
  config::Pipeline pipeline;
  graph::GraphInput input;
  spec::ProjectSpec project;  // the resources (cache/project.json)
  std::string diagnostics;    // the config warnings printed while loading (stderr), if any
};

// Config errors are printed to stderr here (the one place that renders them); the Status then
// only says how many there were.
Result<LoadedPipeline> load_for_build(const std::filesystem::path& root, const Selection& sel);

}  // namespace qb::cli
