// Which Linear modules of a checkpoint get quantized, and how: every projection of every
// decoder layer (q, k, v, o, gate, up, down) and lm_head when it is stored separately, in the
// order of the model's named_modules() (layer by layer, then lm_head) — the order
// compressed-tensors writes its ignore list and numbers its config groups in.
//
// A module is quantized by the one config group whose targets match it, unless an ignore entry
// matches it (compressed-tensors matching: class name "Linear", the exact module name, or
// "re:<regex>" with Python re.match semantics). Two matching groups are an error, as is a
// group_size that does not divide the module's in_features, an fp8 block_structure [bn, bk]
// that does not tile its weight (vLLM's messages), or a targeted tied lm_head.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "steps/model/model_config.h"
#include "steps/model_io/checkpoint.h"
#include "steps/quant/recipe.h"
#include "util/status.h"

namespace qb::quant {

struct PlannedLinear {
  std::string module;            // "model.layers.3.mlp.down_proj" | "lm_head"
  std::int64_t layer = -1;       // -1 for lm_head
  std::string input_group;       // modules that read the same input share it: "3.attn_in"
  std::int64_t in = 0, out = 0;
  const ConfigGroup* group = nullptr;  // nullptr: stays dense
};

// Errors name the module. `recipe` must outlive the result (groups are pointed to).
Result<std::vector<PlannedLinear>> plan_modules(const model::ModelConfig& config,
                                                const model_io::Checkpoint& ckpt,
                                                const QuantRecipe& recipe);

}  // namespace qb::quant
