// Model cards: Hugging Face front matter, recipe, calibration, results with recovery, the
// serving snippets, and the export folder's links.
#include <gtest/gtest.h>

#include "report/model_card.h"
#include "report_fixture.h"

namespace qb::report {
namespace {

using nlohmann::json;
using testing::csv_row;
using testing::kHeader;
using testing::Project;
using testing::slurp;

TEST(ModelCard, BaseModelIdFromTheSourceFolder) {
  EXPECT_EQ(base_model_id("data/models/Qwen/Qwen3-8B"), "Qwen/Qwen3-8B");
  EXPECT_EQ(base_model_id("data/models/Qwen/Qwen3-8B/"), "Qwen/Qwen3-8B");
  EXPECT_EQ(base_model_id("data/models/demo/qwen3-demo"), "demo/qwen3-demo");
  EXPECT_EQ(base_model_id("/srv/models/llama"), "llama");
  EXPECT_EQ(base_model_id(""), "");
}

TEST(ModelCard, LicenseFromTheSourceModelsCard) {
  Project p;
  p.write("a/README.md", "---\nlicense: apache-2.0\nlanguage: [en]\n---\n# A\n");
  p.write("b/README.md", "# no front matter\n");
  p.write("c/README.md", "---\nlicense: [unclosed\n---\n");
  EXPECT_EQ(card_license(p.root() / "a/README.md"), "apache-2.0");
  EXPECT_EQ(card_license(p.root() / "b/README.md"), "");
  EXPECT_EQ(card_license(p.root() / "c/README.md"), "");
  EXPECT_EQ(card_license(p.root() / "missing/README.md"), "");
}

class Card : public ::testing::Test {
 protected:
  Project p;
  std::string src, calib, trans, q;
  ResultsTable table;

  void SetUp() override {
    src = p.add_source("data/models/Org/Base-8B", 4000);
    calib = testing::key_of("calib");
    graph::Node c;
    c.kind = "source_file";
    c.key = calib;
    c.source_path = "data/calibration/calib.txt";
    p.graph().by_key[calib] = static_cast<int>(p.graph().nodes.size());
    p.graph().nodes.push_back(c);
    trans = p.add_artifact("trans", "Base-8B-r1r2", {{"rotations", {"R1", "R2"}}, {"transform_type", "hadamard"}},
                           {{"model", src}}, {{"model.safetensors", "t"}});
    q = p.add_quant("Base-8B-r1r2-gptq", testing::recipe("GPTQModifier", true, false), trans, testing::quant_report(2, true),
                    calib);
    auto t = ResultsTable::parse(std::string(kHeader) +
                                     csv_row("Base-8B", "(source)", "(none)", 0.8, 0.5, "", src, "base model") +
                                     csv_row("Base-8B-r1r2-gptq", "spinquant-r1r2", "gptq", 0.6, 0.5, "0.0123", q),
                                 "results/demo.csv");
    ASSERT_TRUE(t.is_ok()) << t.status().to_string();
    table = std::move(*t);
  }

