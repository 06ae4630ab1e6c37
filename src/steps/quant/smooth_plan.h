// Which modules each smoothing stage rescales, layer by layer: a stage's mappings
// (spec/smoothing.h) resolved against a model, as llm-compressor 0.14.0.1 resolves them
// (compressed-tensors' match_modules_set: per decoder layer, the balance layers in the order of
// their patterns, then of the layer's modules).
//
// Skips, as llm-compressor's do:
//   SmoothQuant  a mapping whose smooth layer and balance layers are all in the stage's ignore
//                (smoothquant/base.py _resolve_mappings);
//   AWQ          a mapping none of whose modules the quantization stage targets, and
//                v_proj -> o_proj where v_proj's outputs are not o_proj's inputs (grouped-query
//                attention; awq/base.py _check_layers_are_compatible).
// Errors (before any calibration): SmoothQuant's v_proj -> o_proj under grouped-query attention
// (llm-compressor would fail on the shapes), a smooth or balance Linear behind an online input
// transform (SpinQuant R4 on down_proj: its input is rotated, so scaling it is not exact), and
// a mapping that matches in part of a layer only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "spec/smooth_spec.h"
#include "steps/model/model_config.h"
#include "util/status.h"

namespace qb::quant {

// The module whose output AWQ measures its loss on (the lowest common ancestor of the balance
// layers): the attention block, the MLP block, or the balance Linear itself.
enum class AwqParent { kAttention, kMlp, kOProj, kDownProj };

struct ResolvedMapping {
  std::int64_t layer = 0;
  spec::LayerRole smooth = spec::LayerRole::kInputLayernorm;
  std::vector<spec::LayerRole> balance;  // AWQ averages the input of balance[0]
  std::string smooth_name;               // "model.layers.3.input_layernorm"
  std::vector<std::string> balance_names;
  // AWQ: each balance layer's weight quantization (nullopt: not targeted, left unquantized in
  // the search), and the loss's module.
  std::vector<std::optional<spec::QuantArgs>> balance_args;
  AwqParent parent = AwqParent::kAttention;
};

struct SkippedMapping {
  std::string smooth_name;
  std::string reason;
};

struct StagePlan {
  std::vector<std::vector<ResolvedMapping>> layers;  // [num_layers], each in mapping order
  std::vector<SkippedMapping> skipped;
};

// `transformed`: module names with an online input transform (the model's R4), which no mapping
// may rescale. `quantization` must be set for an AWQ stage.
Result<StagePlan> plan_stage(const spec::SmoothingStage& stage, const model::ModelConfig& config,
                             const std::optional<spec::AwqQuantization>& quantization,
                             const std::vector<std::string>& transformed);

std::string module_of(spec::LayerRole role, std::int64_t layer);  // "model.layers.<l>.<role>"

}  // namespace qb::quant
