// The one table from tensor roles to Hugging Face module names (cf. llama.cpp's llama-arch.cpp).
// Qwen3, Qwen2 and Llama share the names; what differs is which roles exist (ModelConfig's
// qk_norm and bias flags). A module's tensors are "<module>.weight", "<module>.bias", and for
// compressed-tensors linears "<module>.weight_scale", "<module>.weight_packed", ...
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace qb::model {

enum class Role {
  // model-level
  kTokenEmbd,  // model.embed_tokens         [V, C]
  kOutputNorm, // model.norm                 [C]
  kOutput,     // lm_head                    [V, C] (absent when tied)
  // per layer
  kAttnNorm,   // input_layernorm            [C]
  kAttnQ,      // self_attn.q_proj           [H*D, C]
  kAttnK,      // self_attn.k_proj           [KVH*D, C]
  kAttnV,      // self_attn.v_proj           [KVH*D, C]
  kAttnQNorm,  // self_attn.q_norm           [D]      (Qwen3)
  kAttnKNorm,  // self_attn.k_norm           [D]      (Qwen3)
  kAttnOut,    // self_attn.o_proj           [C, H*D]
  kFfnNorm,    // post_attention_layernorm   [C]
  kFfnGate,    // mlp.gate_proj              [F, C]
  kFfnUp,      // mlp.up_proj                [F, C]
  kFfnDown,    // mlp.down_proj              [C, F]
};

// "model.embed_tokens", "model.layers.3.self_attn.q_proj", ... (layer ignored for model-level
// roles).
std::string module_name(Role role, int64_t layer = -1);

// The per-layer suffix alone: "self_attn.q_proj".
std::string_view layer_module_suffix(Role role);

inline constexpr Role kLayerLinears[] = {Role::kAttnQ,    Role::kAttnK,  Role::kAttnV,
                                         Role::kAttnOut,  Role::kFfnGate, Role::kFfnUp,
                                         Role::kFfnDown};

}  // namespace qb::model
