// recipe_from_json: the config layer's canonical params, llm-compressor spellings, presets, and
// one test per validation message.
#include "steps/quant/recipe.h"

#include <gtest/gtest.h>

namespace qb::quant {
namespace {

using nlohmann::json;

json w8a8_static() {
  return json::parse(R"J({
    "modifier": "QuantizationModifier",
    "config_groups": {"group_0": {"targets": ["Linear"],
      "weights": {"num_bits": 8, "type": "int", "symmetric": true, "strategy": "channel",
                  "group_size": null, "dynamic": false, "observer": "memoryless_minmax",
                  "observer_kwargs": {}, "scale_rule": "absmax/((2^bits-1)/2)",
                  "rounding": "half_even"},
      "input_activations": {"num_bits": 8, "type": "int", "symmetric": true, "strategy": "tensor",
                  "group_size": null, "dynamic": false, "observer": "static_minmax",
                  "observer_kwargs": {}, "scale_rule": "absmax/((2^bits-1)/2)",
                  "rounding": "half_even"}}},
    "ignore": ["lm_head"], "save_compressed": true,
    "calibration": {"source_kind": "txt", "num_samples": 128, "seq_len": 512, "seed": 3}})J");
}

std::string error_of(const json& j) {
  auto r = recipe_from_json(j);
  return r.is_ok() ? "ok" : r.status().message();
}

TEST(Recipe, ReadsCanonicalParams) {
  auto r = recipe_from_json(w8a8_static());
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->modifier, Modifier::kRtn);
  ASSERT_EQ(r->groups.size(), 1u);
  const auto& g = r->groups[0];
  EXPECT_EQ(g.name, "group_0");
  EXPECT_EQ(g.weights.strategy, qmath::Strategy::kChannel);
  ASSERT_TRUE(g.input_activations);
  EXPECT_EQ(g.input_activations->observer, qmath::ObserverKind::kStaticMinMax);
  EXPECT_EQ(r->ignore, std::vector<std::string>{"lm_head"});
  EXPECT_TRUE(r->needs_calibration());
  ASSERT_TRUE(r->calibration);
  EXPECT_EQ(r->calibration->num_samples, 128);
  EXPECT_EQ(r->calibration->seq_len, 512);
  EXPECT_EQ(r->calibration->seed, 3u);
}

TEST(Recipe, PresetW8A8) {
  auto r = recipe_from_json({{"modifier", "QuantizationModifier"}, {"scheme", "w8a8"},
                             {"ignore", {"lm_head"}}});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const auto& g = r->groups[0];
  EXPECT_EQ(g.targets, std::vector<std::string>{"Linear"});
  EXPECT_EQ(g.weights.strategy, qmath::Strategy::kChannel);
  EXPECT_EQ(g.weights.num_bits, 8);
  ASSERT_TRUE(g.input_activations);
  EXPECT_EQ(g.input_activations->strategy, qmath::Strategy::kToken);
  EXPECT_TRUE(g.input_activations->dynamic);
  EXPECT_FALSE(r->needs_calibration());
}

TEST(Recipe, PresetsW8A16AndW4A16AreGroup128) {
  for (auto [name, bits] : {std::pair{"W8A16", 8}, std::pair{"W4A16", 4}}) {
    auto r = recipe_from_json({{"modifier", "QuantizationModifier"}, {"scheme", name}});
    ASSERT_TRUE(r.is_ok()) << name;
    EXPECT_EQ(r->groups[0].weights.num_bits, bits);
    EXPECT_EQ(r->groups[0].weights.strategy, qmath::Strategy::kGroup);
    EXPECT_EQ(r->groups[0].weights.group_size, 128);
    EXPECT_FALSE(r->groups[0].input_activations);
  }
}

TEST(Recipe, GptqDefaultsToStaticActorder) {
  auto r = recipe_from_json({{"modifier", "GPTQModifier"}, {"scheme", "W4A16"},
                             {"calibration", {{"source_kind", "jsonl"}}}});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->groups[0].weights.actorder, qmath::ActOrder::kWeight);
  EXPECT_EQ(r->block_size, 128);
  EXPECT_DOUBLE_EQ(r->dampening_frac, 0.01);
  auto off = recipe_from_json({{"modifier", "GPTQModifier"}, {"scheme", "W4A16"},
                               {"actorder", nullptr}, {"calibration", json::object()}});
  ASSERT_TRUE(off.is_ok()) << off.status().to_string();
  EXPECT_EQ(off->groups[0].weights.actorder, qmath::ActOrder::kNone);
}

