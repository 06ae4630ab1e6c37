// The config-time = step-time table: every recipe the quantize step rejects is rejected by
// `qbuild --dry-run` too, at file:line:col, with the same message. Each row states the recipe
// twice — as YAML for the config layer and as an edit of a typed recipe handed straight to the
// step (as a hand-written node file would) — so the two paths are checked independently.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>

#include "config/pipeline.h"
#include "spec/quant_recipe.h"
#include "steps/quant/quantize.h"
#include "util/fs.h"

namespace qb::quant {
namespace {

const std::string kTiny = std::string(QB_SOURCE_DIR) + "/tests/golden/models/qwen3-tiny";

struct Row {
  const char* name;
  std::string modifier_body;             // YAML under the modifier
  std::function<void(spec::QuantRecipe&)> edit;  // the same recipe, typed
  const char* message;                   // what both report
};

spec::QuantRecipe& fp8_dynamic(spec::QuantRecipe& r) {
  r.groups = {spec::preset_group(*spec::find_scheme("FP8_DYNAMIC"), {"Linear"})};
  return r;
}

spec::QuantArgs fp8_kv() {
  spec::QuantArgs kv;
  kv.type = spec::QuantType::kFloat;
  return kv;
}

// FP8 groups written out: weights and input activations as flow mappings.
std::string fp8_group(const std::string& weights, const std::string& acts) {
  return "{config_groups: {group_0: {targets: [Linear], weights: " + weights +
         ", input_activations: " + acts + "}}}";
}

spec::QuantRecipe base_recipe() {
  spec::QuantRecipe r;
  r.groups = {spec::preset_group(*spec::find_scheme("W8A8"), {"Linear"})};
  r.ignore = {"lm_head"};
  return r;
}

TEST(RejectionTable, EveryRecipeTheStepRejectsFailsAtConfigTimeWithFileLine) {
  const std::vector<Row> rows = {
      {"Embedding target", "{scheme: W8A8, targets: [Linear, Embedding], ignore: [lm_head]}",
       [](spec::QuantRecipe& r) { r.groups[0].targets = {"Embedding", "Linear"}; },
       "target 'Embedding': qbuild quantizes Linear modules only"},
      {"invalid ignore regex", "{scheme: W8A8, ignore: [lm_head, 're:((']}",
       [](spec::QuantRecipe& r) { r.ignore = {"lm_head", "re:(("}; }, "invalid regular expression 're:(('"},
      {"fp8 weight-only", "{config_groups: {group_0: {targets: [Linear], weights: {type: float, strategy: channel}}}}",
       [](spec::QuantRecipe& r) {
         r.groups[0].input_activations.reset();
         r.groups[0].weights.type = spec::QuantType::kFloat;
       },
       "fp8 weight-only quantization (W8A16 FP8) is not supported by qbuild"},
      {"3-bit", "{config_groups: {group_0: {targets: [Linear], weights: {num_bits: 3, strategy: channel}}}}",
       [](spec::QuantRecipe& r) {
         r.groups[0].input_activations.reset();
         r.groups[0].weights.num_bits = 3;
       },
       "num_bits 3 is not supported for int weights (allowed: 4, 8)"},
      {"W4A8",
       "{config_groups: {group_0: {targets: [Linear], weights: {num_bits: 4, strategy: channel}, "
       "input_activations: {strategy: token, dynamic: true}}}}",
       [](spec::QuantRecipe& r) { r.groups[0].weights.num_bits = 4; },
       "vLLM cannot load int8 activations with 4-bit weights"},
      {"dynamic per-tensor activations",
       "{config_groups: {group_0: {targets: [Linear], weights: {strategy: channel}, "
       "input_activations: {strategy: tensor, dynamic: true}}}}",
       [](spec::QuantRecipe& r) { r.groups[0].input_activations->strategy = spec::Strategy::kTensor; },
       "vLLM cannot load int8 activations quantized dynamic per-tensor"},
      // FP8 (spec/fp8_rules.h): compressed-tensors' and vLLM's own words where they reject it.
      {"fp8 asymmetric weights",
       fp8_group("{type: float, strategy: channel, symmetric: false}", "{type: float, strategy: token, dynamic: true}"),
       [](spec::QuantRecipe& r) { fp8_dynamic(r).groups[0].weights.symmetric = false; },
       "asymmetric fp8 weights are not supported: vLLM loads fp8 weights only symmetric"},
      {"fp8 asymmetric activations",
       fp8_group("{type: float, strategy: channel}", "{type: float, strategy: token, dynamic: true, symmetric: false}"),
       [](spec::QuantRecipe& r) { fp8_dynamic(r).groups[0].input_activations->symmetric = false; },
       "asymmetric fp8 input activations are not supported"},
      {"4-bit float weights",
       fp8_group("{type: float, num_bits: 4, strategy: channel}", "{type: float, strategy: token, dynamic: true}"),
       [](spec::QuantRecipe& r) { fp8_dynamic(r).groups[0].weights.num_bits = 4; },
       "num_bits 4 is not supported for weights of type 'float': qbuild builds FP8 e4m3 (num_bits 8) only"},
      {"16-bit float activations",
       fp8_group("{type: float, strategy: channel}", "{type: float, num_bits: 16, strategy: token, dynamic: true}"),
       [](spec::QuantRecipe& r) { fp8_dynamic(r).groups[0].input_activations->num_bits = 16; },
       "num_bits 16 is not supported for input activations of type 'float'"},
      {"fp8 static per-token activations",
       fp8_group("{type: float, strategy: channel}", "{type: float, strategy: token, dynamic: false}"),
       [](spec::QuantRecipe& r) {
         fp8_dynamic(r).groups[0].input_activations->dynamic = false;
         r.groups[0].input_activations->observer = spec::ObserverKind::kStaticMinMax;
       },
       "Cannot perform static token quantization, please use `dynamic=True`"},
      {"fp8 weights with int activations",
       fp8_group("{type: float, strategy: channel}", "{type: int, strategy: token, dynamic: true}"),
       [](spec::QuantRecipe& r) { fp8_dynamic(r).groups[0].input_activations->type = spec::QuantType::kInt; },
       "fp8 weights need fp8 input activations ('type: float')"},
      {"float activations with int weights",
       fp8_group("{type: int, strategy: channel}", "{type: float, strategy: token, dynamic: true}"),
       [](spec::QuantRecipe& r) { fp8_dynamic(r).groups[0].weights.type = spec::QuantType::kInt; },
       "fp8 input activations need fp8 weights ('type: float')"},
      {"fp8 per-group weights",
       fp8_group("{type: float, strategy: group, group_size: 128}", "{type: float, strategy: token, dynamic: true}"),
       [](spec::QuantRecipe& r) {
         fp8_dynamic(r).groups[0].weights.strategy = spec::Strategy::kGroup;
         r.groups[0].weights.group_size = 128;
       },
       "strategy 'group' is not supported for fp8 weights"},
      {"fp8 dynamic per-tensor activations",
       fp8_group("{type: float, strategy: channel}", "{type: float, strategy: tensor, dynamic: true}"),
       [](spec::QuantRecipe& r) { fp8_dynamic(r).groups[0].input_activations->strategy = spec::Strategy::kTensor; },
       "vLLM quantizes dynamic fp8 activations per token with per-channel weights, not per tensor"},
      {"non-square fp8 blocks",
       fp8_group("{type: float, strategy: block, block_structure: [128, 64]}",
                 "{type: float, strategy: group, group_size: 64, dynamic: true}"),
       [](spec::QuantRecipe& r) {
         r.groups = {spec::preset_group(*spec::find_scheme("FP8_BLOCK"), {"Linear"})};
         r.groups[0].weights.block_structure = {128, 64};
         r.groups[0].input_activations->group_size = 64;
       },
       "block_structure [128, 64] must be square"},
      {"fp8 block weights with per-token activations",
       fp8_group("{type: float, strategy: block, block_structure: 128x128}", "{type: float, strategy: token, dynamic: true}"),
       [](spec::QuantRecipe& r) {
         r.groups = {spec::preset_group(*spec::find_scheme("FP8_BLOCK"), {"Linear"})};
         r.groups[0].input_activations->strategy = spec::Strategy::kToken;
         r.groups[0].input_activations->group_size = 0;
       },
       "fp8 block weights [128, 128] need dynamic input activations per group of 128"},
      {"int8 kv cache", "{scheme: FP8_DYNAMIC, kv_cache_scheme: {num_bits: 8, type: int, strategy: tensor}}",
       [](spec::QuantRecipe& r) {
         spec::QuantArgs kv = fp8_kv();
         kv.type = spec::QuantType::kInt;
         r.kv_cache_scheme = kv;
       },
       "Currently supported kv cache quantization is num_bits=8, type=float, however received num_bits=8, "
       "type=int"},
      {"asymmetric kv cache", "{scheme: FP8_DYNAMIC, kv_cache_scheme: {type: float, symmetric: false}}",
       [](spec::QuantRecipe& r) {
         spec::QuantArgs kv = fp8_kv();
         kv.symmetric = false;
         r.kv_cache_scheme = kv;
       },
       "Only support symmetric scaling factor for compressed-tensors KV cache. However found symmetric: False"},
      {"per-channel kv cache", "{scheme: FP8_DYNAMIC, kv_cache_scheme: {type: float, strategy: channel}}",
       [](spec::QuantRecipe& r) {
         spec::QuantArgs kv = fp8_kv();
         kv.strategy = spec::Strategy::kChannel;
         r.kv_cache_scheme = kv;
       },
       "Invalid strategy for compressed-tensors KV cache. Expected strategies: tensor, attn_head, found "
       "strategy: channel"},
      {"dynamic kv cache", "{scheme: FP8_DYNAMIC, kv_cache_scheme: {type: float, strategy: tensor, dynamic: true}}",
       [](spec::QuantRecipe& r) {
         spec::QuantArgs kv = fp8_kv();
         kv.dynamic = true;
         r.kv_cache_scheme = kv;
       },
       "'dynamic' must be false"},
      {"dynamic weights",
       "{config_groups: {group_0: {targets: [Linear], weights: {strategy: channel, dynamic: true}}}}",
       [](spec::QuantRecipe& r) {
         r.groups[0].input_activations.reset();
         r.groups[0].weights.dynamic = true;
       },
       "dynamic weight quantization is not supported"},
  };
  auto root = fs::TempDir::create(::testing::TempDir(), "reject_").value();
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    // Config time.
    const std::string yaml = "name: t\noutput_suffix: -t\nquant_modifiers:\n  QuantizationModifier: " +
                             row.modifier_body + "\n";
    auto cfg = config::parse_quant_text(root.path(), "pipline/2-quant/t.yaml", yaml);
    ASSERT_FALSE(cfg.is_ok()) << "the config layer accepted it";
    const std::string diag = cfg.status().message();
    EXPECT_TRUE(std::regex_search(diag, std::regex("^pipline/2-quant/t\\.yaml:[0-9]+:[0-9]+: error: ")))
        << diag;
    EXPECT_NE(diag.find(row.message), std::string::npos) << diag;
    // Step time: the typed recipe straight to the quantize step.
    spec::QuantRecipe r = base_recipe();
    row.edit(r);
    QuantizeRequest req;
    req.recipe = r;
    req.model_dir = kTiny;
    req.output_dir = root.path() / "out";
    Status st = run_quantize(req);
    ASSERT_FALSE(st.is_ok()) << "the step accepted it";
    EXPECT_NE(st.message().find(row.message), std::string::npos) << st.message();
    EXPECT_FALSE(std::filesystem::exists(req.output_dir / "model.safetensors"));
  }
}

}  // namespace
}  // namespace qb::quant