  CardInput input() {
    auto s = p.sources();
    auto m = model_info(s, q);
    EXPECT_TRUE(m.is_ok());
    return CardInput{"Base-8B-r1r2-gptq", *m, {&table}, "0.1.0", "apache-2.0"};
  }
};

TEST_F(Card, FrontMatterInHuggingFaceForm) {
  const std::string c = render_model_card(input());
  ASSERT_EQ(c.rfind("---\n", 0), 0u);
  const std::string front = c.substr(0, c.find("\n---\n", 4) + 5);
  EXPECT_EQ(front,
            "---\nbase_model: Org/Base-8B\nbase_model_relation: quantized\nlibrary_name: transformers\n"
            "pipeline_tag: text-generation\nlicense: apache-2.0\ntags:\n- compressed-tensors\n- gptq\n- int8\n"
            "- qbuild\n- quantized\n- spinquant\n- w8a8\n---\n");
}

TEST_F(Card, RecipeTransformAndCalibration) {
  const std::string c = render_model_card(input());
  EXPECT_NE(c.find("`Org/Base-8B` quantized by qbuild 0.1.0 with `GPTQModifier` to W8A8: int8 weights (channel, "
                   "symmetric) and int8 activations (tensor, symmetric, static), after SpinQuant rotations."),
            std::string::npos)
      << c;
  EXPECT_NE(c.find("Transform (SpinQuant):\n\n```yaml\nrotations: [R1, R2]\ntransform_type: hadamard\n```"), std::string::npos) << c;
  EXPECT_NE(c.find("```yaml\ncalibration:\n  num_samples: 16\n"), std::string::npos) << c;
  EXPECT_NE(c.find("modifier: GPTQModifier\n"), std::string::npos);
  EXPECT_NE(c.find("ignore: [lm_head]\n"), std::string::npos);
  EXPECT_NE(c.find("## Calibration data\n\n`data/calibration/calib.txt`: 16 samples of 64 tokens (seed 0).\n"),
            std::string::npos)
      << c;
}

TEST_F(Card, ResultsWithRecoveryFidelityAndSpeed) {
  const std::string c = render_model_card(input());
  EXPECT_NE(c.find("### results/demo.csv\n\n| benchmark | base model (Base-8B) | this model | recovery |\n|---|---|---|---|\n"
                   "| gsm8k | 0.800 ± 0.100 (n=10) | 0.600 ± 0.100 (n=10) | 75.0 % |\n"
                   "| mmlu | 0.500 ± 0.100 (n=10) | 0.500 ± 0.100 (n=10) | 100.0 % |\n"
                   "| overall | 0.650 ± 0.070 (n=20) | 0.550 ± 0.070 (n=20) | 84.6 % |\n"),
            std::string::npos)
      << c;
  EXPECT_NE(c.find("KL divergence from the base model 0.0123 ± 1e-06, top-1 agreement 0.900, McNemar p 0.500."),
            std::string::npos)
      << c;
  EXPECT_NE(c.find("Speed of the eval on cpu (qbuild's runtime, not vLLM's): prefill 9000 tokens/s, decode 150 tokens/s, "
                   "peak memory 0.30 GiB (CPU)."),
            std::string::npos)
      << c;
}

TEST_F(Card, ServeWithVllmAndLoadWithTransformers) {
  const std::string c = render_model_card(input());
  EXPECT_NE(c.find("```sh\nvllm serve results/models/Base-8B-r1r2-gptq\n```"), std::string::npos);
  EXPECT_NE(c.find("llm = LLM(model=\"results/models/Base-8B-r1r2-gptq\")"), std::string::npos);
  EXPECT_NE(c.find("AutoModelForCausalLM.from_pretrained(path, torch_dtype=\"auto\", device_map=\"auto\")"), std::string::npos);
  EXPECT_NE(c.find("- model key `" + q + "`"), std::string::npos);
}

TEST_F(Card, AVariantInNoResultsFileSaysSo) {
  auto in = input();
  in.tables.clear();
  EXPECT_NE(render_model_card(in).find("No results yet: no results CSV has a row for this model."), std::string::npos);
}

TEST_F(Card, ExportFolderLinksTheModelsFilesBesideTheCard) {
  auto w = write_model_card(p.root() / "results", input());
  ASSERT_TRUE(w.is_ok()) << w.status().to_string();
  const auto dir = p.root() / "results/models/Base-8B-r1r2-gptq";
  EXPECT_EQ(*w, dir / "README.md");
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "quant_report.json"}) {
    ASSERT_TRUE(std::filesystem::is_symlink(dir / f)) << f;
    EXPECT_EQ(std::filesystem::canonical(dir / f), std::filesystem::canonical(p.layout().object_dir(q) / f));
    EXPECT_TRUE(std::filesystem::read_symlink(dir / f).is_relative());  // the project can move
  }
  EXPECT_EQ(slurp(dir / "model.safetensors"), std::string(1000, 'q'));
}

TEST_F(Card, ARebuiltModelsLinksReplaceTheOldOnes) {
  ASSERT_TRUE(write_model_card(p.root() / "results", input()).is_ok());
  const auto dir = p.root() / "results/models/Base-8B-r1r2-gptq";
  std::filesystem::create_symlink("../../../nowhere/extra.bin", dir / "extra.bin");  // a file the model no longer has
  auto in = input();
  const std::string q2 = p.add_quant("Base-8B-r1r2-gptq-v2", testing::recipe("GPTQModifier", true, true), trans);
  auto s = p.sources();
  in.model = *model_info(s, q2);
  ASSERT_TRUE(write_model_card(p.root() / "results", in).is_ok());
  EXPECT_EQ(std::filesystem::canonical(dir / "config.json"), std::filesystem::canonical(p.layout().object_dir(q2) / "config.json"));
  EXPECT_FALSE(std::filesystem::is_symlink(dir / "extra.bin"));
  EXPECT_FALSE(std::filesystem::is_symlink(dir / "quant_report.json"));  // the new model has none
}

TEST_F(Card, AFileThatIsNotOurLinkIsNeverOverwritten) {
  p.write("results/models/Base-8B-r1r2-gptq/config.json", "mine");
  auto w = write_model_card(p.root() / "results", input());
  ASSERT_FALSE(w.is_ok());
  EXPECT_NE(w.status().message().find("config.json' exists and is not a link qbuild made; move it away"), std::string::npos);
  EXPECT_EQ(slurp(p.root() / "results/models/Base-8B-r1r2-gptq/config.json"), "mine");
}

TEST_F(Card, AVariantNameThatIsNoFolderNameIsRefused) {
  for (const char* bad : {"", ".", "..", "a/b", "../../etc"}) {
    auto in = input();
    in.variant = bad;
    auto w = write_model_card(p.root() / "results", in);
    ASSERT_FALSE(w.is_ok()) << bad;
    EXPECT_EQ(w.status().code(), Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace qb::report