TEST(Recipe, GroupLevelNullActorderIsHonoured) {
  // Canonical params resolve actorder per group; null there means none.
  auto j = w8a8_static();
  j["modifier"] = "GPTQModifier";
  j["config_groups"]["group_0"]["weights"]["actorder"] = nullptr;
  auto r = recipe_from_json(j);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->groups[0].weights.actorder, qmath::ActOrder::kNone);
}

TEST(Recipe, StrategyInferredFromGroupSize) {
  auto j = w8a8_static();
  auto& w = j["config_groups"]["group_0"]["weights"];
  w.erase("strategy");
  w["group_size"] = -1;
  EXPECT_EQ(recipe_from_json(j)->groups[0].weights.strategy, qmath::Strategy::kChannel);
  w["group_size"] = nullptr;
  EXPECT_EQ(recipe_from_json(j)->groups[0].weights.strategy, qmath::Strategy::kTensor);
}

// ---- one test per message ----

TEST(RecipeErrors, TokenRequiresDynamic) {
  auto j = w8a8_static();
  j["config_groups"]["group_0"]["input_activations"]["strategy"] = "token";
  EXPECT_EQ(error_of(j),
            "recipe: config_groups.group_0.input_activations: strategy token requires dynamic: true");
}

TEST(RecipeErrors, ActivationsNotPerChannel) {
  auto j = w8a8_static();
  j["config_groups"]["group_0"]["input_activations"]["strategy"] = "channel";
  EXPECT_EQ(error_of(j), "recipe: config_groups.group_0.input_activations: input activations "
                         "cannot be quantized per channel; use strategy token (dynamic) or tensor "
                         "(static)");
}

TEST(RecipeErrors, GroupNeedsGroupSize) {
  auto j = w8a8_static();
  j["config_groups"]["group_0"]["weights"]["strategy"] = "group";
  EXPECT_EQ(error_of(j),
            "recipe: config_groups.group_0.weights: strategy group requires group_size > 0");
}

TEST(RecipeErrors, GroupSizeRequiresGroupStrategy) {
  auto j = w8a8_static();
  j["config_groups"]["group_0"]["weights"]["group_size"] = 64;
  EXPECT_EQ(error_of(j), "recipe: config_groups.group_0.weights: group_size requires strategy group");
}

TEST(RecipeErrors, InvalidGroupSize) {
  auto j = w8a8_static();
  j["config_groups"]["group_0"]["weights"]["group_size"] = 0;
  EXPECT_EQ(error_of(j), "recipe: config_groups.group_0.weights: invalid group_size 0: use a "
                         "positive value with strategy group, or -1 for channel");
}

TEST(RecipeErrors, StaticPerTokenNotLoadable) {
  // static per-token is caught as "token requires dynamic"; dynamic per-tensor is not loadable.
  auto j = w8a8_static();
  j["config_groups"]["group_0"]["input_activations"]["dynamic"] = true;
  j["config_groups"]["group_0"]["input_activations"].erase("scale_rule");
  EXPECT_EQ(error_of(j), "recipe: config_groups.group_0.input_activations: vLLM cannot load int8 "
                         "activations quantized dynamic per-tensor; use dynamic per-token or "
                         "static per-tensor");
}

TEST(RecipeErrors, StaticGroupActivationsNotLoadable) {
  auto j = w8a8_static();
  j["config_groups"]["group_0"]["input_activations"]["strategy"] = "group";
  j["config_groups"]["group_0"]["input_activations"]["group_size"] = 128;
  EXPECT_EQ(error_of(j), "recipe: config_groups.group_0.input_activations: vLLM cannot load int8 "
                         "activations quantized static per-group; use static per-tensor or "
                         "dynamic per-token");
}

TEST(RecipeErrors, W8A8NeedsEightBitWeights) {
  auto j = w8a8_static();
  j["config_groups"]["group_0"]["weights"]["num_bits"] = 4;
  EXPECT_EQ(error_of(j),
            "recipe: config_groups.group_0.weights: W8A8 int8 needs 8-bit weights (vLLM)");
}

TEST(RecipeErrors, W8A8NoGroupWeights) {
  auto j = w8a8_static();
  j["config_groups"]["group_0"]["weights"]["strategy"] = "group";
  j["config_groups"]["group_0"]["weights"]["group_size"] = 128;
  EXPECT_EQ(error_of(j), "recipe: config_groups.group_0.weights: vLLM cannot load W8A8 int8 with "
                         "per-group weights; use channel or tensor");
}

