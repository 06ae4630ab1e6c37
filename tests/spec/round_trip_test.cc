// Each spec's canonical JSON is a faithful, strict serialization: from_json(to_json(x)) == x,
// to_json(from_json(j)) == j, and anything else than exactly the canonical fields is an error
// naming the field (a step never defaults what the key did not hash).
#include <gtest/gtest.h>

#include "spec/eval_spec.h"
#include "spec/project.h"
#include "spec/quant_recipe.h"
#include "spec/smooth_spec.h"
#include "spec/spinquant.h"

namespace qb::spec {
namespace {

using nlohmann::json;

template <typename T>
void expect_round_trip(const T& x) {
  const json j = x.to_json();
  auto back = T::from_json(j);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string() << "\n" << j.dump(2);
  EXPECT_EQ(*back, x) << j.dump(2);
  EXPECT_EQ(back->to_json(), j);
}

QuantRecipe gptq_static() {
  QuantRecipe r;
  r.modifier = Modifier::kGptq;
  ConfigGroup g = preset_group(*find_scheme("W8A8"), {"Linear", "re:.*proj$"});
  g.weights.actorder = ActOrder::kWeight;
  QuantArgs acts;
  acts.observer = ObserverKind::kMse;
  acts.observer_options.grid = 50;
  g.input_activations = acts;
  r.groups = {g};
  r.ignore = {"lm_head", "re:.*down_proj$"};
  r.block_size = 64;
  r.dampening_frac = 0.05;
  r.calibration = CalibrationSpec{"jsonl", 16, 256, 7};
  r.device = "cuda";
  r.compute_dtype = "bfloat16";
  return r;
}

TEST(RoundTrip, QuantRecipeOfEveryPreset) {
  for (const auto& p : scheme_presets()) {
    SCOPED_TRACE(std::string(p.name));
    QuantRecipe r;
    r.groups = {preset_group(p, {"Linear"})};
    r.ignore = {"lm_head"};
    expect_round_trip(r);
  }
}

TEST(RoundTrip, GptqRecipeWithCalibrationObserverKwargsAndActorder) { expect_round_trip(gptq_static()); }

// [SmoothQuantModifier, AWQModifier, GPTQModifier]: every stage field off its default.
QuantRecipe staged() {
  QuantRecipe r = gptq_static();
  r.groups[0].input_activations.reset();
  SmoothQuantStage sq;
  sq.smoothing_strength = 0.8;
  sq.ignore = {"re:.*layers\\.0\\..*"};
  AwqStage awq;
  awq.mappings.erase(awq.mappings.begin() + 1);  // no v_proj -> o_proj
  awq.duo_scaling = DuoScaling::kBoth;
  awq.n_grid = 10;
  r.stages = {sq, awq};
  return r;
}

TEST(RoundTrip, RecipeWithSmoothingStages) { expect_round_trip(staged()); }

TEST(RoundTrip, SmoothSpecOfARecipe) {
  const QuantRecipe r = staged();
  auto s = SmoothSpec::of(r);
  ASSERT_TRUE(s.has_value());
  expect_round_trip(*s);
  EXPECT_EQ(s->stages, r.stages);
  EXPECT_EQ(s->calibration, *r.calibration);
  ASSERT_TRUE(s->quantization.has_value());  // an AWQ stage: the weights it searches for
  EXPECT_EQ(s->quantization->ignore, r.ignore);
  // Without AWQ, the smoothing depends on nothing of the quantization stage.
  QuantRecipe only_sq = r;
  only_sq.stages.pop_back();
  EXPECT_FALSE(SmoothSpec::of(only_sq)->quantization.has_value());
  EXPECT_FALSE(SmoothSpec::of(gptq_static()).has_value());
}

// What the quant node after a smooth node hashes: a GPTQ edit changes it and not the smooth
// node's key; an edit of the activations or GPTQ fields does not change the AWQ node's either.
TEST(Canonical, AGptqEditChangesTheQuantStageNotTheSmoothSpec) {
  QuantRecipe a = staged(), b = staged();
  b.block_size = 32;
  b.dampening_frac = 0.1;
  b.groups[0].weights.actorder = ActOrder::kNone;
  b.groups[0].weights.observer = ObserverKind::kMemorylessMse;
  EXPECT_EQ(SmoothSpec::of(a)->to_json(), SmoothSpec::of(b)->to_json());
  EXPECT_NE(a.quantization_stage().to_json(), b.quantization_stage().to_json());
  b = staged();
  b.groups[0].weights.symmetric = false;  // AWQ's search depends on it
  EXPECT_NE(SmoothSpec::of(a)->to_json(), SmoothSpec::of(b)->to_json());
  EXPECT_FALSE(a.quantization_stage().to_json().contains("stages"));
}

TEST(Canonical, StagesAreAbsentWithoutSmoothingAndStrictWithIt) {
  EXPECT_FALSE(gptq_static().to_json().contains("stages"));
  json j = staged().to_json();
  j["stages"][1]["n_grids"] = 3;
  EXPECT_EQ(QuantRecipe::from_json(j).status().message(), "quant recipe: stages[1].n_grids: unknown field");
  j = staged().to_json();
  j["stages"][0]["mappings"][0].erase("balance_layers");
  EXPECT_EQ(QuantRecipe::from_json(j).status().message(),
            "quant recipe: stages[0].mappings[0].balance_layers: missing");
  j = staged().to_json();
  j["stages"][1]["duo_scaling"] = "yes";
  EXPECT_EQ(QuantRecipe::from_json(j).status().message(),
            "quant recipe: stages[1].duo_scaling: expected true, false or \"both\"");
  j["stages"] = json::array();
  EXPECT_EQ(QuantRecipe::from_json(j).status().message(),
            "quant recipe: stages: expected a non-empty list (absent when there are none)");
}

TEST(RoundTrip, SpinQuantParams) {
  SpinQuantParams p;
  expect_round_trip(p);
  p.rotations = {RotationId::kR1, RotationId::kR4};
  p.transform_type = RotationType::kRandomMatrix;
  p.seed = 12;
  p.transform_block_size = 128;
  p.center_embeddings = true;
  p.device = "cuda";
  expect_round_trip(p);
}

TEST(RoundTrip, EquivalenceCheck) {
  EquivalenceCheck e;
  expect_round_trip(e);
  e.max_rel_error = 0.5;
  e.prompts = {"a", "b"};
  expect_round_trip(e);
}

TEST(RoundTrip, EvalSpecs) {
  SampleSpec s;
  s.datasets = {SampleSpec::dataset_defaults("mmlu"), SampleSpec::dataset_defaults("gsm8k")};
  s.datasets[0].subset_list = {"virology", "anatomy"};
  s.datasets[0].tags = {"a", "b"};
  s.datasets[1].weight = 2.5;
  s.datasets[1].format = "parquet";
  s.total_samples = 30;
  s.mode = "loglikelihood";
  s.enable_thinking = true;
  expect_round_trip(s);
  GenerateSpec g;
  g.max_new_tokens = {{"gsm8k", 7}, {"mmlu", 9}};
  g.batch_size = 3;
  g.logits = "compare";
  g.device = "cuda";
  g.compute_dtype = "bfloat16";
  expect_round_trip(g);
  g.batching = "continuous";
  expect_round_trip(g);
  g.data_parallel = 4;
  expect_round_trip(g);
  ScoreSpec sc;
  sc.strip_thinking = false;
  sc.fidelity = false;
  expect_round_trip(sc);
}

TEST(RoundTrip, ProjectSpec) {
  ProjectSpec p;
  p.devices = {0, 3};
  p.device = "cuda";
  p.compute_dtype = "bfloat16";
  p.jobs = 4;
  p.cpu_threads = 2;
  expect_round_trip(p);
}

TEST(Canonical, AMissingFieldIsAnErrorNotADefault) {
  json j = gptq_static().to_json();
  j["config_groups"]["group_0"]["weights"].erase("observer");
  EXPECT_EQ(QuantRecipe::from_json(j).status().message(),
            "quant recipe: config_groups.group_0.weights.observer: missing");
  json g = GenerateSpec().to_json();
  g.erase("compute_dtype");
  EXPECT_EQ(GenerateSpec::from_json(g).status().message(), "generate spec: compute_dtype: missing");
}

TEST(Canonical, StaticBatchingLeavesTheGenerateSpecAsBefore) {
  // Keys made before continuous batching existed stay valid: "batching" appears only when set.
  GenerateSpec g;
  EXPECT_FALSE(g.to_json().contains("batching"));
  g.batching = "continuous";
  EXPECT_EQ(g.to_json()["batching"], "continuous");
  EXPECT_NE(GenerateSpec().to_json(), g.to_json());
}

TEST(Canonical, OneProcessLeavesTheGenerateSpecAsBeforeAndNWorkersChangeTheKey) {
  // data_parallel appears only when > 1 (older keys stay); N is hashed because each worker's
  // batches, and so the low bits of the logits, depend on N (eval_spec.h).
  GenerateSpec g;
  EXPECT_FALSE(g.to_json().contains("data_parallel"));
  g.data_parallel = 2;
  EXPECT_EQ(g.to_json()["data_parallel"], 2);
  EXPECT_NE(GenerateSpec().to_json(), g.to_json());
  Issues issues;
  g.data_parallel = 0;
  g.validate(issues);
  ASSERT_EQ(issues.error_count(), 1);
  EXPECT_EQ(issues.to_status("generate spec").message(), "generate spec: data_parallel: 'data_parallel' must be in [1, 1024], got 0");
}

TEST(Canonical, TheSharedChoicePrefillIsKeyedOnlyWhereSet) {
  GenerateSpec g;
  EXPECT_FALSE(g.to_json().contains("choice_prefill"));
  g.shared_choice_prefill = true;
  EXPECT_EQ(g.to_json()["choice_prefill"], "shared");
  auto back = GenerateSpec::from_json(g.to_json());
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_TRUE(back->shared_choice_prefill);
  auto j = g.to_json();
  j["choice_prefill"] = "per-choice";
  EXPECT_FALSE(GenerateSpec::from_json(j).is_ok());
}

TEST(Canonical, GpqaShuffleSeedsAreKeyedOnlyWhenGiven) {
  // Absent for evalscope's single order, so the keys of existing evals stay; a list is kept in
  // its order and round-trips.
  SampleSpec s;
  s.datasets = {SampleSpec::dataset_defaults("gpqa_diamond")};
  s.total_samples = 5;
  EXPECT_FALSE(s.to_json()["datasets"][0].contains("shuffle_seeds"));
  SampleSpec t = s;
  t.datasets[0].shuffle_seeds = std::vector<std::int64_t>{2, 0, 1};
  EXPECT_EQ(t.to_json()["datasets"][0]["shuffle_seeds"], json::parse("[2, 0, 1]"));
  EXPECT_NE(s.to_json(), t.to_json());
  expect_round_trip(t);
  json j = t.to_json();
  j["datasets"][0]["shuffle_seeds"] = json::parse(R"([1, "2"])");
  EXPECT_EQ(SampleSpec::from_json(j).status().message(),
            "sample spec: datasets[0].shuffle_seeds[1]: expected an integer, got \"2\"");
}

TEST(Canonical, UnknownFieldsAndWrongTypesNameTheField) {
  json j = gptq_static().to_json();
  j["calibration"]["sede"] = 1;
  EXPECT_EQ(QuantRecipe::from_json(j).status().message(), "quant recipe: calibration.sede: unknown field");
  j = gptq_static().to_json();
  j["block_size"] = "64";
  EXPECT_EQ(QuantRecipe::from_json(j).status().message(),
            "quant recipe: block_size: expected an integer, got \"64\"");
  json s = SampleSpec().to_json();
  s["datasets"] = json::array({{{"name", "mmlu"}}});
  EXPECT_EQ(SampleSpec::from_json(s).status().message(), "sample spec: datasets[0].weight: missing");
}

TEST(Canonical, RtnRecipesCarryNoGptqFields) {
  QuantRecipe r;
  r.groups = {preset_group(*find_scheme("W4A16"), {"Linear"})};
  json j = r.to_json();
  EXPECT_FALSE(j.contains("block_size"));
  EXPECT_FALSE(j["config_groups"]["group_0"]["weights"].contains("actorder"));
  j["block_size"] = 128;
  EXPECT_EQ(QuantRecipe::from_json(j).status().message(), "quant recipe: block_size: unknown field");
}

TEST(Canonical, ScaleRuleMustBeTheArgsRule) {
  json j = gptq_static().to_json();
  j["config_groups"]["group_0"]["weights"]["scale_rule"] = "absmax/127";
  EXPECT_EQ(QuantRecipe::from_json(j).status().message(),
            "quant recipe: config_groups.group_0.weights.scale_rule: 'absmax/127' is not the rule of these "
            "args ('absmax/((2^bits-1)/2)')");
}

}  // namespace
}  // namespace qb::spec
