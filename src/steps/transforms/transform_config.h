// What a SpinQuant transform writes into config.json, byte-compatible with llm-compressor 0.14 /
// compressed-tensors 0.19.0 (ModelCompressor.update_config of a transform-only model):
//   "quantization_config": {"quant_method": "compressed-tensors", "sparsity_config": {},
//                           "transform_config": {"config_groups": {"R1": …, "R2": …, "R4": …}},
//                           "version": "0.19.0"}
// Each group is TransformScheme.model_dump() as SpinQuantModifier builds it (targets, locations,
// head_dim = transform_block_size for R1/R4 and head_dim for R2, precision "torch.float64").
// Only R4's "input" location is online; vLLM applies it from the stored weight
// "model.layers.0.mlp.down_proj.R4_input.weight" (spinquant_plan.h), the rest is documentation
// of what was fused. A later quantization step adds its fields next to transform_config.
#pragma once

#include <nlohmann/json.hpp>

#include "steps/transforms/spinquant_plan.h"

namespace qb::transforms {

inline constexpr const char* kCompressedTensorsVersion = "0.19.0";

// {"config_groups": {...}} for the plan's rotations.
nlohmann::json transform_config_json(const SpinQuantPlan& plan);

// The transformed model's config.json: the source's with tie_word_embeddings false, dtype
// float32 (and torch_dtype when the source has that key) and the quantization_config above.
nlohmann::json transformed_model_config(const nlohmann::json& source_config, const SpinQuantPlan& plan);

}  // namespace qb::transforms
