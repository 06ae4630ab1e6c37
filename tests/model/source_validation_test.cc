// validate_source_model(): a valid source model passes; each bad input (NaN, Inf, a vocab_size
// of 1e12, a shape that disagrees with config.json, a U8 norm weight, a missing tensor, a missing,
// invalid or too large tokenizer, a bos/eos id outside the vocabulary, an already quantized
// checkpoint) is an error naming the file and the tensor. The model is a tiny random Qwen3
// saved in several shards, so the messages must name the right shard.
#include <gtest/gtest.h>

#include <limits>

#include "steps/model/random_model.h"
#include "steps/model/source_validation.h"
#include "steps/model_io/checkpoint.h"
#include "test_support.h"
#include "util/fs.h"

namespace qb::model {
namespace {

namespace stdfs = std::filesystem;
using nlohmann::json;

const std::string kQ1 = "model.layers.1.self_attn.q_proj.weight";
const std::string kDown1 = "model.layers.1.mlp.down_proj.weight";
const std::string kNorm0 = "model.layers.0.input_layernorm.weight";

class SourceValidation : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = std::move(fs::TempDir::create(::testing::TempDir(), "qb_source_").value());
    // The tiny shape (hidden 64, 4 / 2 heads of 16, 2 layers) with room for the test tokenizer.
    ModelConfig c = *shape_config("tiny");
    c.vocab_size = 300;
    RandomCheckpointRequest req;
    req.config = c;
    req.dtype = at::kBFloat16;
    req.seed = 1;
    req.out_dir = tmp_.path() / "random";
    ASSERT_TRUE(write_random_checkpoint(req).is_ok());
    auto ckpt = model_io::Checkpoint::open(req.out_dir).value();
    for (const auto& n : ckpt.tensor_names()) tensors_.emplace_back(n, *ckpt.load(n));
    config_ = ckpt.config();
    generation_config_ = ckpt.generation_config();
    tokenizer_ = testing::byte_tokenizer_json().dump();
  }

  at::Tensor& tensor(const std::string& name) {
    for (auto& [n, t] : tensors_)
      if (n == name) return t;
    ADD_FAILURE() << "no tensor " << name;
    return tensors_[0].second;
  }

  // The model as a checkpoint in 64 KB shards (about five), plus tokenizer.json unless
  // tokenizer_ is empty.
  stdfs::path save() {
    const stdfs::path dir = tmp_.path() / "model";
    model_io::SaveOptions opts;
    opts.max_shard_bytes = 64 << 10;
    EXPECT_TRUE(model_io::save_checkpoint(dir, tensors_, config_, generation_config_, opts).is_ok());
    if (!tokenizer_.empty()) {
      EXPECT_TRUE(fs::write_file_atomic(dir / "tokenizer.json", tokenizer_).is_ok());
    }
    return dir;
  }

  std::string error_of(const stdfs::path& dir) {
    Status s = validate_source_model(dir);
    EXPECT_FALSE(s.is_ok()) << "validation passed";
    return s.message();
  }

  // The shard file holding `name`, as the messages name it.
  static std::string file_of(const stdfs::path& dir, const std::string& name) {
    return model_io::Checkpoint::open(dir).value().reader(name)->path().string();
  }

  fs::TempDir tmp_;
  std::vector<std::pair<std::string, at::Tensor>> tensors_;
  json config_, generation_config_;
  std::string tokenizer_;
};

TEST_F(SourceValidation, AValidSourceModelPasses) {
  const auto dir = save();
  ASSERT_GT(model_io::Checkpoint::open(dir).value().weight_files().size(), 3u);  // really sharded
  Status s = validate_source_model(dir);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
}

TEST_F(SourceValidation, ANaNInAWeightIsNamedWithItsFileTensorAndElement) {
  tensor(kDown1)[5][7] = std::numeric_limits<float>::quiet_NaN();
  tensor(kDown1)[9][0] = std::numeric_limits<float>::quiet_NaN();  // later: not the one named
  const auto dir = save();
  EXPECT_EQ(error_of(dir), file_of(dir, kDown1) + ": tensor '" + kDown1 +
                               "': element [5, 7] is NaN (the first of its non-finite values; a "
                               "source model's weights must be finite)");
}

TEST_F(SourceValidation, AnInfInAWeightIsNamedWithItsSign) {
  tensor("model.embed_tokens.weight")[3][0] = -std::numeric_limits<float>::infinity();
  const auto dir = save();
  const std::string m = error_of(dir);
  EXPECT_NE(m.find(file_of(dir, "model.embed_tokens.weight") +
                   ": tensor 'model.embed_tokens.weight': element [3, 0] is -Inf"),
            std::string::npos)
      << m;
}

