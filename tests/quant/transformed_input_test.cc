// A SpinQuant-transformed input model: its quantization_config holds only a transform_config
// (as llm-compressor writes it) with an online Hadamard before down_proj (R4). The quantize step
// accepts it, keeps the transform_config, and calibrates down_proj on the TRANSFORMED input.
#include <gtest/gtest.h>

#include "quant/recipe_json.h"

#include <nlohmann/json.hpp>

#include "steps/model/linear.h"
#include "steps/model/model.h"
#include "steps/model_io/checkpoint.h"
#include "steps/quant/quantize.h"
#include "util/fs.h"

namespace qb::quant {
namespace {

using nlohmann::json;

const std::string kTiny = std::string(QB_SOURCE_DIR) + "/tests/golden/models/qwen3-tiny";

json r4_transform_config() {
  return json::parse(R"J({"config_groups": {"R4": {
      "type": "hadamard", "head_dim": null, "randomize": false, "requires_grad": false,
      "precision": "torch.float64",
      "apply": [{"targets": ["re:.*down_proj$"], "location": "input", "inverse": false,
                 "ignore": []},
                {"targets": ["re:.*down_proj$"], "location": "weight_input", "inverse": true,
                 "ignore": []}]}}})J");
}

// qwen3-tiny with llm-compressor's transform-only quantization_config added.
fs::TempDir transformed_model() {
  auto dir = fs::TempDir::create(::testing::TempDir(), "r4_").value();
  auto src = model_io::Checkpoint::open(kTiny).value();
  std::vector<std::pair<std::string, at::Tensor>> t;
  for (const auto& n : src.tensor_names()) t.emplace_back(n, *src.load(n));
  json config = src.config();
  config["quantization_config"] = {{"quant_method", "compressed-tensors"},
                                   {"sparsity_config", json::object()},
                                   {"transform_config", r4_transform_config()},
                                   {"version", "0.19.0"}};
  EXPECT_TRUE(model_io::save_checkpoint(dir.path(), t, config, src.generation_config()).is_ok());
  return dir;
}

TEST(TransformedInput, KeepsTransformConfigAndCalibratesOnTransformedInputs) {
  auto in = transformed_model();
  auto out = fs::TempDir::create(::testing::TempDir(), "r4q_").value();
  json p = {{"modifier", "GPTQModifier"}, {"scheme", "W8A8"}, {"ignore", {"lm_head"}},
            {"calibration", {{"num_samples", 2}, {"seq_len", 8}}}};
  QuantizeRequest req;
  req.recipe = *recipe_from_json(p);
  req.model_dir = in.path();
  req.output_dir = out.path() / "ckpt";
  req.calibration_samples = {{1, 2, 3, 4, 5, 6, 7, 8}, {9, 10, 11, 12, 13, 14, 15, 16}};
  json report;
  req.report = &report;
  auto s = run_quantize(req);
  ASSERT_TRUE(s.is_ok()) << s.to_string();

  auto ckpt = model_io::Checkpoint::open(req.output_dir).value();
  const auto& qc = ckpt.config()["quantization_config"];
  EXPECT_EQ(qc["transform_config"], r4_transform_config());
  EXPECT_EQ(qc["quantization_status"], "compressed");

  // The down_proj input statistics in the report are those of H·x, not x.
  auto model = model::Model::load(in.path()).value();
  const std::string m = "model.layers.0.mlp.down_proj";
  auto lin = std::dynamic_pointer_cast<const model::TransformedLinear>(model.linear(m));
  ASSERT_TRUE(lin) << "the runtime should put the R4 transform in front of down_proj";
  double raw = 0, transformed = 0;
  model::ForwardHooks hooks;
  hooks.linear_input = [&](const std::string& name, const at::Tensor& x) {
    if (name != m) return;
    raw = std::max(raw, x.abs().max().item<double>());
    transformed = std::max(transformed, lin->transform()->apply(x).abs().max().item<double>());
  };
  for (const auto& sample : req.calibration_samples) {
    auto ids = at::tensor(sample, at::kLong).unsqueeze(0);
    model.forward(ids, at::ones_like(ids, at::kBool), nullptr, &hooks);
  }
  ASSERT_NE(raw, transformed);
  double reported = -1;
  for (const auto& l : report["linears"])
    if (l["module"] == m) reported = l["activations"]["absmax"].get<double>();
  EXPECT_NEAR(reported, transformed, 1e-6 * transformed);

  // And the quantized checkpoint still runs with the online transform.
  auto q = model::Model::load(req.output_dir);
  ASSERT_TRUE(q.is_ok()) << q.status().to_string();
  EXPECT_TRUE(std::dynamic_pointer_cast<const model::TransformedLinear>(q->linear(m)));
}

}  // namespace
}  // namespace qb::quant
