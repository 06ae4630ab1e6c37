// ModelConfig and QuantizationConfig parsing: the tiny fixtures, defaults, and each rejected
// input with its exact message.
#include <gtest/gtest.h>

#include "steps/model/model_config.h"
#include "steps/model/quant_config.h"
#include "test_support.h"

namespace qb::model {
namespace {

using nlohmann::json;
using testing::model_dir;
using testing::read_json;

json tiny_config(const std::string& name) { return read_json(model_dir(name) / "config.json"); }

std::string error_of(const json& j) {
  auto c = ModelConfig::from_json(j, "x/config.json");
  EXPECT_FALSE(c.is_ok());
  return c.is_ok() ? "" : c.status().message();
}

TEST(ModelConfig, ParsesQwen3) {
  auto c = ModelConfig::from_json(tiny_config("qwen3-tiny"));
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->arch, Arch::kQwen3);
  EXPECT_EQ(c->hidden_size, 64);
  EXPECT_EQ(c->intermediate_size, 128);
  EXPECT_EQ(c->num_layers, 2);
  EXPECT_EQ(c->num_heads, 4);
  EXPECT_EQ(c->num_kv_heads, 2);
  EXPECT_EQ(c->kv_groups(), 2);
  EXPECT_EQ(c->head_dim, 16);
  EXPECT_EQ(c->vocab_size, 256);
  EXPECT_DOUBLE_EQ(c->rope.theta, 1e6);
  EXPECT_EQ(c->rope.type, "default");
  EXPECT_TRUE(c->qk_norm);
  EXPECT_FALSE(c->qkv_bias);
  EXPECT_FALSE(c->tie_word_embeddings);
  EXPECT_EQ(c->dtype, at::kFloat);
  EXPECT_EQ(c->bos_token_id, 1);
  EXPECT_EQ(c->eos_token_ids, (std::vector<int64_t>{254, 255}));
}

TEST(ModelConfig, Qwen2AlwaysHasQkvBiasAndNoQkNorm) {
  auto c = ModelConfig::from_json(tiny_config("qwen2-tiny"));
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->arch, Arch::kQwen2);
  EXPECT_TRUE(c->qkv_bias);
  EXPECT_FALSE(c->o_bias);
  EXPECT_FALSE(c->qk_norm);
  EXPECT_TRUE(c->tie_word_embeddings);
  EXPECT_EQ(c->eos_token_ids, (std::vector<int64_t>{255}));
}

TEST(ModelConfig, Llama3RopeScaling) {
  auto c = ModelConfig::from_json(tiny_config("llama-tiny"));
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->rope.type, "llama3");
  EXPECT_DOUBLE_EQ(c->rope.theta, 500000.0);
  EXPECT_DOUBLE_EQ(c->rope.factor, 8.0);
  EXPECT_DOUBLE_EQ(c->rope.low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(c->rope.high_freq_factor, 4.0);
  EXPECT_EQ(c->rope.original_max_position_embeddings, 64);
}

TEST(ModelConfig, OlderRopeThetaAndRopeScalingFields) {
  json j = tiny_config("llama-tiny");
  j.erase("rope_parameters");
  j["rope_theta"] = 500000.0;
  j["rope_scaling"] = {{"type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0}};
  j["torch_dtype"] = "bfloat16";
  j.erase("dtype");
  auto c = ModelConfig::from_json(j);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->rope.type, "llama3");
  // original_max_position_embeddings falls back to max_position_embeddings.
  EXPECT_EQ(c->rope.original_max_position_embeddings, 128);
  EXPECT_EQ(c->dtype, at::kBFloat16);
  j["rope_scaling"] = nullptr;
  c = ModelConfig::from_json(j);
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->rope.type, "default");
}

TEST(ModelConfig, Defaults) {
  json j = tiny_config("qwen3-tiny");
  j.erase("head_dim");
  j.erase("num_key_value_heads");
  j.erase("tie_word_embeddings");
  j.erase("eos_token_id");
  auto c = ModelConfig::from_json(j);
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->head_dim, 16);  // 64 / 4
  EXPECT_EQ(c->num_kv_heads, 4);
  EXPECT_FALSE(c->tie_word_embeddings);
  EXPECT_TRUE(c->eos_token_ids.empty());
}