TEST_F(SourceValidation, AVocabSizeOf1e12IsRejectedNamingConfigJson) {
  config_["vocab_size"] = 1e12;
  const auto dir = save();
  EXPECT_EQ(error_of(dir), (dir / "config.json").string() +
                               ": field 'vocab_size' is 1000000000000, above qbuild's limit of "
                               "4194304 (no released model comes near it; a corrupt config.json?)");
}

TEST_F(SourceValidation, AQProjShapeThatDisagreesWithConfigJsonIsNamed) {
  tensor(kQ1) = at::randn({64, 32}).to(at::kBFloat16);
  const auto dir = save();
  EXPECT_EQ(error_of(dir), file_of(dir, kQ1) + ": tensor '" + kQ1 +
                               "': shape [64, 32] but config.json implies [64, 64]");
}

TEST_F(SourceValidation, AU8NormWeightIsRejected) {
  tensor(kNorm0) = at::ones({64}, at::kByte);
  const auto dir = save();
  EXPECT_EQ(error_of(dir), file_of(dir, kNorm0) + ": tensor '" + kNorm0 +
                               "': dtype U8, but a norm weight must be F32, BF16, F16 or F64");
}

TEST_F(SourceValidation, AMissingTensorIsNamedWithTheShapeConfigJsonImplies) {
  const std::string k0 = "model.layers.0.self_attn.k_proj.weight";
  std::erase_if(tensors_, [&](const auto& p) { return p.first == k0; });
  const auto dir = save();
  EXPECT_EQ(error_of(dir), (dir / "model.safetensors.index.json").string() + ": tensor '" + k0 +
                               "' is missing (config.json implies [32, 64])");
}

TEST_F(SourceValidation, AMissingTokenizerJsonIsAnError) {
  tokenizer_.clear();
  const auto dir = save();
  const std::string m = error_of(dir);
  EXPECT_EQ(m.rfind((dir / "tokenizer.json").string() + ": missing: the model folder '" + dir.string() +
                        "' has no tokenizer.json",
                    0),
            0u)
      << m;
}

TEST_F(SourceValidation, AnInvalidTokenizerJsonIsAnErrorNamingTheFile) {
  tokenizer_ = "{\"model\": ";
  const auto dir = save();
  const std::string m = error_of(dir);
  EXPECT_EQ(m.rfind("tokenizer '" + (dir / "tokenizer.json").string() + "': not valid JSON", 0), 0u) << m;
}

TEST_F(SourceValidation, ATokenizerLargerThanTheVocabularyIsAnError) {
  tokenizer_ = testing::byte_tokenizer_json(/*extra=*/60).dump();  // ids 0..318, vocab_size 300
  const auto dir = save();
  EXPECT_EQ(error_of(dir), (dir / "tokenizer.json").string() +
                               ": the tokenizer has 319 ids (vocabulary and added tokens), more "
                               "than config.json's vocab_size of 300");
}

TEST_F(SourceValidation, AnEosIdOutsideTheVocabularyIsAnError) {
  generation_config_["eos_token_id"] = json::array({2, 300});
  const auto dir = save();
  EXPECT_EQ(error_of(dir), (dir / "generation_config.json").string() +
                               ": eos_token_id 300 is outside the vocabulary (config.json's "
                               "vocab_size is 300)");
}

TEST_F(SourceValidation, AQuantizedCheckpointIsNotASourceModel) {
  config_["quantization_config"] = {{"quant_method", "compressed-tensors"},
                                    {"config_groups", {{"group_0", {{"targets", {"Linear"}}}}}}};
  const auto dir = save();
  EXPECT_EQ(error_of(dir), (dir / "config.json").string() +
                               ": has a quantization_config with config groups: a source model "
                               "must be unquantized (qbuild quantizes it)");
}

TEST_F(SourceValidation, EveryProblemIsReportedTogether) {
  tensor(kDown1)[0][0] = std::numeric_limits<float>::infinity();
  tensor(kNorm0) = at::ones({64}, at::kByte);
  tokenizer_.clear();
  const auto dir = save();
  const std::string m = error_of(dir);
  EXPECT_EQ(m.rfind("source model '" + dir.string() + "' has 3 problems:\n  ", 0), 0u) << m;
  for (const std::string& part : {"'" + kNorm0 + "': dtype U8", std::string("has no tokenizer.json"),
                                  "'" + kDown1 + "': element [0, 0] is +Inf"})
    EXPECT_NE(m.find(part), std::string::npos) << part << "\n" << m;
}

TEST_F(SourceValidation, AMissingFolderIsNotFound) {
  Status s = validate_source_model(tmp_.path() / "nonesuch");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "source model folder '" + (tmp_.path() / "nonesuch").string() + "' does not exist");
}

}  // namespace
}  // namespace qb::model
