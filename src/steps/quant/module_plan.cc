// Planning which Linear modules are quantized (see module_plan.h).
#include "steps/quant/module_plan.h"

#include "steps/model/quant_config.h"
#include "steps/model/tensor_names.h"

namespace qb::quant {
namespace {

// Modules that read the same activation (so share a Hessian and activation statistics).
const char* input_group_of(model::Role role) {
  switch (role) {
    case model::Role::kAttnQ:
    case model::Role::kAttnK:
    case model::Role::kAttnV: return "attn_in";
    case model::Role::kAttnOut: return "attn_out";
    case model::Role::kFfnGate:
    case model::Role::kFfnUp: return "mlp_in";
    case model::Role::kFfnDown: return "mlp_act";
    default: return "?";
  }
}

Result<bool> matches_any(const std::string& module, const std::vector<std::string>& patterns) {
  for (const auto& p : patterns) {
    QB_ASSIGN_OR_RETURN(bool m, model::matches_target(module, p));
    if (m) return true;
  }
  return false;
}

}  // namespace

Result<std::vector<PlannedLinear>> plan_modules(const model::ModelConfig& config,
                                                const model_io::Checkpoint& ckpt,
                                                const QuantRecipe& recipe) {
  std::vector<PlannedLinear> out;
  auto add = [&](std::string module, std::int64_t layer, std::string group) -> Status {
    const auto* info = ckpt.info(module + ".weight");
    if (!info) return not_found(module + ".weight: missing from the checkpoint");
    if (info->shape.size() != 2)
      return invalid_argument(module + ".weight: expected a 2-D weight");
    switch (info->dtype) {
      case model_io::DType::kF32: case model_io::DType::kBF16: case model_io::DType::kF16: break;
      default:
        return invalid_argument(module + ".weight: dtype " + model_io::dtype_name(info->dtype) +
                                " is not a dense floating weight (is the model already "
                                "quantized?)");
    }
    PlannedLinear p;
    p.module = std::move(module);
    p.layer = layer;
    p.input_group = std::move(group);
    p.out = info->shape[0];
    p.in = info->shape[1];
    out.push_back(std::move(p));
    return Status::ok();
  };
  for (std::int64_t l = 0; l < config.num_layers; ++l)
    for (auto role : model::kLayerLinears)
      QB_TRY(add(model::module_name(role, l), l,
                 std::to_string(l) + "." + input_group_of(role)));
  const bool lm_head_stored = ckpt.has("lm_head.weight");
  if (lm_head_stored) QB_TRY(add("lm_head", -1, "lm_head_in"));

  for (auto& p : out) {
    QB_ASSIGN_OR_RETURN(bool ignored, matches_any(p.module, recipe.ignore));
    if (ignored) continue;
    for (const auto& g : recipe.groups) {
      QB_ASSIGN_OR_RETURN(bool hit, matches_any(p.module, g.targets));
      if (!hit) continue;
      if (p.group)
        return invalid_argument(p.module + ": matched by config groups '" + p.group->name +
                                "' and '" + g.name + "'");
      p.group = &g;
    }
    if (p.group && p.group->weights.strategy == qmath::Strategy::kGroup &&
        p.in % p.group->weights.group_size != 0)
      return invalid_argument(p.module + ": in_features " + std::to_string(p.in) +
                              " is not divisible by group_size " +
                              std::to_string(p.group->weights.group_size) + " (group '" +
                              p.group->name + "'); ignore the module or change group_size");
    if (p.group && p.group->weights.strategy == qmath::Strategy::kBlock) {
      // qbuild quantizes fp8 blocks that tile the weight exactly: compressed-tensors would
      // zero-pad a partial block, but vLLM rejects such layers (validate_fp8_block_shape on
      // merged q|k|v and gate|up outputs; the emulated block GEMM pairs whole blocks).
      const auto [bn, bk] = p.group->weights.block_structure;
      if (p.out % bn != 0)
        return invalid_argument(p.module + ": Weight output_partition_size = " +
                                std::to_string(p.out) +
                                " is not divisible by weight quantization block_n = " +
                                std::to_string(bn) + " (group '" + p.group->name +
                                "'); ignore the module or change block_structure");
      if (p.in % bk != 0)
        return invalid_argument(p.module + ": Weight input_size_per_partition = " +
                                std::to_string(p.in) +
                                " is not divisible by weight quantization block_k = " +
                                std::to_string(bk) + " (group '" + p.group->name +
                                "'); ignore the module or change block_structure");
    }
  }
  if (!lm_head_stored && config.tie_word_embeddings) {
    // A tied lm_head is a Linear too; quantizing it would untie it from embed_tokens.
    for (const auto& g : recipe.groups) {
      QB_ASSIGN_OR_RETURN(bool ignored, matches_any("lm_head", recipe.ignore));
      QB_ASSIGN_OR_RETURN(bool hit, matches_any("lm_head", g.targets));
      if (hit && !ignored)
        return invalid_argument("lm_head: tied to model.embed_tokens, cannot be quantized; add "
                                "lm_head to ignore");
    }
  }
  return out;
}

}  // namespace qb::quant