TEST(ModelConfig, MissingFieldNamesFieldAndFile) {
  json j = tiny_config("qwen3-tiny");
  j.erase("hidden_size");
  EXPECT_EQ(error_of(j), "x/config.json: missing field 'hidden_size'");
  j = tiny_config("qwen3-tiny");
  j.erase("rope_parameters");
  EXPECT_EQ(error_of(j), "x/config.json: missing field 'rope_theta'");
  j = tiny_config("qwen3-tiny");
  j["rms_norm_eps"] = nullptr;
  EXPECT_EQ(error_of(j), "x/config.json: missing field 'rms_norm_eps'");
}

TEST(ModelConfig, RejectsBadValues) {
  json j = tiny_config("qwen3-tiny");
  j["model_type"] = "gpt2";
  EXPECT_EQ(error_of(j),
            "x/config.json: model_type 'gpt2' is not supported (qwen3, qwen2, llama, mistral)");
  j = tiny_config("qwen3-tiny");
  j["hidden_size"] = "64";
  EXPECT_EQ(error_of(j), "x/config.json: field 'hidden_size' must be an integer, got string");
  j = tiny_config("qwen3-tiny");
  j["num_key_value_heads"] = 3;
  EXPECT_EQ(error_of(j), "x/config.json: num_attention_heads (4) is not a multiple of "
                         "num_key_value_heads (3)");
  j = tiny_config("qwen3-tiny");
  j["hidden_act"] = "gelu";
  EXPECT_EQ(error_of(j), "x/config.json: hidden_act 'gelu' is not supported (silu)");
  j = tiny_config("qwen3-tiny");
  j["use_sliding_window"] = true;
  EXPECT_EQ(error_of(j), "x/config.json: use_sliding_window is not supported");
  j = tiny_config("qwen3-tiny");
  j["num_hidden_layers"] = 0;
  EXPECT_EQ(error_of(j), "x/config.json: field 'num_hidden_layers' must be positive, got 0");
  j = tiny_config("qwen3-tiny");
  j["head_dim"] = 15;
  EXPECT_EQ(error_of(j), "x/config.json: head_dim must be positive, even and at most 1024, got 15");
  j = tiny_config("qwen3-tiny");
  j["dtype"] = "int8";
  EXPECT_EQ(error_of(j),
            "x/config.json: unsupported dtype 'int8' (float32, bfloat16, float16)");
  j = tiny_config("qwen3-tiny");
  j["eos_token_id"] = "x";
  EXPECT_EQ(error_of(j), "x/config.json: field 'eos_token_id' must be a token id or a list of "
                         "token ids, got string");
}

TEST(ModelConfig, RejectsUnknownRopeTypes) {
  json j = tiny_config("qwen3-tiny");
  j["rope_parameters"] = {{"rope_type", "yarn"}, {"rope_theta", 1e6}, {"factor", 4.0}};
  EXPECT_EQ(error_of(j), "x/config.json: rope_parameters: rope type 'yarn' is not supported "
                         "(default, llama3)");
  j = tiny_config("llama-tiny");
  j["rope_parameters"].erase("low_freq_factor");
  EXPECT_EQ(error_of(j), "x/config.json: rope_parameters: missing field 'low_freq_factor'");
  j = tiny_config("qwen3-tiny");
  j["rope_parameters"]["partial_rotary_factor"] = 0.5;
  EXPECT_EQ(error_of(j), "x/config.json: rope_parameters: partial_rotary_factor 0.500000 is not "
                         "supported (only 1.0)");
}

TEST(ModelConfig, MistralWithoutSlidingWindowIsLlama) {
  json j = tiny_config("llama-tiny");
  j["model_type"] = "mistral";
  j["sliding_window"] = nullptr;
  auto c = ModelConfig::from_json(j);
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->arch, Arch::kLlama);
  j["sliding_window"] = 4096;
  EXPECT_EQ(error_of(j), "x/config.json: mistral sliding_window attention is not supported");
}

// ---- quantization_config ----

