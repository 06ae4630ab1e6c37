// The configs shipped in pipline/: the Qwen3-8B pipeline, the example/ templates and the
// default project.yaml load without a single diagnostic (given the model, datasets and
// calibration file they name, faked here).
#include <gtest/gtest.h>

#include "test_project.h"
#include "util/fs.h"

namespace qb::config::testing {
namespace {

namespace stdfs = std::filesystem;

class RepoConfigsTest : public ProjectTest {
 protected:
  void SetUp() override {
    ProjectTest::SetUp();
    write("data/models/Qwen/Qwen3-8B/config.json", "{}\n");
    write("data/calibration/wikitext2-train.txt", std::string(4096, 't'));  // ≥ seq_len bytes
  }
  // Copies <source>/pipline/<from>/*.yaml (files only) to pipline/<to>/ in the test project.
  void copy_configs(const std::string& from, const std::string& to) {
    stdfs::path src = stdfs::path(QB_SOURCE_DIR) / "pipline" / from;
    ASSERT_TRUE(stdfs::is_directory(src)) << src;
    for (const auto& e : stdfs::directory_iterator(src)) {
      if (!e.is_regular_file() || e.path().extension() != ".yaml") continue;
      auto text = fs::read_file(e.path());
      ASSERT_TRUE(text.is_ok());
      write("pipline/" + to + "/" + e.path().filename().string(), *text);
    }
  }
};

TEST_F(RepoConfigsTest, Qwen3PipelineLoadsCleanly) {
  for (const char* stage : {"1-trans", "2-quant", "3-eval"})
    copy_configs(std::string("qwen3-8b/") + stage, std::string("qwen3-8b/") + stage);
  copy_configs("qwen3-8b", "qwen3-8b");  // project.yaml
  auto p = load("pipline/qwen3-8b");
  ASSERT_TRUE(p.is_ok()) << diags_.render();
  EXPECT_EQ(diags_.render(), "");
  EXPECT_EQ(p->project.devices, std::vector<int>{0});
  EXPECT_EQ(p->project.compute_dtype, "bfloat16");
  ASSERT_EQ(p->trans.size(), 2u);
  EXPECT_EQ(p->trans[0].kind, "original");
  EXPECT_EQ(p->trans[1].kind, "spinquant");
  ASSERT_EQ(p->quant.size(), 10u);
  int calibrated = 0;
  for (const QuantSpec& q : p->quant) calibrated += q.recipe.needs_calibration();
  EXPECT_EQ(calibrated, 8);  // all but the two RTN recipes without static activations
  EXPECT_EQ(p->quant[0].name, "awq-W4A16");  // sorted by file name
  // Issue 20's variants: the smoothing stage, then the quantization modifier.
  auto stages = [&](const std::string& name) {
    for (const QuantSpec& q : p->quant)
      if (q.name == name) {
        nlohmann::json j = q.recipe.to_json();
        std::string out = j.value("modifier", "");
        for (const auto& st : j.value("stages", nlohmann::json::array())) out = st["modifier"].get<std::string>() + " > " + out;
        return out;
      }
    return std::string("<missing>");
  };
  EXPECT_EQ(stages("awq-W4A16"), "AWQModifier > QuantizationModifier");
  EXPECT_EQ(stages("smoothquant-gptq-W8A8-static"), "SmoothQuantModifier > GPTQModifier");
  EXPECT_EQ(stages("smoothquant-rtn-W8A8-static"), "SmoothQuantModifier > QuantizationModifier");
  ASSERT_EQ(p->evals.size(), 1u);
  EXPECT_EQ(p->evals[0].dataset_name, "mmlu_gsm8k_20");
  EXPECT_EQ(p->evals[0].sample.total_samples, 20);
  EXPECT_EQ(p->evals[0].devices, std::vector<int>{0});
}

TEST_F(RepoConfigsTest, StaticAndDynamicRecipesDifferOnlyWhereTheyShould) {
  copy_configs("qwen3-8b/2-quant", "2-quant");
  auto p = load();
  ASSERT_TRUE(p.is_ok()) << diags_.render();
  auto find = [&](const std::string& name) {
    for (const QuantSpec& q : p->quant)
      if (q.name == name) return q.recipe.to_json();
    return nlohmann::json();
  };
  nlohmann::json a = find("gptq-W8A8-static"), b = find("gptq-ignore-down-W8A8-static");
  EXPECT_EQ(b["ignore"], nlohmann::json({"lm_head", "re:.*down_proj$"}));
  b["ignore"] = a["ignore"];
  EXPECT_EQ(a, b);
}

TEST_F(RepoConfigsTest, ExampleTemplatesAreValidConfigs) {
  for (const char* stage : {"1-trans", "2-quant", "3-eval"})
    copy_configs(std::string(stage) + "/example", stage);
  copy_configs("qwen3-8b", "");  // a project with GPU 0, which the eval template names
  auto p = load();
  ASSERT_TRUE(p.is_ok()) << diags_.render();
  EXPECT_EQ(diags_.render(), "");
  EXPECT_EQ(p->trans.size(), 2u);
  EXPECT_EQ(p->quant.size(), 3u);
  EXPECT_EQ(p->evals.size(), 1u);
}

TEST_F(RepoConfigsTest, DefaultProjectFileIsCpuOnly) {
  copy_configs("", "");
  auto p = load();
  ASSERT_TRUE(p.is_ok()) << diags_.render();
  EXPECT_EQ(diags_.render(), "");
  EXPECT_EQ(p->project.device, "cpu");
  EXPECT_EQ(p->project.compute_dtype, "float32");
}

}  // namespace
}  // namespace qb::config::testing
