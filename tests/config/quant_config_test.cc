// pipline/2-quant: canonical recipe params, presets, calibration, and each quantization rule
// (compressed-tensors 0.19 / llm-compressor 0.14 / vLLM loadability) with its exact message.
#include <gtest/gtest.h>

#include "test_project.h"

namespace qb::config::testing {
namespace {

using nlohmann::json;

// A one-group recipe; `weights` / `acts` are flow mappings written on lines 8 and 9.
std::string recipe(const std::string& weights, const std::string& acts = "",
                   const std::string& modifier = "QuantizationModifier",
                   const std::string& extra = "calibration: {source: data/calib.txt}\n") {
  std::string s =
      "name: q\n"
      "output_suffix: -q\n"
      "quant_modifiers:\n"
      "  " + modifier + ":\n"
      "    config_groups:\n"
      "      group_0:\n"
      "        targets: [Linear]\n"
      "        weights: " + weights + "\n";
  if (!acts.empty()) s += "        input_activations: " + acts + "\n";
  return s + extra;
}

class QuantTest : public QuantRecipeTest {};

TEST_F(QuantTest, StaticRtnParamsSpellOutEveryDefault) {
  write("pipline/2-quant/rtn.yaml", kQuantRtnStatic);
  auto p = load();
  ASSERT_TRUE(p.is_ok()) << diags_.render();
  const QuantSpec& q = p->quant[0];
  EXPECT_EQ(q.name, "rtn");
  EXPECT_EQ(q.output_suffix, "-rtn");
  EXPECT_EQ(q.recipe.modifier, spec::Modifier::kRtn);
  EXPECT_TRUE(q.recipe.needs_calibration());
  ASSERT_TRUE(q.recipe.calibration.has_value());
  EXPECT_EQ(q.calibration_source, "data/calib.txt");
  EXPECT_EQ(q.recipe.calibration->source_kind, "txt");
  EXPECT_EQ(q.recipe.to_json(), json::parse(R"j({
    "modifier": "QuantizationModifier",
    "config_groups": {"group_0": {
      "targets": ["Linear"],
      "weights": {"num_bits": 8, "type": "int", "symmetric": true, "strategy": "channel",
                  "group_size": null, "dynamic": false, "observer": "memoryless_minmax",
                  "observer_kwargs": {}, "scale_rule": "absmax/((2^bits-1)/2)",
                  "rounding": "half_even"},
      "input_activations": {"num_bits": 8, "type": "int", "symmetric": true,
                  "strategy": "tensor", "group_size": null, "dynamic": false,
                  "observer": "static_minmax", "observer_kwargs": {},
                  "scale_rule": "absmax/((2^bits-1)/2)", "rounding": "half_even"}}},
    "ignore": ["lm_head"],
    "save_compressed": true,
    "device": "cpu",
    "compute_dtype": "float32",
    "calibration": {"source_kind": "txt", "num_samples": 512, "seq_len": 2048, "seed": 0}
  })j"));
  EXPECT_TRUE(q.recipe.to_json()["calibration"]["num_samples"].is_number_integer());
}

TEST_F(QuantTest, DynamicRtnIgnoresCalibration) {
  std::string yaml = recipe("{strategy: channel}", "{strategy: token, dynamic: true}",
                            "QuantizationModifier", "");
  json p = params(yaml);
  EXPECT_FALSE(p.contains("calibration"));
  const json& acts = p["config_groups"]["group_0"]["input_activations"];
  EXPECT_EQ(acts["observer"], nullptr);
  EXPECT_EQ(acts["scale_rule"], "absmax/(2^(bits-1)-1)");
  auto pr = load();
  EXPECT_FALSE(pr->quant[0].recipe.needs_calibration());
  EXPECT_FALSE(pr->quant[0].recipe.calibration.has_value());
}

TEST_F(QuantTest, UnusedCalibrationWarnsAndStaysOutOfParams) {
  json without = params(recipe("{strategy: channel}", "", "QuantizationModifier", ""));
  EXPECT_EQ(check(recipe("{strategy: channel}", "", "QuantizationModifier",
                         "calibration: {source: data/calib.txt, num_samples: 7}\n")),
            "pipline/2-quant/q.yaml:9:1: warning: 'calibration' is not used: this recipe has no "
            "smoothing stage, no static activations and is not GPTQ\n"
            "    9 | calibration: {source: data/calib.txt, num_samples: 7}\n"
            "      | ^~~~~~~~~~~\n");
  EXPECT_EQ(params(recipe("{strategy: channel}", "", "QuantizationModifier",
                          "calibration: {source: data/calib.txt, num_samples: 7}\n")),
            without);
}

TEST_F(QuantTest, SchemeW8A8EqualsTheWrittenOutRecipe) {
  json preset = params(
      "name: q\noutput_suffix: -q\nquant_modifiers:\n  QuantizationModifier:\n"
      "    scheme: w8a8\n    ignore: [lm_head]\n");
  json written = params(recipe("{num_bits: 8, type: int, symmetric: true, strategy: channel}",
                               "{num_bits: 8, strategy: token, dynamic: true}",
                               "QuantizationModifier", "") +
                        "    ignore: [lm_head]\n");
  EXPECT_EQ(preset, written);
}

TEST_F(QuantTest, SchemeW8A16IsGroup128AsInCompressedTensors019) {
  json p = params("name: q\noutput_suffix: -q\nquant_modifiers:\n  QuantizationModifier:\n"
                  "    scheme: W8A16\n    targets: [Linear]\n");
  const json& w = p["config_groups"]["group_0"]["weights"];
  EXPECT_EQ(w["strategy"], "group");
  EXPECT_EQ(w["group_size"], 128);
  EXPECT_EQ(w["num_bits"], 8);
  EXPECT_EQ(p["config_groups"]["group_0"]["input_activations"], nullptr);
}

TEST_F(QuantTest, SchemeW4A16) {
  json p = params("name: q\noutput_suffix: -q\nquant_modifiers:\n  QuantizationModifier:\n"
                  "    scheme: W4A16\n");
  EXPECT_EQ(p["config_groups"]["group_0"]["weights"]["num_bits"], 4);
  EXPECT_EQ(p["config_groups"]["group_0"]["targets"], json({"Linear"}));
}

TEST_F(QuantTest, SchemeAndConfigGroupsTogether) {
  EXPECT_EQ(check(recipe("{strategy: channel}", "", "QuantizationModifier", "    scheme: W8A8\n")),
            "pipline/2-quant/q.yaml:9:5: error: give either 'scheme' or 'config_groups', not "
            "both\n"
            "    9 |     scheme: W8A8\n"
            "      |     ^~~~~~\n");
}

TEST_F(QuantTest, NeitherSchemeNorConfigGroups) {
  EXPECT_EQ(check("name: q\noutput_suffix: -q\nquant_modifiers:\n  QuantizationModifier:\n"
                  "    ignore: [lm_head]\n"),
            "pipline/2-quant/q.yaml:4:3: error: missing 'config_groups' or 'scheme' in "
            "'QuantizationModifier'\n"
            "    4 |   QuantizationModifier:\n"
            "      |   ^~~~~~~~~~~~~~~~~~~~\n");
}

TEST_F(QuantTest, UnknownScheme) {
  EXPECT_EQ(check("name: q\noutput_suffix: -q\nquant_modifiers:\n  QuantizationModifier:\n"
                  "    scheme: W8A9\n"),
            "pipline/2-quant/q.yaml:5:13: error: invalid value 'W8A9' for 'scheme' (allowed: "
            "W8A8, W8A16, W4A16, W4A16_ASYM, FP8, FP8_DYNAMIC, FP8_BLOCK); did you mean 'W8A8'?\n"
            "    5 |     scheme: W8A9\n"
            "      |             ^~~~\n");
}

TEST_F(QuantTest, ZeroOrTwoModifiers) {
  EXPECT_EQ(check("name: q\noutput_suffix: -q\nquant_modifiers: {}\n"),
            "pipline/2-quant/q.yaml:3:1: error: 'quant_modifiers' needs one of "
            "QuantizationModifier, GPTQModifier (after any SmoothQuantModifier / AWQModifier)\n"
            "    3 | quant_modifiers: {}\n"
            "      | ^~~~~~~~~~~~~~~\n");
  EXPECT_EQ(check("name: q\noutput_suffix: -q\nquant_modifiers:\n"
                  "  QuantizationModifier: {scheme: W8A16}\n  GPTQModifier: {scheme: W8A16}\n"),
            "pipline/2-quant/q.yaml:5:3: error: one quantization modifier per recipe: 'GPTQModifier' "
            "cannot follow 'QuantizationModifier'\n"
            "    5 |   GPTQModifier: {scheme: W8A16}\n"
            "      |   ^~~~~~~~~~~~\n");
}

TEST_F(QuantTest, UnknownKeySuggestsTheClosest) {
  EXPECT_EQ(check(recipe("\n          num_bits: 8\n          stratgy: channel")),
            "pipline/2-quant/q.yaml:10:11: error: unknown key 'stratgy' in 'weights'; did you "
            "mean 'strategy'?\n"
            "   10 |           stratgy: channel\n"
            "      |           ^~~~~~~\n");
}

TEST_F(QuantTest, WrongTypes) {
  EXPECT_EQ(check(recipe("{num_bits: eight, strategy: channel}")),
            "pipline/2-quant/q.yaml:8:29: error: expected an integer for 'num_bits', got "
            "'eight'\n"
            "    8 |         weights: {num_bits: eight, strategy: channel}\n"
            "      |                             ^~~~~\n");
  EXPECT_EQ(check(recipe("{num_bits: 8.0, strategy: channel}")),
            "pipline/2-quant/q.yaml:8:29: error: expected an integer for 'num_bits', got '8.0'\n"
            "    8 |         weights: {num_bits: 8.0, strategy: channel}\n"
            "      |                             ^~~\n");
  EXPECT_EQ(check(recipe("{num_bits: \"8\", strategy: channel}")),
            "pipline/2-quant/q.yaml:8:29: error: expected an integer for 'num_bits', got the "
            "string \"8\"\n"
            "    8 |         weights: {num_bits: \"8\", strategy: channel}\n"
            "      |                             ^~~\n");
  EXPECT_EQ(check(recipe("{symmetric: yes, strategy: channel}")),
            "pipline/2-quant/q.yaml:8:30: error: expected true or false for 'symmetric', got "
            "'yes'\n"
            "    8 |         weights: {symmetric: yes, strategy: channel}\n"
            "      |                              ^~~\n");
  EXPECT_EQ(check(recipe("[8]")),
            "pipline/2-quant/q.yaml:8:18: error: expected a mapping for 'weights', got a list\n"
            "    8 |         weights: [8]\n"
            "      |                  ^\n");
}

TEST_F(QuantTest, MissingRequiredFields) {
  EXPECT_EQ(check("name: q\nquant_modifiers:\n  QuantizationModifier:\n    config_groups:\n"
                  "      g:\n        weights: {strategy: channel}\n"),
            "pipline/2-quant/q.yaml: error: missing required field 'output_suffix'\n"
            "pipline/2-quant/q.yaml:5:7: error: missing required field 'targets' in 'g'\n"
            "    5 |       g:\n"
            "      |       ^\n");
}

TEST_F(QuantTest, OutputSuffixIsRequiredToBeAString) {
  EXPECT_EQ(check("name: q\noutput_suffix: null\nquant_modifiers: {QuantizationModifier: "
                  "{scheme: W8A16}}\n"),
            "pipline/2-quant/q.yaml:2:16: error: expected a string for 'output_suffix', got "
            "null\n"
            "    2 | output_suffix: null\n"
            "      |                ^~~~\n");
}

TEST_F(QuantTest, Fp8WeightOnlyIsNotSupported) {
  EXPECT_EQ(check(recipe("{type: float, strategy: channel}")),
            "pipline/2-quant/q.yaml:8:25: error: fp8 weight-only quantization (W8A16 FP8) is not "
            "supported by qbuild; add fp8 'input_activations' (e.g. scheme FP8_DYNAMIC)\n"
            "    8 |         weights: {type: float, strategy: channel}\n"
            "      |                         ^~~~~\n");
}

TEST_F(QuantTest, WeightBitsMustBe4Or8) {
  EXPECT_EQ(check(recipe("{num_bits: 3, strategy: channel}")),
            "pipline/2-quant/q.yaml:8:29: error: num_bits 3 is not supported for int weights "
            "(allowed: 4, 8)\n"
            "    8 |         weights: {num_bits: 3, strategy: channel}\n"
            "      |                             ^\n");
}

TEST_F(QuantTest, ActivationBitsMustBe8) {
  EXPECT_EQ(check(recipe("{strategy: channel}", "{num_bits: 4}")),
            "pipline/2-quant/q.yaml:9:39: error: num_bits 4 is not supported for input "
            "activations (allowed: 8)\n"
            "    9 |         input_activations: {num_bits: 4}\n"
            "      |                                       ^\n");
}

TEST_F(QuantTest, TokenStrategyRequiresDynamic) {
  EXPECT_EQ(check(recipe("{strategy: channel}", "{strategy: token}")),
            "pipline/2-quant/q.yaml:9:39: error: strategy 'token' requires 'dynamic: true'\n"
            "    9 |         input_activations: {strategy: token}\n"
            "      |                                       ^~~~~\n");
}

TEST_F(QuantTest, ActivationsMayNotBePerChannel) {
  EXPECT_EQ(check(recipe("{strategy: channel}", "{strategy: channel}")),
            "pipline/2-quant/q.yaml:9:39: error: input activations cannot be quantized per "
            "channel; use strategy 'token' (dynamic) or 'tensor' (static)\n"
            "    9 |         input_activations: {strategy: channel}\n"
            "      |                                       ^~~~~~~\n");
}

TEST_F(QuantTest, GroupStrategyRequiresGroupSize) {
  EXPECT_EQ(check(recipe("{strategy: group}")),
            "pipline/2-quant/q.yaml:8:29: error: strategy 'group' requires a positive "
            "'group_size'\n"
            "    8 |         weights: {strategy: group}\n"
            "      |                             ^~~~~\n");
  EXPECT_EQ(check(recipe("{strategy: group, group_size: 0}")),
            "pipline/2-quant/q.yaml:8:48: error: invalid group_size 0: use a positive value with "
            "strategy 'group', or -1 for 'channel'\n"
            "    8 |         weights: {strategy: group, group_size: 0}\n"
            "      |                                                ^\n");
}

TEST_F(QuantTest, GroupSizeRequiresGroupStrategy) {
  EXPECT_EQ(check(recipe("{strategy: channel, group_size: 128}")),
            "pipline/2-quant/q.yaml:8:50: error: 'group_size' requires strategy 'group' (got "
            "'channel')\n"
            "    8 |         weights: {strategy: channel, group_size: 128}\n"
            "      |                                                  ^~~\n");
  EXPECT_EQ(check(recipe("{strategy: tensor, group_size: -1}")),
            "pipline/2-quant/q.yaml:8:49: error: 'group_size: -1' means per-channel; it "
            "conflicts with strategy 'tensor'\n"
            "    8 |         weights: {strategy: tensor, group_size: -1}\n"
            "      |                                                 ^~\n");
}

TEST_F(QuantTest, StrategyIsInferredFromGroupSize) {
  EXPECT_EQ(params(recipe("{group_size: 64}"))["config_groups"]["group_0"]["weights"]["strategy"],
            "group");
  EXPECT_EQ(params(recipe("{group_size: -1}"))["config_groups"]["group_0"]["weights"]["strategy"],
            "channel");
  json w = params(recipe("{strategy: channel}", "{}"))["config_groups"]["group_0"];
  EXPECT_EQ(w["input_activations"]["strategy"], "tensor");  // no strategy, no group_size
}

TEST_F(QuantTest, VllmLoadsOnlyStaticPerTensorOrDynamicPerToken) {
  EXPECT_EQ(check(recipe("{strategy: channel}", "{strategy: tensor, dynamic: true}")),
            "pipline/2-quant/q.yaml:9:39: error: vLLM cannot load int8 activations quantized "
            "dynamic per-tensor; use static per-tensor (strategy: tensor, dynamic: false) or "
            "dynamic per-token (strategy: token, dynamic: true)\n"
            "    9 |         input_activations: {strategy: tensor, dynamic: true}\n"
            "      |                                       ^~~~~~\n");
  EXPECT_EQ(check(recipe("{strategy: channel}", "{strategy: group, group_size: 128}")),
            "pipline/2-quant/q.yaml:9:39: error: vLLM cannot load int8 activations quantized "
            "static per-group; use static per-tensor (strategy: tensor, dynamic: false) or "
            "dynamic per-token (strategy: token, dynamic: true)\n"
            "    9 |         input_activations: {strategy: group, group_size: 128}\n"
            "      |                                       ^~~~~\n");
}

TEST_F(QuantTest, W8A8NeedsEightBitSymmetricChannelOrTensorWeights) {
  EXPECT_EQ(check(recipe("{num_bits: 4, strategy: group, group_size: 128, symmetric: false}",
                         "{strategy: token, dynamic: true}")),
            "pipline/2-quant/q.yaml:8:29: error: vLLM cannot load int8 activations with 4-bit "
            "weights; W8A8 needs 'num_bits: 8' for weights\n"
            "    8 |         weights: {num_bits: 4, strategy: group, group_size: 128, symmetric: "
            "false}\n"
            "      |                             ^\n"
            "pipline/2-quant/q.yaml:8:42: error: vLLM cannot load W8A8 int8 with per-group "
            "weights; use strategy 'channel' or 'tensor'\n"
            "    8 |         weights: {num_bits: 4, strategy: group, group_size: 128, symmetric: "
            "false}\n"
            "      |                                          ^~~~~\n"
            "pipline/2-quant/q.yaml:8:77: error: vLLM cannot load W8A8 int8 with asymmetric "
            "weights; use 'symmetric: true'\n"
            "    8 |         weights: {num_bits: 4, strategy: group, group_size: 128, symmetric: "
            "false}\n"
            "      |                                                                             "
            "^~~~~\n");
}

// The quantize step and the runtime read no zero points yet: rejected here, not at step time.
// Zero points are written (pack-quantized) and read by the runtime: asymmetric weight-only is a
// recipe like any other, and the W4A16_ASYM preset is it written out.
TEST_F(QuantTest, AsymmetricWeightOnlyIsAccepted) {
  json written = params(recipe("{num_bits: 4, group_size: 128, symmetric: false}", "", "QuantizationModifier", ""));
  EXPECT_EQ(written["config_groups"]["group_0"]["weights"]["symmetric"], false);
  EXPECT_EQ(written["config_groups"]["group_0"]["weights"]["scale_rule"], "(max-min)/(2^bits-1)");
  json preset = params("name: q\noutput_suffix: -q\nquant_modifiers:\n  QuantizationModifier:\n"
                       "    scheme: W4A16_ASYM\n");
  EXPECT_EQ(preset, written);
}

TEST_F(QuantTest, AsymmetricActivationsAreRejected) {
  EXPECT_EQ(check(recipe("{strategy: channel}", "{symmetric: false}")),
            "pipline/2-quant/q.yaml:9:40: error: asymmetric input activations are not "
            "supported; use 'symmetric: true'\n"
            "    9 |         input_activations: {symmetric: false}\n"
            "      |                                        ^~~~~\n");
}

TEST_F(QuantTest, WeightOnlyPerTensorIsRejected) {
  EXPECT_EQ(check(recipe("{num_bits: 8}")),
            "pipline/2-quant/q.yaml:8:9: error: vLLM cannot load weight-only int quantization "
            "per tensor; use strategy 'channel' or 'group'\n"
            "    8 |         weights: {num_bits: 8}\n"
            "      |         ^~~~~~~\n");
}

TEST_F(QuantTest, DynamicWeightsAreRejected) {
  EXPECT_EQ(check(recipe("{strategy: channel, dynamic: true}")),
            "pipline/2-quant/q.yaml:8:47: error: dynamic weight quantization is not supported: "
            "weights are quantized once, offline\n"
            "    8 |         weights: {strategy: channel, dynamic: true}\n"
            "      |                                               ^~~~\n");
}

TEST_F(QuantTest, WeightObserversAreMemoryless) {
  auto observer = [&](const std::string& o) {
    return params(recipe("{strategy: channel, observer: " + o + "}"))["config_groups"]
                        ["group_0"]["weights"]["observer"];
  };
  EXPECT_EQ(observer("minmax"), "memoryless_minmax");
  EXPECT_EQ(observer("static_minmax"), "memoryless_minmax");
  EXPECT_EQ(observer("mse"), "memoryless_mse");
}

TEST_F(QuantTest, ActivationObserverDefaultsAndKwargsAreExplicit) {
  auto acts = [&](const std::string& a) {
    return params(recipe("{strategy: channel}", a))["config_groups"]["group_0"]
                        ["input_activations"];
  };
  EXPECT_EQ(acts("{}")["observer"], "static_minmax");
  EXPECT_EQ(acts("{observer: minmax}")["observer_kwargs"],
            json::parse(R"({"averaging_constant": 0.01})"));
  EXPECT_EQ(acts("{observer: mse}")["observer_kwargs"],
            json::parse(R"({"averaging_constant": 0.01, "maxshrink": 0.2, "patience": 5,
                            "grid": 100.0, "norm": 2.4})"));
  EXPECT_NE(acts("{observer: minmax}"), acts("{observer: static_minmax}"));
}

TEST_F(QuantTest, BadObserver) {
  EXPECT_EQ(check(recipe("{strategy: channel}", "{observer: minmax_static}")),
            "pipline/2-quant/q.yaml:9:39: error: invalid value 'minmax_static' for 'observer' "
            "(allowed: static_minmax, minmax, memoryless_minmax, mse, memoryless_mse)\n"
            "    9 |         input_activations: {observer: minmax_static}\n"
            "      |                                       ^~~~~~~~~~~~~\n");
}

TEST_F(QuantTest, ObserverOnDynamicActivationsWarns) {
  EXPECT_EQ(check(recipe("{strategy: channel}",
                         "{strategy: token, dynamic: true, observer: minmax}",
                         "QuantizationModifier", "")),
            "pipline/2-quant/q.yaml:9:61: warning: 'observer' is ignored for dynamic activations "
            "(their scales are computed at run time)\n"
            "    9 |         input_activations: {strategy: token, dynamic: true, observer: "
            "minmax}\n"
            "      |                                                             "
            "^~~~~~~~\n");
}

TEST_F(QuantTest, ActorderOnRtnWarnsAndIsDropped) {
  std::string yaml =
      recipe("{strategy: channel, actorder: static}", "", "QuantizationModifier", "");
  EXPECT_EQ(check(yaml),
            "pipline/2-quant/q.yaml:8:38: warning: 'actorder' has no effect with "
            "QuantizationModifier (it orders GPTQ's columns); ignored\n"
            "    8 |         weights: {strategy: channel, actorder: static}\n"
            "      |                                      ^~~~~~~~\n");
  EXPECT_FALSE(params(yaml)["config_groups"]["group_0"]["weights"].contains("actorder"));
}

TEST_F(QuantTest, GptqDefaults) {
  json p = params(recipe("{strategy: channel}", "", "GPTQModifier"));
  EXPECT_EQ(p["modifier"], "GPTQModifier");
  EXPECT_EQ(p["block_size"], 128);
  EXPECT_EQ(p["dampening_frac"], 0.01);
  EXPECT_TRUE(p["dampening_frac"].is_number_float());
  // llm-compressor 0.14: GPTQModifier.actorder defaults to "static" = "weight".
  EXPECT_EQ(p["config_groups"]["group_0"]["weights"]["actorder"], "weight");
  EXPECT_EQ(p["calibration"]["source_kind"], "txt");
}

TEST_F(QuantTest, GptqNeedsCalibration) {
  EXPECT_EQ(check(recipe("{strategy: channel}", "", "GPTQModifier", "")),
            "pipline/2-quant/q.yaml:4:3: error: GPTQModifier needs calibration data: add a "
            "'calibration' section with a 'source'\n"
            "    4 |   GPTQModifier:\n"
            "      |   ^~~~~~~~~~~~\n");
}

TEST_F(QuantTest, StaticActivationsNeedCalibration) {
  EXPECT_EQ(check(recipe("{strategy: channel}", "{strategy: tensor}", "QuantizationModifier", "")),
            "pipline/2-quant/q.yaml:4:3: error: static input activations need calibration data: "
            "add a 'calibration' section with a 'source'\n"
            "    4 |   QuantizationModifier:\n"
            "      |   ^~~~~~~~~~~~~~~~~~~~\n");
}

TEST_F(QuantTest, ActorderAliasesAndModifierLevelNull) {
  auto order = [&](const std::string& weights, const std::string& modifier_extra) {
    return params(recipe(weights, "", "GPTQModifier",
                         modifier_extra + "calibration: {source: data/calib.txt}\n"))
        ["config_groups"]["group_0"]["weights"]["actorder"];
  };
  EXPECT_EQ(order("{strategy: channel, actorder: static}", ""), "weight");
  EXPECT_EQ(order("{strategy: channel, actorder: weight}", ""), "weight");
  EXPECT_EQ(order("{strategy: channel}", "    actorder: null\n"), nullptr);
  EXPECT_EQ(order("{strategy: channel}", "    actorder: false\n"), nullptr);
  EXPECT_EQ(order("{strategy: channel}", "    actorder: static\n"), "weight");
}

TEST_F(QuantTest, GroupLevelNullActorderWarnsLikeLlmCompressor) {
  std::string yaml = recipe("{strategy: channel, actorder: null}", "", "GPTQModifier");
  EXPECT_EQ(check(yaml),
            "pipline/2-quant/q.yaml:8:48: warning: 'actorder: null' in a config group does not "
            "turn activation ordering off (llm-compressor 0.14 applies GPTQModifier's default "
            "'static'); set 'actorder: null' on GPTQModifier instead\n"
            "    8 |         weights: {strategy: channel, actorder: null}\n"
            "      |                                                ^~~~\n");
  EXPECT_EQ(params(yaml)["config_groups"]["group_0"]["weights"]["actorder"], "weight");
}

TEST_F(QuantTest, ConflictingActorder) {
  EXPECT_EQ(check(recipe("{strategy: channel, actorder: weight}", "", "GPTQModifier",
                         "    actorder: null\ncalibration: {source: data/calib.txt}\n")),
            "pipline/2-quant/q.yaml:8:48: error: actorder 'weight' in group 'group_0' conflicts "
            "with GPTQModifier's actorder 'null'; set only one of them\n"
            "    8 |         weights: {strategy: channel, actorder: weight}\n"
            "      |                                                ^~~~~~\n");
}

TEST_F(QuantTest, RemovedActorderValues) {
  EXPECT_EQ(check(recipe("{strategy: channel, actorder: group}", "", "GPTQModifier")),
            "pipline/2-quant/q.yaml:8:48: error: actorder 'group' was removed in "
            "compressed-tensors 0.19; use 'weight' (alias 'static') or null\n"
            "    8 |         weights: {strategy: channel, actorder: group}\n"
            "      |                                                ^~~~~\n");
  EXPECT_EQ(check(recipe("{strategy: channel, actorder: true}", "", "GPTQModifier")),
            "pipline/2-quant/q.yaml:8:48: error: 'actorder: true' is not accepted: it meant "
            "'group', which compressed-tensors 0.19 removed; use 'weight' (alias 'static') or "
            "false\n"
            "    8 |         weights: {strategy: channel, actorder: true}\n"
            "      |                                                ^~~~\n");
}

TEST_F(QuantTest, GptqFieldRanges) {
  EXPECT_EQ(check(recipe("{strategy: channel}", "", "GPTQModifier",
                         "    block_size: 0\n    dampening_frac: 1.5\n"
                         "calibration: {source: data/calib.txt}\n")),
            "pipline/2-quant/q.yaml:9:17: error: 'block_size' must be positive, got 0\n"
            "    9 |     block_size: 0\n"
            "      |                 ^\n"
            "pipline/2-quant/q.yaml:10:21: error: 'dampening_frac' must be in [0, 1), got 1.5\n"
            "   10 |     dampening_frac: 1.5\n"
            "      |                     ^~~\n");
}

TEST_F(QuantTest, GptqOnlyKeysAreUnknownForRtn) {
  EXPECT_EQ(check(recipe("{strategy: channel}", "", "QuantizationModifier",
                         "    block_size: 64\n")),
            "pipline/2-quant/q.yaml:9:5: error: unknown key 'block_size' in "
            "'QuantizationModifier'\n"
            "    9 |     block_size: 64\n"
            "      |     ^~~~~~~~~~\n");
}

TEST_F(QuantTest, CalibrationSources) {
  EXPECT_EQ(check(recipe("{strategy: channel}", "", "GPTQModifier",
                         "calibration: {source: data/nope.txt}\n")),
            "pipline/2-quant/q.yaml:9:23: error: calibration source 'data/nope.txt' does not "
            "exist; see data/HELP.md for how to get it\n"
            "    9 | calibration: {source: data/nope.txt}\n"
            "      |                       ^~~~~~~~~~~~~\n");
  write("data/calib.csv", "x\n");
  EXPECT_EQ(check(recipe("{strategy: channel}", "", "GPTQModifier",
                         "calibration: {source: data/calib.csv}\n")),
            "pipline/2-quant/q.yaml:9:23: error: calibration source 'data/calib.csv' must be a "
            ".txt or .jsonl file\n"
            "    9 | calibration: {source: data/calib.csv}\n"
            "      |                       ^~~~~~~~~~~~~~\n");
  auto kind = [&](const std::string& source) {
    return params(recipe("{strategy: channel}", "", "GPTQModifier",
                         "calibration: {source: " + source + "}\n"))["calibration"]
        ["source_kind"];
  };
  EXPECT_EQ(kind("data/calib.jsonl"), "jsonl");
  EXPECT_EQ(check(recipe("{strategy: channel}", "", "GPTQModifier",
                         "calibration: {source: data/datasets/gsm8k}\n")),
            "pipline/2-quant/q.yaml:9:23: error: calibration source 'data/datasets/gsm8k' is a "
            "directory; calibration reads a .txt or .jsonl file (dataset directories are not "
            "supported)\n"
            "    9 | calibration: {source: data/datasets/gsm8k}\n"
            "      |                       ^~~~~~~~~~~~~~~~~~~\n");
}

TEST_F(QuantTest, CalibrationNumbers) {
  EXPECT_EQ(check(recipe("{strategy: channel}", "", "GPTQModifier",
                         "calibration: {source: data/calib.txt, num_samples: 0, seq_len: -1}\n")),
            "pipline/2-quant/q.yaml:9:52: error: 'num_samples' must be in [1, 1000000], got 0\n"
            "    9 | calibration: {source: data/calib.txt, num_samples: 0, seq_len: -1}\n"
            "      |                                                    ^\n"
            "pipline/2-quant/q.yaml:9:64: error: 'seq_len' must be in [1, 1048576], got -1\n"
            "    9 | calibration: {source: data/calib.txt, num_samples: 0, seq_len: -1}\n"
            "      |                                                                ^~\n");
}

TEST_F(QuantTest, GroupWithoutWeights) {
  EXPECT_EQ(check(recipe("null")),
            "pipline/2-quant/q.yaml:8:18: error: config group 'group_0' needs 'weights': "
            "activation-only quantization is not supported\n"
            "    8 |         weights: null\n"
            "      |                  ^~~~\n");
}

TEST_F(QuantTest, EmptyConfigGroupsAndTargets) {
  EXPECT_EQ(check("name: q\noutput_suffix: -q\nquant_modifiers:\n  QuantizationModifier:\n"
                  "    config_groups: {}\n"),
            "pipline/2-quant/q.yaml:5:20: error: 'config_groups' is empty\n"
            "    5 |     config_groups: {}\n"
            "      |                    ^\n");
  EXPECT_EQ(check("name: q\noutput_suffix: -q\nquant_modifiers:\n  QuantizationModifier:\n"
                  "    config_groups:\n      g: {targets: [], weights: {strategy: channel}}\n"),
            "pipline/2-quant/q.yaml:6:20: error: 'targets' must not be empty\n"
            "    6 |       g: {targets: [], weights: {strategy: channel}}\n"
            "      |                    ^\n");
}

TEST_F(QuantTest, ModifierTargetsWithConfigGroupsWarn) {
  EXPECT_EQ(check(recipe("{strategy: channel}", "", "QuantizationModifier",
                         "    targets: [Linear]\n")),
            "pipline/2-quant/q.yaml:9:5: warning: 'targets' is ignored when 'config_groups' is "
            "given (each group has its own targets)\n"
            "    9 |     targets: [Linear]\n"
            "      |     ^~~~~~~\n");
}

TEST_F(QuantTest, IgnoreAndTargetsAreSets) {
  json a = params(recipe("{strategy: channel}", "", "QuantizationModifier",
                         "    ignore: [lm_head, \"re:.*down_proj$\", lm_head]\n"));
  json b = params(recipe("{strategy: channel}", "", "QuantizationModifier",
                         "    ignore: [\"re:.*down_proj$\", lm_head]\n"));
  EXPECT_EQ(a, b);
  EXPECT_EQ(a["ignore"], json({"lm_head", "re:.*down_proj$"}));
}

TEST_F(QuantTest, DuplicateGroupName) {
  EXPECT_EQ(check("name: q\noutput_suffix: -q\nquant_modifiers:\n  QuantizationModifier:\n"
                  "    config_groups:\n"
                  "      g: {targets: [Linear], weights: {strategy: channel}}\n"
                  "      g: {targets: [Linear], weights: {strategy: channel}}\n"),
            "pipline/2-quant/q.yaml:7:7: error: duplicate key 'g'\n"
            "    7 |       g: {targets: [Linear], weights: {strategy: channel}}\n"
            "      |       ^\n"
            "pipline/2-quant/q.yaml:6:7: note: first defined here\n"
            "    6 |       g: {targets: [Linear], weights: {strategy: channel}}\n"
            "      |       ^\n");
}

}  // namespace
}  // namespace qb::config::testing
