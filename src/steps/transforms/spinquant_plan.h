// A SpinQuant plan: the rotations of SpinQuantParams built for one model's shapes, and the table
// saying which rotation and which RMSNorm weight every tensor of the checkpoint receives.
//
// Conventions (row vectors, Linear y = x·Wᵀ + b, W [out, in]); Q orthogonal, x' = x·Q:
//   R1 (hidden C, blocks of transform_block_size or C): the residual stream becomes x·Q1.
//       embed_tokens E [V, C]:                E ← E·Q1               (after optional centering)
//       q, k, v, gate, up, lm_head (inputs):  W ← (W·diag(g))·Q1     (g: the RMSNorm they read)
//       o_proj, down_proj (outputs):          W ← Q1ᵀ·W, b ← b·Q1
//   R2 (head_dim D, one D×D block per head): v_proj outputs per KV head, o_proj inputs per query
//       head (GQA: every head shares the block, so attention commutes with it):
//       v_proj:  W ← Q2ᵀ·W, b ← b·Q2 (Qwen2's bias);   o_proj:  W ← W·Q2
//   R4 (intermediate F, blocks of transform_block_size or F): down_proj's input is rotated online,
//       x ↦ x·Q4 at run time (stored as "model.layers.0.mlp.down_proj.R4_input.weight" = √b·Q4_b,
//       compressed-tensors' convention), and down_proj: W ← W·Q4.
//   RMSNorm weights fused into the linears above become 1; Qwen3's q_norm / k_norm act inside a
//   head after q/k_proj, which R1 leaves alone (only their inputs rotate) and R2 never touches.
//   Tied embeddings are untied first (lm_head is a copy of embed_tokens, then rotated on its own).
#pragma once

#include <ATen/ATen.h>

#include <optional>
#include <string>
#include <vector>

#include "steps/hadamard/rotation.h"
#include "steps/model/model_config.h"
#include "steps/transforms/spinquant_params.h"
#include "util/status.h"

namespace qb::transforms {

// The stored online R4 weight (compressed-tensors ties it across layers and keeps the first).
inline constexpr const char* kR4WeightName = "model.layers.0.mlp.down_proj.R4_input.weight";

// What one output tensor receives. Matrices: W ← Q_outᵀ·(W·diag(norm))·Q_in (centered first when
// center); vectors (biases): b ← b·Q_out; ones: the tensor becomes all ones.
struct TensorRecipe {
  std::string name;         // output name
  std::string source;       // input name (lm_head reads embed_tokens when tied)
  std::string norm;         // RMSNorm weight fused on the input side ("" when none)
  const hadamard::Rotation* in = nullptr;
  const hadamard::Rotation* out = nullptr;
  bool center = false;
  bool ones = false;
};

class SpinQuantPlan {
 public:
  // Builds the rotations (seeds derived per rotation: derive_seed(seed, "R1") etc.). Errors
  // (invalid_argument), each naming the rotation and the dimension, e.g. "R4 (down_proj input,
  // intermediate_size 12288): hadamard rotation needs a power-of-two size …".
  static Result<SpinQuantPlan> create(const SpinQuantParams& params, const model::ModelConfig& config);

  const SpinQuantParams& params() const { return params_; }
  const model::ModelConfig& source_config() const { return config_; }
  // The rotations that are on (nullptr otherwise). R2 comes as two views of one block: over the
  // KV heads (v_proj outputs) and over the query heads (o_proj inputs).
  const hadamard::Rotation* r1() const { return opt(r1_); }
  const hadamard::Rotation* r2_kv() const { return opt(r2_kv_); }
  const hadamard::Rotation* r2_q() const { return opt(r2_q_); }
  const hadamard::Rotation* r4() const { return opt(r4_); }

  // Every output tensor in checkpoint order (embeddings, layers, final norm, lm_head), without
  // the R4 weight (see kR4WeightName).
  std::vector<TensorRecipe> recipes() const;
  // {"R1": {"type", "size", "block_size", "seed"}, …}: what was built, for the step's metadata.
  nlohmann::json describe() const;

 private:
  static const hadamard::Rotation* opt(const std::optional<hadamard::Rotation>& r) { return r ? &*r : nullptr; }
  SpinQuantParams params_;
  model::ModelConfig config_;
  std::optional<hadamard::Rotation> r1_, r2_kv_, r2_q_, r4_;
  uint64_t seed_r1_ = 0, seed_r2_ = 0, seed_r4_ = 0;
};

}  // namespace qb::transforms
