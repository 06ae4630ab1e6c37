// Agreement with llm-compressor 0.14's SpinQuantModifier (transform_type hadamard, R1+R2+R4) on
// the tiny fixtures (tests/golden/scripts/transforms_llmcompressor.py): the same fused weights,
// the same stored R4 weight, the same config.json quantization_config — with centering on
// (llm-compressor as shipped) for qwen3-tiny and off (qbuild's default) for qwen2-tiny.
#include <gtest/gtest.h>

#include "steps/transforms/transform_config.h"
#include "tiny_forward.h"
#include "util/fs.h"

namespace qb::transforms {
namespace {

const std::string kRoot = std::string(QB_SOURCE_DIR) + "/tests/golden/";

struct Golden {
  const char* model;
  const char* dir;
  bool center;
};

class LlmCompressorGolden : public ::testing::TestWithParam<Golden> {};

TEST_P(LlmCompressorGolden, SameWeightsAndConfig) {
  const auto g = GetParam();
  auto src_ckpt = model_io::Checkpoint::open(kRoot + "models/" + g.model);
  ASSERT_TRUE(src_ckpt.is_ok()) << src_ckpt.status().to_string();
  auto want_file = model_io::SafetensorsReader::open(kRoot + "transforms/" + g.dir + "/model.safetensors");
  ASSERT_TRUE(want_file.is_ok()) << want_file.status().to_string();
  auto expected = nlohmann::json::parse(*fs::read_file(kRoot + "transforms/" + g.dir + "/expected.json"));
  auto config = model::ModelConfig::from_json(src_ckpt->config());
  ASSERT_TRUE(config.is_ok()) << config.status().to_string();

  SpinQuantParams p;
  p.rotations = {RotationId::kR1, RotationId::kR2, RotationId::kR4};
  p.center_embeddings = g.center;
  auto plan = SpinQuantPlan::create(p, *config);
  ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
  const auto got = testing::fuse(*plan, testing::load_all(*src_ckpt));
  testing::TensorMap want;
  for (const auto& e : want_file->entries()) want[e.name] = want_file->load(e).value().to(at::kDouble);
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, w] : want) {
    ASSERT_TRUE(got.count(name)) << name;
    const auto& t = got.at(name);
    ASSERT_EQ(t.sizes(), w.sizes()) << name;
    // llm-compressor rounds to fp32 after each step (fuse, then each rotation); we round once.
    const double err = (t - w).abs().max().item<double>() / std::max(w.abs().max().item<double>(), 1e-30);
    EXPECT_LE(err, 2e-6) << name;
  }
  EXPECT_EQ(transformed_model_config(src_ckpt->config(), *plan)["quantization_config"],
            expected["quantization_config"]);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, LlmCompressorGolden,
                         ::testing::Values(Golden{"qwen3-tiny", "llmc_qwen3_r124_centered", true},
                                           Golden{"qwen2-tiny", "llmc_qwen2_r124", false}),
                         [](const ::testing::TestParamInfo<Golden>& i) { return std::string(i.param.model) == "qwen3-tiny" ? "qwen3" : "qwen2"; });

}  // namespace
}  // namespace qb::transforms