json w8a8_config() {
  return json::parse(R"({"quantization_config": {
    "quant_method": "compressed-tensors", "format": "int-quantized",
    "quantization_status": "compressed", "kv_cache_scheme": null, "sparsity_config": {},
    "ignore": ["lm_head", "re:.*layers\\.1\\..*down_proj$"],
    "config_groups": {"group_0": {"targets": ["Linear"], "format": "int-quantized",
      "weights": {"num_bits": 8, "type": "int", "symmetric": true, "strategy": "channel",
                  "dynamic": false, "group_size": null, "observer": "memoryless_minmax"},
      "input_activations": {"num_bits": 8, "type": "int", "symmetric": true,
                            "strategy": "token", "dynamic": true, "observer": null}}}}})");
}

std::string quant_error(const json& j) {
  auto q = QuantizationConfig::from_model_config(j, "c.json");
  EXPECT_FALSE(q.is_ok());
  return q.is_ok() ? "" : q.status().message();
}

TEST(QuantizationConfig, ParsesW8A8AndMatchesModules) {
  auto q = QuantizationConfig::from_model_config(w8a8_config(), "c.json");
  ASSERT_TRUE(q.is_ok()) << q.status().to_string();
  ASSERT_TRUE(q->has_value());
  const QuantizationConfig& c = **q;
  ASSERT_EQ(c.groups.size(), 1u);
  EXPECT_EQ(c.groups[0].format, "int-quantized");
  ASSERT_TRUE(c.groups[0].weights && c.groups[0].input_activations);
  EXPECT_EQ(c.groups[0].weights->strategy, qmath::Strategy::kChannel);
  EXPECT_EQ(c.groups[0].input_activations->strategy, qmath::Strategy::kToken);
  EXPECT_TRUE(c.groups[0].input_activations->dynamic);
  EXPECT_EQ(*c.group_for("model.layers.0.mlp.down_proj"), &c.groups[0]);
  EXPECT_EQ(*c.group_for("model.layers.1.mlp.down_proj"), nullptr);  // ignored by regex
  EXPECT_EQ(*c.group_for("model.layers.1.mlp.up_proj"), &c.groups[0]);
  EXPECT_EQ(*c.group_for("lm_head"), nullptr);
}

TEST(QuantizationConfig, AbsentOrTransformOnlyMeansDense) {
  auto none = QuantizationConfig::from_model_config(json::object(), "c.json");
  ASSERT_TRUE(none.is_ok());
  EXPECT_FALSE(none->has_value());
  json transform_only = {{"quantization_config",
                          {{"quant_method", "compressed-tensors"},
                           {"transform_config", {{"config_groups", json::object()}}}}}};
  auto t = QuantizationConfig::from_model_config(transform_only, "c.json");
  ASSERT_TRUE(t.is_ok());
  EXPECT_FALSE(t->has_value());
}

TEST(QuantizationConfig, TargetMatchingFollowsPythonReMatch) {
  EXPECT_TRUE(*matches_target("model.layers.0.mlp.down_proj", "Linear"));
  EXPECT_TRUE(*matches_target("model.layers.0.mlp.down_proj", "re:.*down_proj$"));
  EXPECT_TRUE(*matches_target("model.layers.0.mlp.down_proj", "re:model"));  // prefix match
  EXPECT_FALSE(*matches_target("model.layers.0.mlp.down_proj", "re:layers"));  // anchored
  EXPECT_TRUE(*matches_target("lm_head", "lm_head"));
  EXPECT_FALSE(*matches_target("model.lm_head", "lm_head"));
  auto bad = matches_target("x", "re:([");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().message().rfind("invalid regular expression 're:([': ", 0), 0u);
}

