// pipline/2-quant with FP8: the presets and the same recipes written as config_groups (one node
// key), block_structure spellings, the modifier's kv_cache_scheme, and the FP8 rules reported at
// file:line:col with compressed-tensors' / vLLM's messages.
#include <gtest/gtest.h>

#include "test_project.h"

namespace qb::config::testing {
namespace {

using nlohmann::json;

std::string modifier(const std::string& body, const std::string& extra = "") {
  return "name: q\n"
         "output_suffix: -q\n"
         "quant_modifiers:\n"
         "  QuantizationModifier:\n" +
         body + extra;
}

// One config group; weights on line 8, input activations on line 9.
std::string group(const std::string& weights, const std::string& acts, const std::string& extra = "") {
  return modifier("    config_groups:\n"
                  "      group_0:\n"
                  "        targets: [Linear]\n"
                  "        weights: " + weights + "\n"
                  "        input_activations: " + acts + "\n",
                  extra);
}

const char* kCalib = "calibration: {source: data/calib.txt}\n";

class Fp8ConfigTest : public QuantRecipeTest {
 protected:
  // The recipe, which must load without a single diagnostic.
  json params(const std::string& yaml) {
    json j = QuantRecipeTest::params(yaml);
    EXPECT_EQ(diags_.render(), "");
    return j;
  }
};

TEST_F(Fp8ConfigTest, PresetsEqualTheirConfigGroups) {
  EXPECT_EQ(params(modifier("    scheme: FP8_DYNAMIC\n    ignore: [lm_head]\n")),
            params(group("{type: float, strategy: channel}", "{type: float, strategy: token, dynamic: true}",
                         "    ignore: [lm_head]\n")));
  EXPECT_EQ(params(modifier("    scheme: fp8_block\n")),
            params(group("{type: float, strategy: block, block_structure: [128, 128]}",
                         "{type: float, strategy: group, group_size: 128, dynamic: true}")));
  EXPECT_EQ(params(modifier("    scheme: FP8\n", kCalib)),
            params(group("{type: float, strategy: tensor}",
                         "{type: float, strategy: tensor, observer: static_minmax}", kCalib)));
}

TEST_F(Fp8ConfigTest, BlockStructureReadsAsAListOrRowsXCols) {
  const std::string acts = "{type: float, strategy: group, group_size: 64, dynamic: true}";
  const json a = params(group("{type: float, strategy: block, block_structure: [64, 64]}", acts));
  EXPECT_EQ(a["config_groups"]["group_0"]["weights"]["block_structure"], json::array({64, 64}));
  EXPECT_EQ(params(group("{type: float, strategy: block, block_structure: 64x64}", acts)), a);
}

TEST_F(Fp8ConfigTest, KvCacheSchemeKeepsAnUnwrittenObserverUnset) {
  const json p = params(modifier("    scheme: FP8_DYNAMIC\n"
                                 "    kv_cache_scheme: {num_bits: 8, type: float, strategy: tensor, "
                                 "dynamic: false, symmetric: true}\n",
                                 kCalib));
  EXPECT_EQ(p["kv_cache_scheme"]["type"], "float");
  EXPECT_EQ(p["kv_cache_scheme"]["strategy"], "tensor");
  EXPECT_TRUE(p["kv_cache_scheme"]["observer"].is_null());
  EXPECT_TRUE(p.contains("calibration"));
  const json h = params(modifier("    scheme: FP8_DYNAMIC\n"
                                 "    kv_cache_scheme: {type: float, strategy: attn_head, observer: static_minmax}\n",
                                 kCalib));
  EXPECT_EQ(h["kv_cache_scheme"]["strategy"], "attn_head");
  EXPECT_EQ(h["kv_cache_scheme"]["observer"], "static_minmax");
}

TEST_F(Fp8ConfigTest, InvalidBlockStructureIsCompressedTensorsError) {
  EXPECT_EQ(check(group("{type: float, strategy: block, block_structure: [128, 0]}",
                        "{type: float, strategy: group, group_size: 128, dynamic: true}")),
            "pipline/2-quant/q.yaml:8:72: error: Invalid block_structure '[128, 0]'. Must be a list of "
            "positive ints [rows, cols].\n"
            "    8 |         weights: {type: float, strategy: block, block_structure: [128, 0]}\n"
            "      |                                                                        ^\n");
}

TEST_F(Fp8ConfigTest, BlockStrategyNeedsABlockStructure) {
  EXPECT_EQ(check(group("{type: float, strategy: block}",
                        "{type: float, strategy: group, group_size: 128, dynamic: true}")),
            "pipline/2-quant/q.yaml:8:42: error: Block strategy requires block structure (add "
            "'block_structure: [128, 128]')\n"
            "    8 |         weights: {type: float, strategy: block}\n"
            "      |                                          ^~~~~\n");
}

TEST_F(Fp8ConfigTest, StaticPerTokenIsRejectedAtTheStrategy) {
  EXPECT_EQ(check(group("{type: float, strategy: channel}", "{type: float, strategy: token}", kCalib)),
            "pipline/2-quant/q.yaml:9:52: error: Cannot perform static token quantization, please use "
            "`dynamic=True` (strategy 'token' requires 'dynamic: true')\n"
            "    9 |         input_activations: {type: float, strategy: token}\n"
            "      |                                                    ^~~~~\n");
}

TEST_F(Fp8ConfigTest, AsymmetricFp8IsRejectedAtSymmetric) {
  EXPECT_EQ(check(group("{type: float, strategy: channel, symmetric: false}",
                        "{type: float, strategy: token, dynamic: true}")),
            "pipline/2-quant/q.yaml:8:62: error: asymmetric fp8 weights are not supported: vLLM loads "
            "fp8 weights only symmetric (vLLM: \"No compressed-tensors compatible scheme was found.\"); "
            "use 'symmetric: true'\n"
            "    8 |         weights: {type: float, strategy: channel, symmetric: false}\n"
            "      |                                                              ^~~~~\n");
}

TEST_F(Fp8ConfigTest, KvCacheRulesPointIntoTheScheme) {
  EXPECT_EQ(check(modifier("    scheme: FP8_DYNAMIC\n"
                           "    kv_cache_scheme: {type: float, strategy: token, dynamic: true}\n",
                           kCalib)),
            "pipline/2-quant/q.yaml:6:46: error: Invalid strategy for compressed-tensors KV cache. "
            "Expected strategies: tensor, attn_head, found strategy: token (vLLM)\n"
            "    6 |     kv_cache_scheme: {type: float, strategy: token, dynamic: true}\n"
            "      |                                              ^~~~~\n"
            "pipline/2-quant/q.yaml:6:62: error: the KV cache is quantized with static scales "
            "(calibrated, stored as k_scale / v_scale): 'dynamic' must be false\n"
            "    6 |     kv_cache_scheme: {type: float, strategy: token, dynamic: true}\n"
            "      |                                                              ^~~~\n");
}

}  // namespace
}  // namespace qb::config::testing
