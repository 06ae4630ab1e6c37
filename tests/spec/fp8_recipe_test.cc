// FP8 recipes in the spec layer: the presets (compressed-tensors 0.19 FP8, FP8_DYNAMIC,
// FP8_BLOCK), their canonical JSON (block_structure and kv_cache_scheme appear only when used,
// so int recipes keep their keys), the round trip, and the rules of spec/fp8_rules.h at their
// field paths.
#include <gtest/gtest.h>

#include <functional>

#include "spec/fp8_rules.h"
#include "spec/quant_recipe.h"

namespace qb::spec {
namespace {

using nlohmann::json;

QuantRecipe preset(const char* name) {
  QuantRecipe r;
  r.groups = {preset_group(*find_scheme(name), {"Linear"})};
  r.ignore = {"lm_head"};
  return r;
}

std::vector<std::string> errors(const QuantRecipe& r) {
  Issues issues;
  r.validate(issues);
  std::vector<std::string> out;
  for (const auto& i : issues.all())
    if (i.error) out.push_back(i.path + ": " + i.message);
  return out;
}

TEST(Fp8Presets, AreCompressedTensorsSchemes) {
  const SchemePreset* fp8 = find_scheme("fp8");  // case-insensitive, as preset_name_to_scheme
  ASSERT_NE(fp8, nullptr);
  EXPECT_EQ(fp8->weights.type, QuantType::kFloat);
  EXPECT_EQ(fp8->weights.strategy, Strategy::kTensor);
  EXPECT_EQ(fp8->input_activations->strategy, Strategy::kTensor);
  EXPECT_FALSE(fp8->input_activations->dynamic);
  EXPECT_EQ(fp8->input_activations->observer, ObserverKind::kStaticMinMax);

  const SchemePreset* dyn = find_scheme("FP8_DYNAMIC");
  EXPECT_EQ(dyn->weights.strategy, Strategy::kChannel);
  EXPECT_EQ(dyn->input_activations->strategy, Strategy::kToken);
  EXPECT_TRUE(dyn->input_activations->dynamic);
  EXPECT_EQ(dyn->input_activations->type, QuantType::kFloat);

  const SchemePreset* block = find_scheme("FP8_BLOCK");
  EXPECT_EQ(block->weights.strategy, Strategy::kBlock);
  EXPECT_EQ(block->weights.block_structure, (std::array<std::int64_t, 2>{128, 128}));
  EXPECT_EQ(block->input_activations->strategy, Strategy::kGroup);
  EXPECT_EQ(block->input_activations->group_size, 128);
  EXPECT_TRUE(block->input_activations->dynamic);
  for (const char* name : {"FP8_DYNAMIC", "FP8_BLOCK"}) EXPECT_EQ(errors(preset(name)), std::vector<std::string>{}) << name;
  QuantRecipe st = preset("FP8");
  st.calibration = CalibrationSpec{};
  EXPECT_EQ(errors(st), std::vector<std::string>{});
}

TEST(Fp8Recipe, CanonicalJsonSpellsTheFormat) {
  QuantRecipe r = preset("FP8_BLOCK");
  const json j = r.to_json();
  const json& w = j["config_groups"]["group_0"]["weights"];
  EXPECT_EQ(w["type"], "float");
  EXPECT_EQ(w["strategy"], "block");
  EXPECT_EQ(w["block_structure"], json::array({128, 128}));
  EXPECT_EQ(w["scale_rule"], "absmax/448");
  EXPECT_FALSE(j["config_groups"]["group_0"]["input_activations"].contains("block_structure"));
  EXPECT_FALSE(j.contains("kv_cache_scheme"));
  // An int recipe's JSON is unchanged by the new fields (its node keys stay the same).
  QuantRecipe w8a8 = preset("W8A8");
  EXPECT_FALSE(w8a8.to_json()["config_groups"]["group_0"]["weights"].contains("block_structure"));
}

TEST(Fp8Recipe, RoundTripsWithAKvCacheScheme) {
  QuantRecipe r = preset("FP8_BLOCK");
  r.modifier = Modifier::kGptq;
  QuantArgs kv;
  kv.type = QuantType::kFloat;
  kv.strategy = Strategy::kAttnHead;
  r.kv_cache_scheme = kv;
  r.calibration = CalibrationSpec{"txt", 8, 32, 1};
  EXPECT_TRUE(r.needs_calibration());
  const json j = r.to_json();
  EXPECT_TRUE(j["kv_cache_scheme"]["observer"].is_null());  // llm-compressor's default: minmax
  auto back = QuantRecipe::from_json(j);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string() << "\n" << j.dump(2);
  EXPECT_EQ(*back, r);
  EXPECT_EQ(back->to_json(), j);
}

TEST(Fp8Recipe, AKvCacheSchemeNeedsCalibration) {
  QuantRecipe r = preset("FP8_DYNAMIC");
  QuantArgs kv;
  kv.type = QuantType::kFloat;
  r.kv_cache_scheme = kv;
  EXPECT_EQ(errors(r), (std::vector<std::string>{
                           "calibration: the KV-cache scheme needs calibration data: add a "
                           "'calibration' section with a 'source'"}));
}

TEST(Fp8Rules, EachRuleAtItsField) {
  struct Case {
    const char* name;
    std::function<void(QuantRecipe&)> edit;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"static per-group activations",
       [](QuantRecipe& r) {
         auto& a = *r.groups[0].input_activations;
         a.dynamic = false;
         a.strategy = Strategy::kGroup;
         a.group_size = 128;
         a.observer = ObserverKind::kStaticMinMax;
         r.calibration = CalibrationSpec{};
       },
       "config_groups.group_0.input_activations.strategy: vLLM loads static fp8 input activations "
       "only per tensor, not per group; use 'strategy: tensor'"},
      {"mse weights", [](QuantRecipe& r) { r.groups[0].weights.observer = ObserverKind::kMemorylessMse; },
       "config_groups.group_0.weights.observer: the mse observer is not implemented for fp8 weights; use "
       "memoryless_minmax"},
      {"block structure without block strategy",
       [](QuantRecipe& r) { r.groups[0].weights.block_structure = {128, 128}; },
       "config_groups.group_0.weights.block_structure: Block structure requires block strategy"},
      {"non-positive block", [](QuantRecipe& r) {
         r.groups[0].weights.strategy = Strategy::kBlock;
         r.groups[0].weights.block_structure = {0, 128};
       },
       "config_groups.group_0.weights.block_structure: Invalid block_structure '[0, 128]'. Must be a "
       "list of positive ints [rows, cols]."},
      {"int block weights", [](QuantRecipe& r) {
         r.groups = {preset_group(*find_scheme("W8A8"), {"Linear"})};
         r.groups[0].weights.strategy = Strategy::kBlock;
         r.groups[0].weights.block_structure = {128, 128};
       },
       "config_groups.group_0.weights.strategy: strategy 'block' is for fp8 weights ('type: float') only"},
      {"kv mse", [](QuantRecipe& r) {
         QuantArgs kv;
         kv.type = QuantType::kFloat;
         kv.observer = ObserverKind::kMse;
         r.kv_cache_scheme = kv;
         r.calibration = CalibrationSpec{};
       },
       "kv_cache_scheme.observer: the mse observer is not implemented for the KV cache; use minmax, "
       "static_minmax or memoryless_minmax"},
  };
  for (const auto& c : cases) {
    QuantRecipe r = preset("FP8_DYNAMIC");
    c.edit(r);
    auto e = errors(r);
    ASSERT_FALSE(e.empty()) << c.name;
    EXPECT_EQ(e.front(), c.error) << c.name;
  }
}

}  // namespace
}  // namespace qb::spec
