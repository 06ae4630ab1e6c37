// SpinQuantPlan: rotations per model and the per-tensor table; see spinquant_plan.h.
#include "steps/transforms/spinquant_plan.h"

#include "steps/hadamard/hadamard_matrix.h"
#include "steps/hadamard/random.h"
#include "steps/model/tensor_names.h"

namespace qb::transforms {
namespace {

using hadamard::Rotation;
using hadamard::RotationOptions;
using model::Role;

Result<Rotation> build(const SpinQuantParams& p, int64_t size, int64_t block, uint64_t seed,
                       const std::string& what) {
  RotationOptions o;
  o.type = p.transform_type;
  o.size = size;
  o.block_size = block;
  o.seed = seed;
  auto r = Rotation::create(o);
  if (!r.is_ok()) return r.status().with_context(what);
  return r;
}

nlohmann::json describe_one(const Rotation& r, uint64_t seed) {
  nlohmann::json j = {{"type", hadamard::rotation_type_name(r.type())},
                      {"size", r.size()},
                      {"block_size", r.block_size()}};
  if (r.type() != hadamard::RotationType::kHadamard) j["seed"] = seed;
  return j;
}

}  // namespace

Result<SpinQuantPlan> SpinQuantPlan::create(const SpinQuantParams& params, const model::ModelConfig& c) {
  SpinQuantPlan plan;
  plan.params_ = params;
  plan.config_ = c;
  plan.seed_r1_ = hadamard::derive_seed(params.seed, "R1");
  plan.seed_r2_ = hadamard::derive_seed(params.seed, "R2");
  plan.seed_r4_ = hadamard::derive_seed(params.seed, "R4");
  const int64_t block = params.transform_block_size.value_or(0);
  if (params.has(RotationId::kR1)) {
    QB_ASSIGN_OR_RETURN(plan.r1_, build(params, c.hidden_size, block, plan.seed_r1_,
                                        "R1 (residual stream, hidden_size " + std::to_string(c.hidden_size) + ")"));
  }
  if (params.has(RotationId::kR2)) {
    const std::string what = "R2 (per attention head, head_dim " + std::to_string(c.head_dim) + ")";
    if (c.head_dim <= 0 || c.num_heads <= 0 || c.num_kv_heads <= 0 || c.num_heads % c.num_kv_heads != 0)
      return invalid_argument(what + ": the model has no valid head layout (" + std::to_string(c.num_heads) +
                              " heads, " + std::to_string(c.num_kv_heads) + " KV heads)");
    const std::string not_r2 = " (transform_block_size does not apply to R2); use transform_type ";
    if (params.transform_type == hadamard::RotationType::kHadamard && !hadamard::is_power_of_two(c.head_dim))
      return invalid_argument(what + ": hadamard needs a power-of-two head_dim" + not_r2 +
                              "random-hadamard or random-matrix");
    if (params.transform_type == hadamard::RotationType::kRandomHadamard && !hadamard::factorize(c.head_dim))
      return invalid_argument(what + ": random-hadamard has no Hadamard matrix of order " +
                              std::to_string(c.head_dim) + not_r2 + "random-matrix");
    QB_ASSIGN_OR_RETURN(plan.r2_kv_, build(params, c.num_kv_heads * c.head_dim, c.head_dim, plan.seed_r2_, what));
    QB_ASSIGN_OR_RETURN(plan.r2_q_, build(params, c.num_heads * c.head_dim, c.head_dim, plan.seed_r2_, what));
  }
  if (params.has(RotationId::kR4)) {
    QB_ASSIGN_OR_RETURN(plan.r4_, build(params, c.intermediate_size, block, plan.seed_r4_,
                                        "R4 (down_proj input, intermediate_size " +
                                            std::to_string(c.intermediate_size) + ")"));
  }
  return plan;
}

std::vector<TensorRecipe> SpinQuantPlan::recipes() const {
  const auto* r1 = this->r1();
  std::vector<TensorRecipe> out;
  auto add = [&](Role role, int64_t layer, const std::string& kind, const std::string& norm,
                 const Rotation* in, const Rotation* out_rot) {
    const std::string name = model::module_name(role, layer) + "." + kind;
    out.push_back({name, name, norm, in, out_rot, false, false});
  };
  auto ones = [&](Role role, int64_t layer) {
    const std::string name = model::module_name(role, layer) + ".weight";
    out.push_back({name, name, "", nullptr, nullptr, false, true});
  };
  const std::string embed = model::module_name(Role::kTokenEmbd) + ".weight";
  out.push_back({embed, embed, "", r1, nullptr, params_.center_embeddings, false});
  for (int64_t i = 0; i < config_.num_layers; ++i) {
    const std::string attn_norm = model::module_name(Role::kAttnNorm, i) + ".weight";
    const std::string ffn_norm = model::module_name(Role::kFfnNorm, i) + ".weight";
    ones(Role::kAttnNorm, i);
    add(Role::kAttnQ, i, "weight", attn_norm, r1, nullptr);
    if (config_.qkv_bias) add(Role::kAttnQ, i, "bias", "", nullptr, nullptr);
    add(Role::kAttnK, i, "weight", attn_norm, r1, nullptr);
    if (config_.qkv_bias) add(Role::kAttnK, i, "bias", "", nullptr, nullptr);
    add(Role::kAttnV, i, "weight", attn_norm, r1, r2_kv());
    if (config_.qkv_bias) add(Role::kAttnV, i, "bias", "", nullptr, r2_kv());
    if (config_.qk_norm) {
      add(Role::kAttnQNorm, i, "weight", "", nullptr, nullptr);
      add(Role::kAttnKNorm, i, "weight", "", nullptr, nullptr);
    }
    add(Role::kAttnOut, i, "weight", "", r2_q(), r1);
    if (config_.o_bias) add(Role::kAttnOut, i, "bias", "", nullptr, r1);
    ones(Role::kFfnNorm, i);
    add(Role::kFfnGate, i, "weight", ffn_norm, r1, nullptr);
    if (config_.mlp_bias) add(Role::kFfnGate, i, "bias", "", nullptr, nullptr);
    add(Role::kFfnUp, i, "weight", ffn_norm, r1, nullptr);
    if (config_.mlp_bias) add(Role::kFfnUp, i, "bias", "", nullptr, nullptr);
    add(Role::kFfnDown, i, "weight", "", r4(), r1);
    if (config_.mlp_bias) add(Role::kFfnDown, i, "bias", "", nullptr, r1);
  }
  ones(Role::kOutputNorm, -1);
  const std::string head = model::module_name(Role::kOutput) + ".weight";
  out.push_back({head, config_.tie_word_embeddings ? embed : head,
                 model::module_name(Role::kOutputNorm) + ".weight", r1, nullptr, false, false});
  return out;
}

nlohmann::json SpinQuantPlan::describe() const {
  nlohmann::json j = nlohmann::json::object();
  if (r1_) j["R1"] = describe_one(*r1_, seed_r1_);
  if (r2_kv_) j["R2"] = describe_one(*r2_kv_, seed_r2_), j["R2"]["size"] = config_.head_dim;
  if (r4_) j["R4"] = describe_one(*r4_, seed_r4_);
  return j;
}

}  // namespace qb::transforms
