// The build command's passes, each a function so `main` reads as a list:
//   plan_build   graph → targets → plan (what --dry-run prints)
//   write_build_files   cache/nodes/*.json, cache/project.json, cache/build.ninja
//   run_ninja    executes the edges (each runs `qbuild step <kind> <key>`)
//   collect      friendly links, data/<dataset_name>.jsonl, results/<dataset_name>.csv
#pragma once

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/graph.h"
#include "graph/plan.h"
#include "runner/project.h"
#include "spec/project.h"

namespace qb::runner {

struct Planned {
  graph::Graph graph;
  std::set<int> selected;
  graph::Plan plan;
};

// Builds the graph and plans the targets. Cached artifacts whose files are damaged (missing or
// resized behind the index's back) are removed, with a warning, and planned to run again.
Result<Planned> plan_build(Project& project, const graph::GraphInput& input, const graph::KindCatalog& kinds,
                           const std::vector<std::string>& targets);

// Writes cache/nodes/*.json, cache/project.json and cache/build.ninja. `jobs` is the build's -j
// (0: the project's `jobs`). Steps on the CPU run `jobs` at a time (GPU steps one per device),
// and each CPU step gets cores / jobs intra-op threads (at least 1), recorded as
// project.json's cpu_threads: parallel steps never oversubscribe the cores.
Status write_build_files(Project& project, const Planned& planned, spec::ProjectSpec res, int jobs);

struct NinjaOptions {
  int jobs = 0;        // 0 = ninja's default
  int keep_going = 1;  // ninja -k
  bool verbose = false;
  std::string invocation;  // logs/<invocation>/
};
// Returns ninja's exit status (0 = every edge succeeded; 130 when qbuild was interrupted).
Result<int> run_ninja(Project& project, const NinjaOptions& opts);

// Links, eval sets and results CSVs from what is in the store now.
Status collect(Project& project, const Planned& planned);

}  // namespace qb::runner
