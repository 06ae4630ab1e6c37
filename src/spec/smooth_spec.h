// SmoothSpec: the typed spec of a `smooth` node — a recipe's smoothing stages (spec/smoothing.h)
// run over a model into an fp checkpoint that its `quant` node then quantizes.
//
// Why a node of its own: llm-compressor 0.14.0.1's oneshot runs a recipe's modifiers with its
// default "independent" pipeline (pipelines/independent): each modifier gets its own sequential
// calibration pass over the model the previous one left. So [SmoothQuantModifier, GPTQModifier]
// computes exactly "SmoothQuant's pass, then GPTQ on the smoothed model" — the same bytes as
// smoothing, saving the fp model, and running GPTQ on the saved model (quant_golden.py checks
// this on the fixture before writing it). With the smoothed model as an artifact keyed only by
// what determines it, a change to the GPTQ stage reruns GPTQ and never the smoothing.
//
// What determines it: the stages, the calibration data (settings here, the file's content as a
// node input), the device and compute dtype — and, when an AWQ stage is present, the weight
// quantization AWQ searches its scales for: which Linears the quantization stage targets (its
// groups' targets, its ignore) and their weights' num_bits / symmetric / strategy / group_size.
// Activation settings, observers (AWQ always uses memoryless min-max in its search) and GPTQ's
// fields do not change the smoothed model and are not part of the key.
//
// Canonical JSON (version kSmoothSpecFormat):
//   {"stages": [<stage>, ...],
//    "quantization": null | {"config_groups": {"<group>": {"targets": [...],
//                                                          "weights": {"num_bits", "type",
//                                                          "symmetric", "strategy",
//                                                          "group_size": null|int}}},
//                            "ignore": [...]},      (non-null exactly when a stage is AWQ)
//    "calibration": {"source_kind", "num_samples", "seq_len", "seed"},
//    "device": "cpu"|"cuda", "compute_dtype": "float32"|"bfloat16"}
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/issues.h"
#include "spec/quant_recipe.h"
#include "spec/smoothing.h"
#include "util/status.h"

namespace qb::spec {

inline constexpr int kSmoothSpecFormat = 1;

// What AWQ reads of the quantization stage (see above).
struct AwqQuantization {
  std::vector<ConfigGroup> groups;  // weights only: input_activations is always nullopt here
  std::vector<std::string> ignore;
  bool operator==(const AwqQuantization&) const = default;
};

struct SmoothSpec {
  std::vector<SmoothingStage> stages;
  std::optional<AwqQuantization> quantization;  // set exactly when a stage is AWQ
  CalibrationSpec calibration;
  std::string device = "cpu";
  std::string compute_dtype = "float32";

  // The smooth node of `recipe`, or nullopt when it has no stages. `recipe` must be valid.
  static std::optional<SmoothSpec> of(const QuantRecipe& recipe);

  // The stages' rules, the calibration bounds and the compute settings (paths as in the
  // recipe: "stages[0].n_grid", "calibration.seq_len").
  void validate(Issues& issues) const;
  nlohmann::json to_json() const;
  static Result<SmoothSpec> from_json(const nlohmann::json& j);
  bool operator==(const SmoothSpec&) const = default;
};

}  // namespace qb::spec
