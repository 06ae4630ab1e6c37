#include "steps/model/tensor_names.h"

namespace qb::model {

std::string_view layer_module_suffix(Role role) {
  switch (role) {
    case Role::kAttnNorm: return "input_layernorm";
    case Role::kAttnQ: return "self_attn.q_proj";
    case Role::kAttnK: return "self_attn.k_proj";
    case Role::kAttnV: return "self_attn.v_proj";
    case Role::kAttnQNorm: return "self_attn.q_norm";
    case Role::kAttnKNorm: return "self_attn.k_norm";
    case Role::kAttnOut: return "self_attn.o_proj";
    case Role::kFfnNorm: return "post_attention_layernorm";
    case Role::kFfnGate: return "mlp.gate_proj";
    case Role::kFfnUp: return "mlp.up_proj";
    case Role::kFfnDown: return "mlp.down_proj";
    case Role::kTokenEmbd:
    case Role::kOutputNorm:
    case Role::kOutput: break;
  }
  return "";
}

std::string module_name(Role role, int64_t layer) {
  switch (role) {
    case Role::kTokenEmbd: return "model.embed_tokens";
    case Role::kOutputNorm: return "model.norm";
    case Role::kOutput: return "lm_head";
    default: break;
  }
  return "model.layers." + std::to_string(layer) + "." + std::string(layer_module_suffix(role));
}

}  // namespace qb::model
