// The result of loading a pipeline: one config struct per file, each holding the typed specs
// (src/spec/) its nodes will consume plus what is not hashed (names, output suffixes, paths,
// work dirs, devices). The graph hashes exactly each spec's canonical JSON (spec.to_json());
// the step reads it back with from_json() — nothing is parsed or defaulted twice.
// pipline/README.md documents every field.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.h"
#include "spec/eval_spec.h"
#include "spec/project.h"
#include "spec/quant_recipe.h"
#include "spec/spinquant.h"

namespace qb::config {

using ProjectSpec = spec::ProjectSpec;

// pipline/1-trans/<file>.yaml: kind "original" (no node: the variant uses the source model) or
// "spinquant".
struct TransSpec {
  std::string name;
  SourceLoc loc;                             // the config file, at its name
  std::string input_model;                   // relative to the project root, lexically normal
  std::optional<std::string> output_suffix;  // nullopt exactly when kind == "original"
  std::string kind;                          // "original" | "spinquant"
  spec::SpinQuantParams params;              // kind "spinquant" only
  spec::EquivalenceCheck equivalence;        // kind "spinquant" only
};

// pipline/2-quant/<file>.yaml.
struct QuantSpec {
  std::string name;
  SourceLoc loc;
  std::string output_suffix;
  spec::QuantRecipe recipe;
  // The calibration file (relative to the project root) when recipe.needs_calibration(): an
  // input of the node, keyed by its content (moving the file does not rebuild).
  std::string calibration_source;
};

// pipline/3-eval/<file>.yaml: one sample node, a generate and a score node per variant (and
// per source model for the base row).
struct EvalSpec {
  std::string dataset_name;  // results/<dataset_name>.csv, data/<dataset_name>.jsonl
  SourceLoc loc;
  spec::SampleSpec sample;
  std::vector<std::string> dataset_dirs;  // parallel to sample.datasets; relative to the root
  spec::GenerateSpec generate;            // logits: none; the graph sets keep/compare
  spec::ScoreSpec score;
  std::string work_dir;      // predictions/reports go under <work_dir>/ (inside the project)
  std::vector<int> devices;  // GPU ids this eval may use; empty = any project device
};

struct Pipeline {
  ProjectSpec project;
  std::vector<TransSpec> trans;  // sorted by file name within each folder
  std::vector<QuantSpec> quant;
  std::vector<EvalSpec> evals;
};

}  // namespace qb::config
