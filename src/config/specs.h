// The typed result of loading a pipeline: one spec per config file, each with its canonical
// parameters. `params` (and an eval's `sample_params` / `eval_params`) is what the graph hashes
// into a node key: every value the artifact depends on, defaults spelled out, numbers typed by
// the schema (floats are JSON floats even when written `1`; integers are int64), enums
// normalized, order-free lists sorted — and nothing that does not change the artifact (names,
// output suffixes, work dirs, devices, comments, key order). pipline/README.md documents every
// field; the JSON shapes are listed with each struct below.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/diagnostics.h"

namespace qb::config {

// Bumped when the eval prompt templates change, so frozen eval sets are re-made. Part of every
// eval's sample_params.
inline constexpr const char* kPromptFormatVersion = "evalscope-compatible/1";

// The automatic check after a transform: the transformed model must compute the same function.
// Not part of the transform's params (a tolerance does not change the weights); a step that
// fails the check publishes nothing, so relaxing it re-runs the step.
struct EquivalenceSpec {
  double max_rel_error = 1e-3;        // max over prompts of ||logits_t - logits_s|| / ||logits_s||
  std::vector<std::string> prompts;   // never empty (defaults in pipline/README.md)
};

// pipline/1-trans/<file>.yaml.
//   kind "original":  params = {}
//   kind "spinquant": params = {"rotations": ["R1","R2"] (order R1,R2,R4),
//                               "transform_type": "hadamard"|"random-hadamard"|"random-matrix",
//                               "seed": int (only for random-* types),
//                               "transform_block_size": null|int,
//                               "center_embeddings": bool}
struct TransSpec {
  std::string name;
  SourceLoc loc;                             // the config file, at its name
  std::string input_model;                   // relative to the project root, lexically normal
  std::optional<std::string> output_suffix;  // nullopt exactly when kind == "original"
  std::string kind;                          // "original" | "spinquant"
  nlohmann::json params;
  EquivalenceSpec equivalence;               // used only for kind "spinquant"
};

// Calibration data for GPTQ and static activations. The graph must key the source by its
// content (the path is not in params: moving the file does not rebuild).
struct CalibrationSpec {
  std::string source;        // relative to the project root: a .txt or .jsonl file
  std::string source_kind;   // "txt" | "jsonl" (directories are rejected)
  std::int64_t num_samples = 512;
  std::int64_t seq_len = 2048;
  std::int64_t seed = 0;
};

// pipline/2-quant/<file>.yaml. params:
//   {"modifier": "QuantizationModifier"|"GPTQModifier",
//    "config_groups": {"<group name>": {"targets": [sorted],
//        "weights": {"num_bits", "type": "int", "symmetric", "strategy": "tensor"|"channel"|"group",
//                    "group_size": null|int, "dynamic": false, "observer", "observer_kwargs": {...},
//                    "scale_rule", "rounding": "half_even", ["actorder": null|"weight" (GPTQ)]},
//        "input_activations": null | {"num_bits": 8, "type": "int", "symmetric": true,
//                    "strategy": "tensor"|"token", "group_size": null, "dynamic",
//                    "observer": null|name, "observer_kwargs", "scale_rule", "rounding"}}},
//    "ignore": [sorted, unique], "save_compressed": bool,
//    ["block_size": int, "dampening_frac": float]                         (GPTQ only)
//    ["calibration": {"source_kind", "num_samples", "seq_len", "seed"}]}  (when needed)
// A `scheme:` preset is expanded into config_groups {"group_0": ...}, so a preset and the same
// recipe written out have equal params.
struct QuantSpec {
  std::string name;
  SourceLoc loc;
  std::string output_suffix;
  std::string modifier;                       // "QuantizationModifier" | "GPTQModifier"
  nlohmann::json params;
  std::optional<CalibrationSpec> calibration;  // set exactly when needs_calibration
  bool needs_calibration = false;              // GPTQ, or any static input activations
};

// One entry of an eval's `datasets`.
struct DatasetSpec {
  std::string name;                      // "mmlu" | "gsm8k": the task, and data/datasets/<name>/
  double weight = 1.0;
  std::string task_type;                 // a label copied into the eval set
  std::vector<std::string> tags;         // sorted, unique
  std::int64_t few_shot_num = 0;
  std::vector<std::string> subset_list;  // sorted, unique; empty = every subset
  std::string dir;                       // `dataset_dir`, default "data/datasets/<name>" (relative to the root)
  std::string format = "auto";           // auto | jsonl | csv | parquet: which files when a folder has several
};

// pipline/3-eval/<file>.yaml.
//   sample_params (what the frozen eval set data/<dataset_name>.jsonl depends on):
//     {"datasets": [{"name", "weight", "task_type", "tags", "few_shot_num", "subset_list"}...]
//                  (in file order: the sampler gives the remainder to the last),
//      "total_samples": int, "seed": int, "mode": "generative"|"loglikelihood",
//      "enable_thinking": bool, "prompt_format": kPromptFormatVersion}
//   eval_params (how each model is run on it):
//     {"max_new_tokens": {"<task>": int, ...} (generative tasks only), "batch_size": int,
//      "decoding": "greedy", "fidelity": bool}
struct EvalSpec {
  std::string dataset_name;      // results/<dataset_name>.csv, data/<dataset_name>.jsonl
  SourceLoc loc;
  std::vector<DatasetSpec> datasets;
  std::int64_t total_samples = 0;
  std::uint64_t seed = 42;
  std::string work_dir;          // predictions/reports go under <work_dir>/
  std::vector<int> devices;      // GPU ids this eval may use; empty = any project device
  nlohmann::json sample_params;
  nlohmann::json eval_params;
};

// <pipeline dir>/project.yaml (optional; a missing file gives these defaults).
struct ProjectSpec {
  std::vector<int> devices;             // GPU ids; empty = CPU only
  std::string device = "cpu";           // resolved: "cpu" | "cuda"
  std::string compute_dtype = "float32";  // resolved: "float32" | "bfloat16"
  int jobs = 1;                         // parallel CPU steps (default: the machine's cores)
};

struct Pipeline {
  ProjectSpec project;
  std::vector<TransSpec> trans;  // sorted by file name within each folder
  std::vector<QuantSpec> quant;
  std::vector<EvalSpec> evals;
};

}  // namespace qb::config
