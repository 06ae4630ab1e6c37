// The `check` step (steps/kinds/torch/check_step.cc), as the runner calls it: a bad source model
// fails with the validation's message (file, tensor) and writes nothing into its output folder,
// so nothing is published and no consumer runs; a valid source passes. The graph makes every
// step reading a source depend on its check (tests/graph).
#include <gtest/gtest.h>

#include <limits>

#include "model/test_support.h"
#include "steps/kinds/step_kinds.h"
#include "steps/model/random_model.h"
#include "steps/model_io/checkpoint.h"
#include "store/layout.h"
#include "util/fs.h"

namespace qb::steps {
namespace {

namespace stdfs = std::filesystem;
using nlohmann::json;

const std::string kDown1 = "model.layers.1.mlp.down_proj.weight";

class CheckStep : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = std::move(fs::TempDir::create(::testing::TempDir(), "qb_kinds_").value());
    model::ModelConfig c = *model::shape_config("tiny");
    c.vocab_size = 300;
    model::RandomCheckpointRequest req;
    req.config = c;
    req.dtype = at::kBFloat16;
    req.seed = 2;
    req.out_dir = tmp_.path() / "random";
    ASSERT_TRUE(model::write_random_checkpoint(req).is_ok());
    auto ckpt = model_io::Checkpoint::open(req.out_dir).value();
    for (const auto& n : ckpt.tensor_names()) tensors_.emplace_back(n, *ckpt.load(n));
    config_ = ckpt.config();
  }

  // The model saved at `dir` with a tokenizer (and a NaN in down_proj when asked).
  stdfs::path save(const stdfs::path& dir, bool nan_in_down_proj) {
    auto tensors = tensors_;
    if (nan_in_down_proj)
      for (auto& [n, t] : tensors)
        if (n == kDown1) t[2][3] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_TRUE(model_io::save_checkpoint(dir, tensors, config_, json::object()).is_ok());
    EXPECT_TRUE(fs::write_file_atomic(dir / "tokenizer.json", model::testing::byte_tokenizer_json().dump()).is_ok());
    return dir;
  }

  runner::StepContext context(const std::string& kind, const stdfs::path& model) {
    runner::StepContext ctx;
    ctx.kind = kind;
    ctx.key = "0123456789abcdef";
    ctx.project_root = tmp_.path();
    ctx.inputs["model"] = model;
    ctx.input_keys["model"] = "feedfacefeedface";  // a source's key: its content hash
    ctx.out_dir = tmp_.path() / ("out-" + kind);
    ctx.partial_dir = tmp_.path() / ("partial-" + kind);
    stdfs::create_directories(ctx.out_dir);
    return ctx;
  }

  static bool empty_dir(const stdfs::path& d) { return stdfs::is_empty(d); }

  fs::TempDir tmp_;
  std::vector<std::pair<std::string, at::Tensor>> tensors_;
  json config_;
};

TEST_F(CheckStep, AValidSourcePasses) {
  auto ctx = context("check", save(tmp_.path() / "good", false));
  ctx.params = json::object();
  Status s = run_check(ctx);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_TRUE(stdfs::exists(ctx.out_dir / "check.json"));
}

TEST_F(CheckStep, ANaNFailsNamingTheTensorAndWritesNothing) {
  const auto dir = save(tmp_.path() / "bad", true);
  auto ctx = context("check", dir);
  ctx.params = json::object();
  Status s = run_check(ctx);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), (dir / "model.safetensors").string() + ": tensor '" + kDown1 +
                             "': element [2, 3] is NaN (the first of its non-finite values; a "
                             "source model's weights must be finite)");
  EXPECT_TRUE(empty_dir(ctx.out_dir));
}

TEST_F(CheckStep, AMissingTensorFailsAndWritesNothing) {
  std::erase_if(tensors_, [](const auto& p) { return p.first == "model.norm.weight"; });
  const auto dir = save(tmp_.path() / "bad", false);
  auto ctx = context("check", dir);
  ctx.params = json::object();
  Status s = run_check(ctx);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), (dir / "model.safetensors").string() +
                             ": tensor 'model.norm.weight' is missing (config.json implies [64])");
  EXPECT_TRUE(empty_dir(ctx.out_dir));
}

TEST_F(CheckStep, AHugeVocabularyFailsNamingConfigJson) {
  config_["vocab_size"] = 1e12;
  const auto dir = save(tmp_.path() / "bad", false);
  auto ctx = context("check", dir);
  ctx.params = json::object();
  Status s = run_check(ctx);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find((dir / "config.json").string() + ": field 'vocab_size' is 1000000000000"),
            std::string::npos)
      << s.message();
  EXPECT_TRUE(empty_dir(ctx.out_dir));
}

TEST_F(CheckStep, ASourceWithoutATokenizerFails) {
  const auto dir = save(tmp_.path() / "no-tokenizer", false);
  stdfs::remove(dir / "tokenizer.json");
  auto ctx = context("check", dir);
  ctx.params = json::object();
  EXPECT_NE(run_check(ctx).message().find("has no tokenizer.json"), std::string::npos);
}

}  // namespace
}  // namespace qb::steps
