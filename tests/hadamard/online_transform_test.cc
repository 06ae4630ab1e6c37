// Reading online transforms from a checkpoint's transform_config the way vLLM does: only
// input/output locations, compressed-tensors' target matching, weight names, and errors.
#include "steps/hadamard/online_transform.h"

#include <gtest/gtest.h>

namespace qb::hadamard {
namespace {

// What llm-compressor's SpinQuantModifier(rotations=[R1, R4], transform_type=random-hadamard,
// transform_block_size=32) writes (compressed-tensors 0.19.0 TransformConfig.model_dump()).
const char* kConfig = R"({
  "architectures": ["Qwen3ForCausalLM"],
  "quantization_config": {
    "quant_method": "compressed-tensors", "sparsity_config": {}, "version": "0.19.0",
    "transform_config": {"config_groups": {
      "R1": {"type": "random-hadamard", "head_dim": 32, "precision": "torch.float64",
             "randomize": false, "requires_grad": false,
             "apply": [{"targets": ["re:.*embed_tokens$", "re:.*o_proj$", "re:.*down_proj$"],
                        "location": "weight_output", "inverse": false, "ignore": []},
                       {"targets": ["re:.*q_proj$", "lm_head"], "location": "weight_input",
                        "inverse": true, "ignore": []}]},
      "R4": {"type": "random-hadamard", "head_dim": 32, "precision": "torch.float64",
             "randomize": false, "requires_grad": false,
             "apply": [{"targets": ["re:.*down_proj$"], "location": "input", "inverse": false,
                        "ignore": ["model.layers.1.mlp.down_proj"]},
                       {"targets": ["re:.*down_proj$"], "location": "weight_input", "inverse": true,
                        "ignore": []}]}}}}})";

TEST(OnlineTransform, ReadsOnlyTheOnlineArgs) {
  auto t = online_transforms(nlohmann::json::parse(kConfig));
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  ASSERT_EQ(t->size(), 1u);
  const auto& r4 = (*t)[0];
  EXPECT_EQ(r4.group, "R4");
  EXPECT_EQ(r4.type, RotationType::kRandomHadamard);
  EXPECT_EQ(r4.head_dim, 32);
  EXPECT_EQ(r4.location, "input");
  EXPECT_FALSE(r4.inverse);
  EXPECT_TRUE(r4.applies_to("model.layers.0.mlp.down_proj"));
  EXPECT_FALSE(r4.applies_to("model.layers.1.mlp.down_proj"));  // ignored
  EXPECT_FALSE(r4.applies_to("model.layers.0.mlp.down_proj.extra"));
  EXPECT_FALSE(r4.applies_to("model.layers.0.mlp.up_proj"));
  EXPECT_EQ(r4.weight_name("model.layers.0.mlp.down_proj"), "model.layers.0.mlp.down_proj.R4_input.weight");
}

TEST(OnlineTransform, NoTransformConfigMeansNoTransforms) {
  EXPECT_TRUE(online_transforms(nlohmann::json::parse(R"({"hidden_size": 8})"))->empty());
  EXPECT_TRUE(online_transforms(nlohmann::json::parse(
                  R"({"quantization_config": {"quant_method": "compressed-tensors", "transform_config": {}}})"))
                  ->empty());
}

TEST(OnlineTransform, TargetsMatchLikeCompressedTensors) {
  EXPECT_TRUE(target_matches("re:.*down_proj$", "model.layers.3.mlp.down_proj", "Linear"));
  EXPECT_TRUE(target_matches("re:model", "model.layers.3.mlp.down_proj", "Linear"));  // re.match: prefix
  EXPECT_FALSE(target_matches("re:layers", "model.layers.3.mlp.down_proj", "Linear"));
  EXPECT_TRUE(target_matches("lm_head", "lm_head", "Linear"));
  EXPECT_TRUE(target_matches("Linear", "model.layers.0.self_attn.q_proj", "Linear"));
  EXPECT_FALSE(target_matches("re:(", "x", "Linear"));  // a bad regex matches nothing
}

TEST(OnlineTransform, MalformedConfigsNameTheGroup) {
  auto bad = [](const char* groups) {
    return online_transforms(nlohmann::json::parse(
               std::string(R"({"quantization_config": {"transform_config": {"config_groups": )") + groups + "}}}"))
        .status()
        .message();
  };
  EXPECT_EQ(bad(R"({"R4": {"type": "dct", "apply": []}})"),
            "config.json quantization_config.transform_config.config_groups.R4: unknown transform_type 'dct' "
            "(expected hadamard, random-hadamard or random-matrix)");
  EXPECT_EQ(bad(R"({"R3": {"type": "hadamard", "apply": [{"targets": ["re:.*self_attn$"], "location": "q_attn"}]}})"),
            "config.json quantization_config.transform_config.config_groups.R3.apply[0]: online location "
            "'q_attn' is not supported (only input and output)");
  EXPECT_EQ(bad(R"({"R4": {"type": "hadamard", "head_dim": 0, "apply": []}})"),
            "config.json quantization_config.transform_config.config_groups.R4.head_dim: expected a positive "
            "integer or null");
  EXPECT_EQ(bad(R"({"R4": {"type": "hadamard", "apply": [{"targets": [3], "location": "input"}]}})"),
            "config.json quantization_config.transform_config.config_groups.R4.apply[0].targets: expected a "
            "string or a list of strings");
  EXPECT_EQ(online_transforms(nlohmann::json::parse(R"({"quantization_config": {"transform_config": [1]}})"))
                .status()
                .message(),
            "config.json quantization_config.transform_config: expected an object with config_groups");
}

}  // namespace
}  // namespace qb::hadamard