TEST(RecipeErrors, AsymmetricActivations) {
  auto j = w8a8_static();
  j["config_groups"]["group_0"]["input_activations"]["symmetric"] = false;
  j["config_groups"]["group_0"]["input_activations"].erase("scale_rule");
  EXPECT_EQ(error_of(j), "recipe: config_groups.group_0.input_activations: asymmetric input "
                         "activations are not supported");
}

TEST(RecipeErrors, WeightOnlyPerTensor) {
  json j = {{"modifier", "QuantizationModifier"},
            {"config_groups", {{"g", {{"targets", {"Linear"}}, {"weights", {{"num_bits", 4}}}}}}}};
  EXPECT_EQ(error_of(j), "recipe: config_groups.g.weights: vLLM cannot load weight-only int "
                         "quantization per tensor; use channel or group");
}

TEST(RecipeErrors, WeightOnlyBits) {
  json j = {{"modifier", "QuantizationModifier"},
            {"config_groups",
             {{"g", {{"targets", {"Linear"}}, {"weights", {{"num_bits", 3}, {"strategy", "channel"}}}}}}}};
  EXPECT_EQ(error_of(j), "recipe: config_groups.g.weights: weight-only quantization supports 4 or "
                         "8 bits (vLLM), got 3");
}

TEST(RecipeErrors, FloatType) {
  auto j = w8a8_static();
  j["config_groups"]["group_0"]["weights"]["type"] = "float";
  EXPECT_EQ(error_of(j), "recipe: config_groups.group_0.weights: type float (fp8) is not "
                         "implemented; use int");
}

TEST(RecipeErrors, UnknownModifierAndKeys) {
  EXPECT_EQ(error_of({{"modifier", "SmoothQuantModifier"}, {"scheme", "W8A8"}}),
            "recipe: unknown modifier 'SmoothQuantModifier' (expected QuantizationModifier or "
            "GPTQModifier)");
  EXPECT_EQ(error_of({{"scheme", "W8A8"}}),
            "recipe: missing 'modifier' (QuantizationModifier or GPTQModifier)");
  auto j = w8a8_static();
  j["config_groups"]["group_0"]["weights"]["stratgy"] = "channel";
  EXPECT_EQ(error_of(j), "recipe: config_groups.group_0.weights: unknown key 'stratgy' (allowed: "
                         "num_bits, type, symmetric, strategy, group_size, dynamic, observer, "
                         "observer_kwargs, scale_rule, rounding, block_structure, scale_dtype, "
                         "zp_dtype, actorder)");
}

TEST(RecipeErrors, SchemeAndGroups) {
  auto j = w8a8_static();
  j["scheme"] = "W8A8";
  EXPECT_EQ(error_of(j), "recipe: give either 'scheme' or 'config_groups', not both");
  EXPECT_EQ(error_of({{"modifier", "QuantizationModifier"}}),
            "recipe: missing 'config_groups' or 'scheme'");
  EXPECT_EQ(error_of({{"modifier", "QuantizationModifier"}, {"scheme", "W2A2"}}),
            "recipe: unknown scheme 'W2A2' (qbuild supports W8A8, W8A16, W4A16)");
}

TEST(RecipeErrors, ActorderRemovedValuesAndConflicts) {
  auto j = w8a8_static();
  j["modifier"] = "GPTQModifier";
  j["config_groups"]["group_0"]["weights"]["actorder"] = "group";
  EXPECT_EQ(error_of(j), "recipe: config_groups.group_0.weights: actorder 'group' was removed in "
                         "compressed-tensors 0.19; use 'weight' or none");
  j["config_groups"]["group_0"]["weights"]["actorder"] = true;
  EXPECT_EQ(error_of(j), "recipe: config_groups.group_0.weights: actorder: true meant 'group', "
                         "which compressed-tensors 0.19 removed; use 'weight' (alias 'static') "
                         "or null");
  j["config_groups"]["group_0"]["weights"]["actorder"] = "weight";
  j["actorder"] = nullptr;
  EXPECT_EQ(error_of(j), "recipe: config_groups.group_0.weights: actorder conflicts with "
                         "GPTQModifier's actorder; set only one of them");
  auto a = w8a8_static();
  a["config_groups"]["group_0"]["input_activations"]["actorder"] = "weight";
  EXPECT_EQ(error_of(a), "recipe: config_groups.group_0.input_activations: actorder cannot be "
                         "applied to input activations");
}

