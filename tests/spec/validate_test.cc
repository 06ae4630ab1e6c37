// validate(): each rule of each spec, reported at its canonical field path (the config layer
// maps the path to file:line:col; tests/config asserts the rendered diagnostics).
#include <gtest/gtest.h>

#include <functional>

#include "spec/eval_spec.h"
#include "spec/quant_recipe.h"
#include "spec/spinquant.h"
#include "spec/tasks.h"

namespace qb::spec {
namespace {

template <typename T>
std::string first_error(const T& x) {
  Issues issues;
  x.validate(issues);
  for (const auto& i : issues.all())
    if (i.error) return i.path + ": " + i.message;
  return "ok";
}

QuantRecipe w8a8_static() {
  QuantRecipe r;
  ConfigGroup g = preset_group(*find_scheme("W8A8"), {"Linear"});
  QuantArgs acts;
  acts.observer = ObserverKind::kStaticMinMax;
  g.input_activations = acts;
  r.groups = {g};
  r.calibration = CalibrationSpec{};
  return r;
}

struct Case {
  const char* name;
  std::function<void(QuantRecipe&)> edit;
  const char* error;
};

TEST(ValidateQuantRecipe, EachRuleAtItsField) {
  const std::vector<Case> cases = {
      {"ok", [](QuantRecipe&) {}, "ok"},
      {"class target", [](QuantRecipe& r) { r.groups[0].targets = {"Linear", "Embedding"}; },
       "config_groups.group_0.targets[1]: target 'Embedding': qbuild quantizes Linear modules only"},
      {"bad regex target", [](QuantRecipe& r) { r.groups[0].targets = {"re:(("}; },
       "config_groups.group_0.targets[0]: invalid regular expression 're:((': "},
      {"bad regex ignore", [](QuantRecipe& r) { r.ignore = {"lm_head", "re:[z-a]"}; },
       "ignore[1]: invalid regular expression 're:[z-a]': "},
      {"fp8 weights with int activations", [](QuantRecipe& r) { r.groups[0].weights.type = QuantType::kFloat; },
       "config_groups.group_0.input_activations.type: fp8 weights need fp8 input activations ('type: "
       "float'): vLLM has no compressed-tensors scheme for fp8 weights with int activations"},
      {"3 bits", [](QuantRecipe& r) { r.groups[0].weights.num_bits = 3; },
       "config_groups.group_0.weights.num_bits: num_bits 3 is not supported for int weights (allowed: 4, 8)"},
      {"dynamic weights", [](QuantRecipe& r) { r.groups[0].weights.dynamic = true; },
       "config_groups.group_0.weights.dynamic: dynamic weight quantization is not supported: weights are "
       "quantized once, offline"},
      {"token weights", [](QuantRecipe& r) { r.groups[0].weights.strategy = Strategy::kToken; },
       "config_groups.group_0.weights.strategy: strategy 'token' cannot be applied to weights"},
      {"actorder on RTN", [](QuantRecipe& r) { r.groups[0].weights.actorder = ActOrder::kWeight; },
       "config_groups.group_0.weights.actorder: 'actorder' applies to GPTQModifier only"},
      {"static token acts", [](QuantRecipe& r) { r.groups[0].input_activations->strategy = Strategy::kToken; },
       "config_groups.group_0.input_activations.strategy: strategy 'token' requires 'dynamic: true'"},
      {"asym acts", [](QuantRecipe& r) { r.groups[0].input_activations->symmetric = false; },
       "config_groups.group_0.input_activations.symmetric: asymmetric input activations are not supported; "
       "use 'symmetric: true'"},
      {"W4A8", [](QuantRecipe& r) { r.groups[0].weights.num_bits = 4; },
       "config_groups.group_0.weights.num_bits: vLLM cannot load int8 activations with 4-bit weights; W8A8 "
       "needs 'num_bits: 8' for weights"},
      {"asym weight-only (zero points) is fine",
       [](QuantRecipe& r) {
         r.groups[0].input_activations.reset();
         r.groups[0].weights.symmetric = false;
         r.calibration.reset();
       },
       "ok"},
      {"asym W8A8 weights", [](QuantRecipe& r) { r.groups[0].weights.symmetric = false; },
       "config_groups.group_0.weights.symmetric: vLLM cannot load W8A8 int8 with asymmetric weights; use "
       "'symmetric: true'"},
      {"no calibration", [](QuantRecipe& r) { r.calibration.reset(); },
       "calibration: static input activations need calibration data: add a 'calibration' section with a "
       "'source'"},
      {"calibration too big", [](QuantRecipe& r) { r.calibration->num_samples = 100'000'000; },
       "calibration.num_samples: 'num_samples' must be in [1, 1000000], got 100000000"},
      {"too many tokens",
       [](QuantRecipe& r) {
         r.calibration->num_samples = 1'000'000;
         r.calibration->seq_len = 1'000'000;
       },
       "calibration.num_samples: num_samples × seq_len = 1000000000000 tokens is more than qbuild calibrates on "
       "(134217728); llm-compressor's examples use 512 × 2048"},
      {"dampening", [](QuantRecipe& r) {
         r.modifier = Modifier::kGptq;
         r.dampening_frac = 1.5;
       },
       "dampening_frac: 'dampening_frac' must be in [0, 1), got 1.5"},
      {"dtype", [](QuantRecipe& r) { r.compute_dtype = "float16"; },
       "compute_dtype: compute_dtype must be float32 or bfloat16, got 'float16'"},
  };
  for (const auto& c : cases) {
    QuantRecipe r = w8a8_static();
    c.edit(r);
    const std::string got = first_error(r);
    // Regex messages end with the library's own wording: compare their stable prefix.
    EXPECT_EQ(got.substr(0, std::string(c.error).size()), c.error) << c.name;
  }
}

// The smoothing stages' rules (spec/smoothing.h), each at its field.
TEST(ValidateQuantRecipe, SmoothingStageRulesAtTheirFields) {
  auto sq = [](QuantRecipe& r) -> SmoothQuantStage& {
    r.stages = {SmoothQuantStage{}};
    return std::get<SmoothQuantStage>(r.stages[0]);
  };
  auto awq = [](QuantRecipe& r) -> AwqStage& {
    r.stages = {AwqStage{}};
    r.groups = {preset_group(*find_scheme("W4A16_ASYM"), {"Linear"})};
    return std::get<AwqStage>(r.stages[0]);
  };
  const std::vector<Case> cases = {
      {"smoothquant defaults", [&](QuantRecipe& r) { sq(r); }, "ok"},
      {"awq defaults", [&](QuantRecipe& r) { awq(r); }, "ok"},
      {"strength", [&](QuantRecipe& r) { sq(r).smoothing_strength = 1.5; },
       "stages[0].smoothing_strength: 'smoothing_strength' must be in [0, 1], got 1.5"},
      {"unknown module name", [&](QuantRecipe& r) { sq(r).mappings[1].balance_layers[0] = "re:.*fc1"; },
       "stages[0].mappings[1].balance_layers[0]: 're:.*fc1' matches no module of a Qwen3/Qwen2/Llama decoder layer"},
      {"exact name not in a layer", [&](QuantRecipe& r) { sq(r).mappings[0].smooth_layer = "model.layers.0.ln_1"; },
       "stages[0].mappings[0].smooth_layer: 'model.layers.0.ln_1' matches no module"},
      {"class name", [&](QuantRecipe& r) { sq(r).mappings[0].balance_layers = {"Linear"}; },
       "stages[0].mappings[0].balance_layers[0]: 'Linear' is a class name; a mapping names modules"},
      {"outside the layers", [&](QuantRecipe& r) { sq(r).mappings[0].smooth_layer = "re:.*norm$"; },
       "stages[0].mappings[0].smooth_layer: 're:.*norm$' matches 'model.norm', which is not a leaf module of a "
       "decoder layer"},
      {"two smooth modules", [&](QuantRecipe& r) { sq(r).mappings[0].smooth_layer = "re:.*layernorm$"; },
       "stages[0].mappings[0].smooth_layer: 're:.*layernorm$' matches input_layernorm, post_attention_layernorm; "
       "a mapping smooths one module per decoder layer"},
      {"shapes do not match", [&](QuantRecipe& r) { sq(r).mappings[1].balance_layers = {"re:.*down_proj"}; },
       "stages[0].mappings[1].balance_layers[0]: mlp.down_proj does not read post_attention_layernorm's output "
       "(its readers: mlp.gate_proj, mlp.up_proj): the shapes do not match"},
      {"a reader left out", [&](QuantRecipe& r) { sq(r).mappings[0].balance_layers.pop_back(); },
       "stages[0].mappings[0].balance_layers: input_layernorm's output is also read by self_attn.v_proj, which "
       "this mapping does not balance: smoothing would change the model's output"},
      {"not smoothable", [&](QuantRecipe& r) { sq(r).mappings[0] = {"re:.*gate_proj", {"re:.*down_proj"}}; },
       "stages[0].mappings[0].smooth_layer: 'mlp.gate_proj' cannot be smoothed"},
      {"smoothed twice", [&](QuantRecipe& r) { sq(r).mappings[1] = sq(r).mappings[0]; },
       "stages[0].mappings[1].smooth_layer: input_layernorm is smoothed by two mappings"},
      {"balance layer twice", [&](QuantRecipe& r) { sq(r).mappings[1].balance_layers.push_back("re:.*up_proj$"); },
       "stages[0].mappings[1].balance_layers[2]: 're:.*up_proj$' matches mlp.up_proj, which an earlier balance "
       "layer of this mapping already matches"},
      {"bad ignore regex", [&](QuantRecipe& r) { sq(r).ignore = {"re:(("}; },
       "stages[0].ignore[0]: invalid regular expression"},
      {"awq with activations",
       [&](QuantRecipe& r) {
         awq(r);
         r.groups = w8a8_static().groups;
       },
       "config_groups.group_0.input_activations: AWQModifier (stage 0) searches its scales for weight-only "
       "quantization; config group 'group_0' also quantizes input activations"},
      {"awq duo per tensor",
       [&](QuantRecipe& r) {
         awq(r);
         r.groups[0].weights.strategy = Strategy::kTensor;
         r.groups[0].weights.group_size = 0;
       },
       "stages[0].duo_scaling: duo_scaling is only supported with per-channel quantization strategies"},
      {"awq grid", [&](QuantRecipe& r) { awq(r).n_grid = 2; },
       "stages[0].n_grid: 'n_grid' must be in [3, 1000] with duo_scaling true, got 2"},
      {"stages need calibration",
       [&](QuantRecipe& r) {
         awq(r);
         r.calibration.reset();
       },
       "calibration: AWQModifier needs calibration data"},
  };
  for (const auto& c : cases) {
    QuantRecipe r = w8a8_static();
    c.edit(r);
    const std::string got = first_error(r);
    EXPECT_EQ(got.substr(0, std::string(c.error).size()), c.error) << c.name << "\n  got: " << got;
  }
}

TEST(SmoothingStages, AwqGridIsLlmCompressors) {
  AwqStage a;
  auto g = awq_grid(a);
  ASSERT_EQ(g.size(), 20u);
  EXPECT_EQ(g[0], std::make_pair(0.0, false));
  EXPECT_EQ(g[1], std::make_pair(0.0, true));
  EXPECT_EQ(g[19], std::make_pair(1.0, true));
  EXPECT_EQ(g[2].first, 1.0 / 18);
  a.duo_scaling = DuoScaling::kBoth;
  a.n_grid = 10;
  g = awq_grid(a);
  ASSERT_EQ(g.size(), 10u);
  EXPECT_EQ(g[2], std::make_pair(0.25, false));
  EXPECT_EQ(g[3], std::make_pair(0.25, true));
  a.duo_scaling = DuoScaling::kFalse;
  g = awq_grid(a);
  ASSERT_EQ(g.size(), 10u);
  EXPECT_EQ(g[9], std::make_pair(1.0, false));
}

TEST(SmoothingStages, PatternRolesProbeEveryLayerIndex) {
  auto r = pattern_roles("re:.*layers\\.(3|17)\\.mlp\\.up_proj$");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->roles, std::vector<LayerRole>{LayerRole::kUpProj});
  r = pattern_roles("model.layers.5.input_layernorm");
  EXPECT_EQ(r->roles, std::vector<LayerRole>{LayerRole::kInputLayernorm});
  r = pattern_roles("re:.*proj");
  EXPECT_EQ(r->roles.size(), 7u);
  EXPECT_TRUE(r->outside.empty());
  r = pattern_roles("re:.*");
  EXPECT_FALSE(r->outside.empty());
  EXPECT_FALSE(pattern_roles("re:((").is_ok());
}

TEST(ValidateSpinQuant, RulesAtTheirFields) {
  SpinQuantParams p;
  EXPECT_EQ(first_error(p), "ok");
  p.rotations = {};
  EXPECT_EQ(first_error(p), "rotations: 'rotations' must not be empty");
  p = SpinQuantParams();
  p.transform_block_size = 0;
  EXPECT_EQ(first_error(p), "transform_block_size: 'transform_block_size' must be positive, got 0");
  EquivalenceCheck e;
  e.prompts = {"x", ""};
  EXPECT_EQ(first_error(e), "prompts[1]: a prompt must not be empty");
}

TEST(ValidateEvalSpecs, RulesAtTheirFields) {
  SampleSpec s;
  s.datasets = {SampleSpec::dataset_defaults("mmlu"), SampleSpec::dataset_defaults("gsm8k")};
  s.total_samples = 10;
  EXPECT_EQ(first_error(s), "ok");
  s.datasets[0].subset_list = {"anatomy", "astronmy"};
  EXPECT_EQ(first_error(s), "datasets[0].subset_list[1]: unknown mmlu subset 'astronmy'; did you mean 'astronomy'?");
  s.datasets[0].subset_list = {};
  s.datasets[1].few_shot_num = 101;
  EXPECT_EQ(first_error(s), "datasets[1].few_shot_num: few_shot_num must be in [0, 100] for gsm8k, got 101");
  s.datasets[1].few_shot_num = 4;
  s.total_samples = 0;
  EXPECT_EQ(first_error(s), "total_samples: 'total_samples' must be in [1, 10000000], got 0");
  GenerateSpec g;
  g.max_new_tokens = {{"gsm8k", 1'000'000'000}};
  EXPECT_EQ(first_error(g), "max_new_tokens.gsm8k: 'max_new_tokens' must be in [1, 131072], got 1000000000");
  g.max_new_tokens = {};
  g.batching = "dynamic";
  EXPECT_EQ(first_error(g), "batching: batching must be static or continuous, got 'dynamic'");
  ScoreSpec sc;
  sc.scorer = "evalscope-0.1";
  EXPECT_NE(first_error(sc).find("scorer: scorer 'evalscope-0.1' is not this qbuild's"), std::string::npos);
}

// gpqa_diamond's shuffle_seeds (eval_spec.h): each rule at the list or the item.
TEST(ValidateEvalSpecs, ShuffleSeedRulesAtTheirFields) {
  SampleSpec s;
  s.datasets = {SampleSpec::dataset_defaults("mmlu"), SampleSpec::dataset_defaults("gpqa_diamond")};
  s.total_samples = 10;
  auto with = [&](std::vector<std::int64_t> seeds) {
    s.datasets[1].shuffle_seeds = std::move(seeds);
    return first_error(s);
  };
  EXPECT_EQ(with({0, 1, 2}), "ok");
  EXPECT_EQ(with({7}), "ok");  // one non-default order
  EXPECT_EQ(with({}), "datasets[1].shuffle_seeds: 'shuffle_seeds' is empty: list at least one seed (0 is evalscope's order)");
  EXPECT_EQ(with({0, -1}), "datasets[1].shuffle_seeds[1]: a shuffle seed must be a non-negative integer, got -1");
  EXPECT_EQ(with({3, 1, 3}), "datasets[1].shuffle_seeds[2]: shuffle seed 3 is listed twice");
  std::vector<std::int64_t> many(kMaxShuffleSeeds + 1);
  for (std::size_t k = 0; k < many.size(); ++k) many[k] = static_cast<std::int64_t>(k);
  EXPECT_EQ(with(many), "datasets[1].shuffle_seeds: 'shuffle_seeds' lists 101 seeds; at most 100");
  s.datasets[1].shuffle_seeds.reset();
  s.datasets[0].shuffle_seeds = std::vector<std::int64_t>{1};
  EXPECT_EQ(first_error(s), "datasets[0].shuffle_seeds: 'shuffle_seeds' applies to gpqa_diamond only (the benchmark "
                            "whose answers are shuffled), not mmlu");
}

TEST(Tasks, OneRowPerBenchmarkWithEvalscopeDefaults) {
  const TaskInfo* mmlu = find_task("mmlu");
  ASSERT_NE(mmlu, nullptr);
  EXPECT_EQ(mmlu->few_shot_generative, 5);     // evalscope 1.12.0 MMLUAdapter few_shot_num=5
  EXPECT_EQ(mmlu->few_shot_loglikelihood, 0);  // lm-eval 0.4.13 tasks/mmlu/default: no num_fewshot
  EXPECT_EQ(default_few_shot_num("mmlu", "loglikelihood"), 0);
  EXPECT_EQ(mmlu->subsets->size(), 57u);
  EXPECT_EQ(mmlu->subsets->front(), "abstract_algebra");
  EXPECT_EQ(find_task("gsm8k")->few_shot_generative, 4);  // evalscope 1.12.0 GSM8KAdapter few_shot_num=4
  EXPECT_EQ(find_task("hellaswag")->kind, TaskKind::kMultipleChoice);  // lm-eval 0.4.13, zero-shot
  EXPECT_EQ(find_task("hellaswag")->max_new_tokens, 0);
  EXPECT_EQ(find_task("wikitext")->kind, TaskKind::kPerplexity);
  EXPECT_TRUE(is_perplexity_task("perplexity"));
  EXPECT_FALSE(generates_text("arc_easy", "generative"));
  EXPECT_FALSE(generates_text("mmlu", "loglikelihood"));
  EXPECT_TRUE(generates_text("mmlu", "generative"));
  EXPECT_EQ(find_task("mmlu_pro")->few_shot_generative, 5);  // evalscope 1.12.0 MMLUProAdapter
  EXPECT_TRUE(generates_text("mmlu_pro", "loglikelihood"));  // only MMLU switches
  EXPECT_EQ(default_few_shot_num("mmlu_pro", "loglikelihood"), 5);
  EXPECT_EQ(find_task("math_500")->max_few_shot, 0);  // evalscope: no train split
  EXPECT_EQ(find_task("math_500")->subsets->front(), "Level 1");
  EXPECT_EQ(find_task("gpqa_diamond")->few_shot_generative, 0);  // evalscope 1.12.0 GPQAAdapter
  EXPECT_EQ(find_task("ifeval"), nullptr);  // next, not now
}

TEST(SampleSpecValidate, PerplexityOnlyEvalsDrawNothing) {
  SampleSpec s;
  DatasetSpec d;
  d.name = "wikitext";
  d.task_type = "perplexity";
  s.datasets = {d};
  s.total_samples = 0;
  EXPECT_EQ(first_error(s), "ok");
  s.total_samples = 3;
  EXPECT_EQ(first_error(s), "total_samples: 'total_samples' draws nothing here: perplexity tasks evaluate every document");
}

}  // namespace
}  // namespace qb::spec

namespace qb::spec {
namespace {

TEST(SpinQuantDefaults, FollowLlmCompressor) {
  SpinQuantParams p;  // llm-compressor 0.14 SpinQuantModifier: rotations [R1, R2], hadamard
  EXPECT_EQ(p.rotations, (std::vector<RotationId>{RotationId::kR1, RotationId::kR2}));
  EXPECT_EQ(p.transform_type, RotationType::kHadamard);
  EXPECT_FALSE(p.transform_block_size.has_value());
  EXPECT_FALSE(p.center_embeddings);  // centering is not function-preserving for RMSNorm models
  EXPECT_FALSE(p.to_json().contains("seed"));  // a plain Hadamard has no randomness
  EXPECT_EQ(parse_rotation_id("r4"), RotationId::kR4);
  EXPECT_EQ(parse_rotation_id("R3"), std::nullopt);
}

}  // namespace
}  // namespace qb::spec
