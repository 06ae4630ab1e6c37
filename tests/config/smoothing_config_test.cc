// pipline/2-quant recipes with several modifiers (issue 20): SmoothQuantModifier / AWQModifier
// stages before the quantization modifier, in llm-compressor's spellings, and every rule of the
// stages reported at its file:line:col.
#include <gtest/gtest.h>

#include "test_project.h"

namespace qb::config::testing {
namespace {

using nlohmann::json;

class SmoothTest : public QuantRecipeTest {};

const std::string kHead = "name: q\noutput_suffix: -q\n";
const std::string kCalib = "calibration: {source: data/calib.txt, num_samples: 4, seq_len: 16}\n";

TEST_F(SmoothTest, ListFormAndMappingFormAreTheSameRecipe) {
  json list = params(kHead +
                     "quant_modifiers:\n"
                     "  - SmoothQuantModifier: {smoothing_strength: 0.8}\n"
                     "  - GPTQModifier: {scheme: W8A8, ignore: [lm_head]}\n" +
                     kCalib);
  json map = params(kHead +
                    "quant_modifiers:\n"
                    "  SmoothQuantModifier:\n"
                    "    smoothing_strength: 0.8\n"
                    "  GPTQModifier:\n"
                    "    scheme: W8A8\n"
                    "    ignore: [lm_head]\n" +
                    kCalib);
  EXPECT_EQ(list, map);
  ASSERT_TRUE(list.contains("stages"));
  EXPECT_EQ(list["modifier"], "GPTQModifier");
  EXPECT_EQ(list["stages"][0]["smoothing_strength"], 0.8);
}

// The defaults are spelled out (llm-compressor's Qwen3/Qwen2/Llama mappings); writing them gives
// the same key, in either mapping spelling.
TEST_F(SmoothTest, DefaultsAreSpelledOutAndEqualTheWrittenDefaults) {
  json defaults = params(kHead +
                         "quant_modifiers:\n"
                         "  - SmoothQuantModifier: {}\n"
                         "  - QuantizationModifier: {scheme: W8A8}\n" +
                         kCalib);
  EXPECT_EQ(defaults["stages"][0], json::parse(R"j({
    "modifier": "SmoothQuantModifier", "smoothing_strength": 0.5, "ignore": [],
    "mappings": [
      {"smooth_layer": "re:.*input_layernorm", "balance_layers": ["re:.*q_proj", "re:.*k_proj", "re:.*v_proj"]},
      {"smooth_layer": "re:.*post_attention_layernorm", "balance_layers": ["re:.*gate_proj", "re:.*up_proj"]}]
  })j"));
  json written = params(kHead +
                        "quant_modifiers:\n"
                        "  - SmoothQuantModifier:\n"
                        "      smoothing_strength: 0.5\n"
                        "      mappings:\n"
                        "        - [[\"re:.*q_proj\", \"re:.*k_proj\", \"re:.*v_proj\"], \"re:.*input_layernorm\"]\n"
                        "        - smooth_layer: \"re:.*post_attention_layernorm\"\n"
                        "          balance_layers: [\"re:.*gate_proj\", \"re:.*up_proj\"]\n"
                        "  - QuantizationModifier: {scheme: W8A8}\n" +
                        kCalib);
  EXPECT_EQ(written, defaults);
  json awq = params(kHead +
                    "quant_modifiers:\n"
                    "  AWQModifier: {}\n"
                    "  QuantizationModifier: {scheme: W4A16_ASYM, ignore: [lm_head]}\n" +
                    kCalib);
  EXPECT_EQ(awq["stages"][0]["duo_scaling"], true);
  EXPECT_EQ(awq["stages"][0]["n_grid"], 20);
  EXPECT_EQ(awq["stages"][0]["mappings"].size(), 4u);
  EXPECT_EQ(awq["stages"][0]["mappings"][1],
            json::parse(R"j({"smooth_layer": "re:.*v_proj$", "balance_layers": ["re:.*o_proj$"]})j"));
}

TEST_F(SmoothTest, AwqDuoScalingBoth) {
  json p = params(kHead +
                  "quant_modifiers:\n"
                  "  AWQModifier: {duo_scaling: both, n_grid: 10}\n"
                  "  QuantizationModifier: {scheme: W4A16}\n" +
                  kCalib);
  EXPECT_EQ(p["stages"][0]["duo_scaling"], "both");
  EXPECT_EQ(p["stages"][0]["n_grid"], 10);
}

TEST_F(SmoothTest, UnknownMappingNameAtItsValue) {
  EXPECT_EQ(check(kHead +
                  "quant_modifiers:\n"
                  "  SmoothQuantModifier:\n"
                  "    mappings:\n"
                  "      - [[\"re:.*fc1\"], \"re:.*post_attention_layernorm\"]\n"
                  "  QuantizationModifier: {scheme: W8A8}\n" +
                  kCalib),
            "pipline/2-quant/q.yaml:6:11: error: 're:.*fc1' matches no module of a Qwen3/Qwen2/Llama decoder "
            "layer (its modules: self_attn.q_proj, self_attn.k_proj, self_attn.v_proj, self_attn.o_proj, "
            "self_attn.q_norm, self_attn.k_norm, mlp.gate_proj, mlp.up_proj, mlp.down_proj, input_layernorm, "
            "post_attention_layernorm, under model.layers.<i>.)\n"
            "    6 |       - [[\"re:.*fc1\"], \"re:.*post_attention_layernorm\"]\n"
            "      |           ^~~~~~~~~~\n");
}

TEST_F(SmoothTest, MappingWhoseShapesDoNotMatch) {
  EXPECT_EQ(check(kHead +
                  "quant_modifiers:\n"
                  "  AWQModifier:\n"
                  "    mappings:\n"
                  "      - smooth_layer: \"re:.*input_layernorm$\"\n"
                  "        balance_layers: [\"re:.*q_proj$\", \"re:.*k_proj$\", \"re:.*v_proj$\", \"re:.*o_proj$\"]\n"
                  "  QuantizationModifier: {scheme: W4A16}\n" +
                  kCalib),
            "pipline/2-quant/q.yaml:7:74: error: self_attn.o_proj does not read input_layernorm's output (its "
            "readers: self_attn.q_proj, self_attn.k_proj, self_attn.v_proj): the shapes do not match\n"
            "    7 |         balance_layers: [\"re:.*q_proj$\", \"re:.*k_proj$\", \"re:.*v_proj$\", \"re:.*o_proj$\"]\n"
            "      |                                                                          ^~~~~~~~~~~~~~\n");
}

TEST_F(SmoothTest, AwqWithActivationQuantizationIsRejected) {
  EXPECT_EQ(check(kHead +
                  "quant_modifiers:\n"
                  "  - AWQModifier: {}\n"
                  "  - QuantizationModifier:\n"
                  "      config_groups:\n"
                  "        group_0:\n"
                  "          targets: [Linear]\n"
                  "          weights: {strategy: channel}\n"
                  "          input_activations: {strategy: token, dynamic: true}\n" +
                  kCalib),
            "pipline/2-quant/q.yaml:10:30: error: AWQModifier (stage 0) searches its scales for weight-only "
            "quantization; config group 'group_0' also quantizes input activations (use SmoothQuantModifier for "
            "W8A8)\n"
            "   10 |           input_activations: {strategy: token, dynamic: true}\n"
            "      |                              ^\n");
}

TEST_F(SmoothTest, SmoothingAfterTheQuantizationModifier) {
  EXPECT_EQ(check(kHead +
                  "quant_modifiers:\n"
                  "  - GPTQModifier: {scheme: W8A8}\n"
                  "  - SmoothQuantModifier: {}\n" +
                  kCalib),
            "pipline/2-quant/q.yaml:5:5: error: 'SmoothQuantModifier' must come before the quantization "
            "modifier 'GPTQModifier' (it transforms the model that is then quantized)\n"
            "    5 |   - SmoothQuantModifier: {}\n"
            "      |     ^~~~~~~~~~~~~~~~~~~\n");
}

TEST_F(SmoothTest, OnlySmoothingIsNotARecipe) {
  EXPECT_EQ(check(kHead + "quant_modifiers:\n  - SmoothQuantModifier: {}\n" + kCalib),
            "pipline/2-quant/q.yaml:4:5: error: 'quant_modifiers' needs one of QuantizationModifier, GPTQModifier "
            "(after any SmoothQuantModifier / AWQModifier)\n"
            "    4 |   - SmoothQuantModifier: {}\n"
            "      |     ^~~~~~~~~~~~~~~~~~~\n");
}

TEST_F(SmoothTest, UnknownKeysAndBadValues) {
  EXPECT_EQ(check(kHead +
                  "quant_modifiers:\n"
                  "  SmoothQuantModifier: {smoothing_strenght: 0.8}\n"
                  "  QuantizationModifier: {scheme: W8A8}\n" +
                  kCalib),
            "pipline/2-quant/q.yaml:4:25: error: unknown key 'smoothing_strenght' in 'SmoothQuantModifier'; did "
            "you mean 'smoothing_strength'?\n"
            "    4 |   SmoothQuantModifier: {smoothing_strenght: 0.8}\n"
            "      |                         ^~~~~~~~~~~~~~~~~~\n");
  EXPECT_EQ(check(kHead +
                  "quant_modifiers:\n"
                  "  AWQModifier: {duo_scaling: maybe}\n"
                  "  QuantizationModifier: {scheme: W4A16}\n" +
                  kCalib),
            "pipline/2-quant/q.yaml:4:30: error: duo_scaling must be true, false or 'both', got 'maybe'\n"
            "    4 |   AWQModifier: {duo_scaling: maybe}\n"
            "      |                              ^~~~~\n");
  EXPECT_EQ(check(kHead +
                  "quant_modifiers:\n"
                  "  SmoothQuantModifier: {smoothing_strength: 2}\n"
                  "  QuantizationModifier: {scheme: W8A8}\n" +
                  kCalib),
            "pipline/2-quant/q.yaml:4:45: error: 'smoothing_strength' must be in [0, 1], got 2\n"
            "    4 |   SmoothQuantModifier: {smoothing_strength: 2}\n"
            "      |                                             ^\n");
}

TEST_F(SmoothTest, SmoothingNeedsCalibration) {
  EXPECT_EQ(check(kHead + "quant_modifiers:\n  AWQModifier: {}\n  QuantizationModifier: {scheme: W4A16}\n"),
            "pipline/2-quant/q.yaml:5:3: error: AWQModifier needs calibration data: add a 'calibration' section "
            "with a 'source'\n"
            "    5 |   QuantizationModifier: {scheme: W4A16}\n"
            "      |   ^~~~~~~~~~~~~~~~~~~~\n");
}

}  // namespace
}  // namespace qb::config::testing