TEST(QuantizationConfig, RejectsWhatCannotBeLoaded) {
  json j = w8a8_config();
  j["quantization_config"]["quant_method"] = "gptq";
  EXPECT_EQ(quant_error(j), "c.json: quantization_config: quant_method 'gptq' is not supported "
                            "(compressed-tensors)");
  j = w8a8_config();
  j["quantization_config"]["quantization_status"] = "frozen";
  EXPECT_EQ(quant_error(j), "c.json: quantization_config: quantization_status 'frozen' is not "
                            "supported (compressed)");
  j = w8a8_config();
  j["quantization_config"]["kv_cache_scheme"] = {{"num_bits", 8}};  // type int by default
  EXPECT_EQ(quant_error(j), "c.json: quantization_config: kv_cache_scheme: only static fp8 (type "
                            "float, num_bits 8) per tensor or per attention head is supported");
  j = w8a8_config();
  j["quantization_config"]["config_groups"]["group_0"]["weights"]["type"] = "float";
  j["quantization_config"]["config_groups"]["group_0"]["weights"]["num_bits"] = 4;
  EXPECT_EQ(quant_error(j), "c.json: quantization_config: config_groups.group_0.weights: type "
                            "'float' with num_bits 4 is not supported (fp8 e4m3: num_bits 8)");
  j = w8a8_config();
  j["quantization_config"]["config_groups"]["group_0"]["output_activations"] = {{"num_bits", 8}};
  EXPECT_EQ(quant_error(j), "c.json: quantization_config: config_groups.group_0: "
                            "output_activations are not supported");
  j = w8a8_config();
  j["quantization_config"]["config_groups"]["group_1"] =
      j["quantization_config"]["config_groups"]["group_0"];
  j["quantization_config"]["config_groups"]["group_1"]["targets"] = {"re:.*q_proj$"};
  auto q = QuantizationConfig::from_model_config(j, "c.json");
  ASSERT_TRUE(q.is_ok());
  auto both = (*q)->group_for("model.layers.0.self_attn.q_proj");
  ASSERT_FALSE(both.is_ok());
  EXPECT_EQ(both.status().message(), "quantization_config: module "
                                     "'model.layers.0.self_attn.q_proj' matches config groups "
                                     "'group_0' and 'group_1'");
}

TEST(QuantizationConfig, StrategyDefaultsFollowCompressedTensors) {
  auto a = parse_quant_args(json{{"num_bits", 4}, {"group_size", 32}}, "w");
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->strategy, qmath::Strategy::kGroup);
  auto b = parse_quant_args(json{{"num_bits", 8}}, "w");
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(b->strategy, qmath::Strategy::kTensor);
  EXPECT_TRUE(b->symmetric);
}

TEST(ModelConfig, SizesAboveTheBoundsAreRejectedBeforeAnythingIsSizedFromThem) {
  // A vocab_size of 1e12 (written as a float, as a corrupt file might) would size a 1e12-row
  // embedding; every bounded field is refused with its value and the limit.
  json j = tiny_config("qwen3-tiny");
  j["vocab_size"] = 1e12;
  EXPECT_EQ(error_of(j), "x/config.json: field 'vocab_size' is 1000000000000, above qbuild's limit "
                         "of 4194304 (no released model comes near it; a corrupt config.json?)");
  for (auto [field, limit] : {std::pair{"hidden_size", kMaxHiddenSize},
                              {"intermediate_size", kMaxIntermediateSize},
                              {"num_hidden_layers", kMaxLayers},
                              {"num_attention_heads", kMaxHeads},
                              {"max_position_embeddings", kMaxPositionEmbeddings}}) {
    j = tiny_config("qwen3-tiny");
    j[field] = limit + 1;
    EXPECT_NE(error_of(j).find(std::string("field '") + field + "' is " + std::to_string(limit + 1) +
                               ", above qbuild's limit of " + std::to_string(limit)),
              std::string::npos)
        << field;
    j[field] = limit;  // the bound itself is allowed (other checks may still object)
    auto c = ModelConfig::from_json(j, "x/config.json");
    EXPECT_TRUE(c.is_ok() || c.status().message().find("above qbuild's limit") == std::string::npos)
        << field << ": " << c.status().message();
  }
  j = tiny_config("qwen3-tiny");
  j["head_dim"] = 2048;
  EXPECT_EQ(error_of(j), "x/config.json: head_dim must be positive, even and at most 1024, got 2048");
}

TEST(ModelConfig, NormEpsilonAndRopeThetaMustBeSane) {
  json j = tiny_config("qwen3-tiny");
  j["rms_norm_eps"] = 2.0;
  EXPECT_EQ(error_of(j), "x/config.json: rms_norm_eps must be in (0, 1), got 2.000000");
  j = tiny_config("qwen3-tiny");
  j["rope_parameters"]["rope_theta"] = -1.0;
  EXPECT_EQ(error_of(j), "x/config.json: rope_theta must be a positive number, got -1.000000");
}

}  // namespace
}  // namespace qb::model
