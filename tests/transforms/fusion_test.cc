// The fusion math on synthetic Qwen3 / Qwen2 / Llama-shaped weights: the fast path equals the
// dense float64 reference, and a float64 forward written from the formulas (tiny_forward.h)
// computes the same logits before and after, for every rotation subset and transform type —
// except with center_embeddings, which changes the function of an RMSNorm model.
#include <gtest/gtest.h>

#include "steps/transforms/fusion.h"
#include "tiny_forward.h"

namespace qb::transforms {
namespace {

using hadamard::RotationType;
using testing::TensorMap;

double rel(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).norm().item<double>() / std::max(b.norm().item<double>(), 1e-300);
}

struct Case {
  model::Arch arch;
  RotationType type;
  std::optional<int64_t> block;
  std::vector<RotationId> rotations;
};

std::string case_name(const Case& c) {
  return testing::case_name(model::arch_name(c.arch), c.type, c.rotations, c.block);
}

class Fusion : public ::testing::TestWithParam<Case> {};

TEST_P(Fusion, FastMatchesReferenceAndTheFunctionIsPreserved) {
  const Case c = GetParam();
  const auto config = testing::synthetic_config(c.arch);
  SpinQuantParams p;
  p.rotations = c.rotations;
  p.transform_type = c.type;
  p.transform_block_size = c.block;
  p.seed = 5;
  auto plan = SpinQuantPlan::create(p, config);
  ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
  const TensorMap src = testing::random_weights(config, 11);
  const TensorMap fast = testing::fuse(*plan, src), ref = testing::fuse(*plan, src, FusionPath::kReference);
  ASSERT_EQ(fast.size(), ref.size());
  for (const auto& [name, t] : ref) {
    ASSERT_TRUE(fast.count(name)) << name;
    EXPECT_LE(rel(fast.at(name), t), 1e-13) << name;
  }
  // Structure: untied, norms folded to ones, Qwen3's q_norm / k_norm untouched.
  EXPECT_TRUE(fast.count("lm_head.weight"));
  EXPECT_EQ(fast.at("model.layers.1.input_layernorm.weight").ne(1.0).sum().item<int64_t>(), 0);
  EXPECT_EQ(fast.at("model.norm.weight").ne(1.0).sum().item<int64_t>(), 0);
  if (config.qk_norm) {
    EXPECT_TRUE(fast.at("model.layers.0.self_attn.q_norm.weight").equal(src.at("model.layers.0.self_attn.q_norm.weight")));
  }
  // Function: float64 logits before and after agree to rounding.
  const std::vector<int64_t> ids = {3, 1, 4, 1, 5, 9, 2, 6, 5, 35, 8, 9};
  auto before = testing::tiny_forward(config, src, ids);
  auto after = testing::tiny_forward(config, fast, ids, plan->r4());
  EXPECT_LE(rel(after, before), 1e-12) << case_name(c);
}

const std::vector<RotationId> kAll = {RotationId::kR1, RotationId::kR2, RotationId::kR4};

INSTANTIATE_TEST_SUITE_P(
    Synthetic, Fusion,
    ::testing::Values(
        Case{model::Arch::kQwen3, RotationType::kRandomHadamard, std::nullopt, kAll},
        Case{model::Arch::kQwen2, RotationType::kRandomHadamard, std::nullopt, kAll},
        Case{model::Arch::kLlama, RotationType::kRandomHadamard, std::nullopt, kAll},
        Case{model::Arch::kQwen3, RotationType::kRandomMatrix, std::nullopt, kAll},
        Case{model::Arch::kQwen2, RotationType::kRandomMatrix, 24, kAll},
        Case{model::Arch::kLlama, RotationType::kHadamard, 16, kAll},
        Case{model::Arch::kQwen3, RotationType::kHadamard, 16, {RotationId::kR1}},
        Case{model::Arch::kQwen2, RotationType::kRandomHadamard, std::nullopt, {RotationId::kR2}},
        Case{model::Arch::kQwen3, RotationType::kRandomHadamard, std::nullopt, {RotationId::kR4}},
        Case{model::Arch::kQwen2, RotationType::kRandomHadamard, 12, {RotationId::kR1, RotationId::kR2}}),
    [](const ::testing::TestParamInfo<Case>& info) { return case_name(info.param); });

TEST(Fusion, CenteringEmbeddingsChangesAnRmsNormModel) {
  const auto config = testing::synthetic_config(model::Arch::kQwen3);
  SpinQuantParams p;
  p.transform_type = RotationType::kRandomHadamard;
  p.center_embeddings = true;
  auto plan = *SpinQuantPlan::create(p, config);
  const TensorMap src = testing::random_weights(config, 3);
  const TensorMap fast = testing::fuse(plan, src), ref = testing::fuse(plan, src, FusionPath::kReference);
  EXPECT_LE(rel(fast.at("model.embed_tokens.weight"), ref.at("model.embed_tokens.weight")), 1e-13);
  // Rows of the rotated embedding still have (rotated) zero mean: E·Q·Qᵀ·1 = E·1 = 0 per row.
  auto unrotated = plan.r1()->apply_inverse(fast.at("model.embed_tokens.weight"));
  EXPECT_LE(unrotated.mean(-1).abs().max().item<double>(), 1e-13);
  const std::vector<int64_t> ids = {3, 1, 4, 1, 5, 9, 2, 6};
  EXPECT_GT(rel(testing::tiny_forward(config, fast, ids), testing::tiny_forward(config, src, ids)), 1e-3);
}

TEST(Fusion, WrongShapesAreReportedByName) {
  const auto config = testing::synthetic_config(model::Arch::kQwen3);
  SpinQuantParams p;
  p.transform_type = RotationType::kRandomHadamard;
  auto plan = *SpinQuantPlan::create(p, config);
  TensorMap src = testing::random_weights(config, 3);
  src["model.layers.1.mlp.up_proj.weight"] = at::zeros({96, 40}, at::kDouble);
  auto sink = [](const std::string&, const at::Tensor&) { return Status::ok(); };
  auto source = [&](const std::string& n) -> Result<at::Tensor> {
    if (!src.count(n)) return not_found("no tensor '" + n + "'");
    return src.at(n);
  };
  EXPECT_EQ(fuse_and_rotate(plan, source, sink, at::kCPU).message(),
            "tensor 'model.layers.1.mlp.up_proj.weight' has shape [96, 40], which does not fit the model's "
            "config and 'model.layers.1.post_attention_layernorm.weight' [48]");
  src.erase("model.layers.0.self_attn.k_proj.weight");
  EXPECT_EQ(fuse_and_rotate(plan, source, sink, at::kCPU).message(), "no tensor 'model.layers.0.self_attn.k_proj.weight'");
  src["model.layers.0.self_attn.k_proj.weight"] = at::zeros({16, 48}, at::kInt);
  EXPECT_EQ(fuse_and_rotate(plan, source, sink, at::kCPU).message(),
            "tensor 'model.layers.0.self_attn.k_proj.weight' is not floating point (Int)");
}

TEST(SpinQuantPlan, RejectsSizesTheTransformTypeCannotBuild) {
  auto config = testing::synthetic_config(model::Arch::kQwen3);  // C 48, F 96, D 8
  SpinQuantParams p;  // hadamard, R1 + R2
  EXPECT_EQ(SpinQuantPlan::create(p, config).status().message(),
            "R1 (residual stream, hidden_size 48): hadamard rotation needs a power-of-two size (Sylvester), "
            "got size 48; set transform_block_size to a power of two dividing 48 (the largest is 16), or use "
            "transform_type random-hadamard (orders k·2^m) or random-matrix");
  p.transform_block_size = 16;
  p.rotations = {RotationId::kR4};
  config.intermediate_size = 88;
  EXPECT_EQ(SpinQuantPlan::create(p, config).status().message(),
            "R4 (down_proj input, intermediate_size 88): transform_block_size 16 does not divide the rotated size 88");
  p.rotations = {RotationId::kR2};
  config.head_dim = 12;
  config.hidden_size = 72;
  EXPECT_EQ(SpinQuantPlan::create(p, config).status().message(),
            "R2 (per attention head, head_dim 12): hadamard needs a power-of-two head_dim (transform_block_size "
            "does not apply to R2); use transform_type random-hadamard or random-matrix");
  p.transform_type = RotationType::kRandomHadamard;
  config.head_dim = 6;
  EXPECT_EQ(SpinQuantPlan::create(p, config).status().message(),
            "R2 (per attention head, head_dim 6): random-hadamard has no Hadamard matrix of order 6 "
            "(transform_block_size does not apply to R2); use transform_type random-matrix");
  config.num_kv_heads = 4;  // 6 query heads cannot share 4 KV heads
  EXPECT_EQ(SpinQuantPlan::create(p, config).status().message(),
            "R2 (per attention head, head_dim 6): the model has no valid head layout (6 heads, 4 KV heads)");
}

}  // namespace
}  // namespace qb::transforms
