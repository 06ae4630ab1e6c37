// compressed-tensors transform_config for a SpinQuant plan; see transform_config.h.
#include "steps/transforms/transform_config.h"

namespace qb::transforms {
namespace {

using nlohmann::json;

json args(std::vector<std::string> targets, const char* location, bool inverse) {
  return {{"ignore", json::array()}, {"inverse", inverse}, {"location", location}, {"targets", targets}};
}

json scheme(const SpinQuantPlan& plan, json head_dim, json apply) {
  return {{"apply", std::move(apply)},
          {"head_dim", std::move(head_dim)},
          {"precision", "torch.float64"},
          {"randomize", false},
          {"requires_grad", false},
          {"type", hadamard::rotation_type_name(plan.params().transform_type)}};
}

}  // namespace

json transform_config_json(const SpinQuantPlan& plan) {
  const auto& p = plan.params();
  const json block = p.transform_block_size ? json(*p.transform_block_size) : json(nullptr);
  json groups = json::object();
  if (p.has(RotationId::kR1))
    groups["R1"] = scheme(plan, block,
                          {args({"re:.*embed_tokens$", "re:.*o_proj$", "re:.*down_proj$"}, "weight_output", false),
                           args({"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$", "re:.*up_proj$",
                                 "re:.*gate_proj$", "lm_head"},
                                "weight_input", true)});
  if (p.has(RotationId::kR2))
    groups["R2"] = scheme(plan, plan.source_config().head_dim,
                          {args({"re:.*v_proj$"}, "weight_output", false),
                           args({"re:.*o_proj$"}, "weight_input", true)});
  if (p.has(RotationId::kR4))
    groups["R4"] = scheme(plan, block,
                          {args({"re:.*down_proj$"}, "input", false),
                           args({"re:.*down_proj$"}, "weight_input", true)});
  return {{"config_groups", groups}};
}

json transformed_model_config(const json& source_config, const SpinQuantPlan& plan) {
  json c = source_config;
  c["tie_word_embeddings"] = false;
  c["dtype"] = "float32";
  if (c.contains("torch_dtype")) c["torch_dtype"] = "float32";
  c["quantization_config"] = {{"quant_method", "compressed-tensors"},
                              {"sparsity_config", json::object()},
                              {"transform_config", transform_config_json(plan)},
                              {"version", kCompressedTensorsVersion}};
  return c;
}

}  // namespace qb::transforms
