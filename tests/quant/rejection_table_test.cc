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
      {"fp8", "{config_groups: {group_0: {targets: [Linear], weights: {type: float, strategy: channel}}}}",
       [](spec::QuantRecipe& r) {
         r.groups[0].input_activations.reset();
         r.groups[0].weights.type = spec::QuantType::kFloat;
       },
       "type 'float' (fp8) is not implemented; use 'int'"},
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