TEST(RecipeErrors, GptqOnlyKeysOnRtn) {
  auto j = w8a8_static();
  j["block_size"] = 64;
  EXPECT_EQ(error_of(j), "recipe: 'block_size' applies to GPTQModifier only");
  auto k = w8a8_static();
  k["config_groups"]["group_0"]["weights"]["actorder"] = "weight";
  EXPECT_EQ(error_of(k),
            "recipe: config_groups.group_0.weights: actorder applies to GPTQModifier only");
}

TEST(RecipeErrors, GptqNumbers) {
  json base = {{"modifier", "GPTQModifier"}, {"scheme", "W8A8"}, {"calibration", json::object()}};
  auto j = base;
  j["dampening_frac"] = 1.5;
  EXPECT_EQ(error_of(j), "recipe: dampening_frac must be in [0, 1)");
  j = base;
  j["block_size"] = 0;
  EXPECT_EQ(error_of(j), "recipe: block_size must be >= 1");
}

TEST(RecipeErrors, CalibrationRequiredAndValidated) {
  auto j = w8a8_static();
  j.erase("calibration");
  EXPECT_EQ(error_of(j), "recipe: static input activations need calibration data: add "
                         "'calibration'");
  EXPECT_EQ(error_of({{"modifier", "GPTQModifier"}, {"scheme", "W8A8"}}),
            "recipe: GPTQModifier need calibration data: add 'calibration'");
  auto k = w8a8_static();
  k["calibration"]["num_samples"] = 0;
  EXPECT_EQ(error_of(k), "recipe: calibration: num_samples must be >= 1");
  k = w8a8_static();
  k["calibration"]["source_kind"] = "csv";
  EXPECT_EQ(error_of(k), "recipe: calibration: source_kind must be txt, jsonl or dataset, got 'csv'");
}

TEST(RecipeErrors, ScaleRuleAndRoundingMustMatchTheImplementation) {
  auto j = w8a8_static();
  j["config_groups"]["group_0"]["weights"]["scale_rule"] = "absmax/127";
  EXPECT_EQ(error_of(j), "recipe: config_groups.group_0.weights: scale_rule 'absmax/127' is not "
                         "what qbuild implements for these args ('absmax/((2^bits-1)/2)')");
  j = w8a8_static();
  j["config_groups"]["group_0"]["weights"]["rounding"] = "half_up";
  EXPECT_EQ(error_of(j), "recipe: config_groups.group_0.weights: rounding 'half_up' is not "
                         "supported (qbuild rounds half_even)");
}

TEST(RecipeErrors, OutputActivationsAndFormat) {
  auto j = w8a8_static();
  j["config_groups"]["group_0"]["output_activations"] = {{"num_bits", 8}};
  EXPECT_EQ(error_of(j),
            "recipe: config_groups.group_0: output activation quantization is not supported");
  j = w8a8_static();
  j["config_groups"]["group_0"]["format"] = "int-quantized";
  EXPECT_EQ(error_of(j), "recipe: config_groups.group_0: 'format' is chosen by qbuild "
                         "(int-quantized or pack-quantized)");
}

TEST(RecipeErrors, ObserverNames) {
  auto j = w8a8_static();
  j["config_groups"]["group_0"]["input_activations"]["observer"] = "histogram";
  EXPECT_EQ(error_of(j), "recipe: config_groups.group_0.input_activations: unknown observer "
                         "'histogram' (expected memoryless_minmax, static_minmax, minmax, "
                         "memoryless_mse or mse)");
}

}  // namespace
}  // namespace qb::quant

namespace qb::quant {
namespace {

TEST(RecipeErrors, OnlyLinearClassTargets) {
  nlohmann::json j = {{"modifier", "QuantizationModifier"}, {"scheme", "W8A8"},
                      {"targets", {"Linear", "Embedding"}}};
  EXPECT_EQ(recipe_from_json(j).status().message(),
            "recipe: config_groups.group_0: target 'Embedding': qbuild quantizes Linear modules "
            "only");
  j["targets"] = {"re:.*proj$", "lm_head", "model.layers.0.mlp.up_proj"};
  EXPECT_TRUE(recipe_from_json(j).is_ok());
}

}  // namespace
}  // namespace qb::quant
