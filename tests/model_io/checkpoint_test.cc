// Hugging Face checkpoint directories: save/open round trips, sharding and the index, stale
// files, and every way a directory can be broken.
#include "steps/model_io/checkpoint.h"

#include <gtest/gtest.h>

#include <functional>

#include "test_util.h"

namespace qb::model_io {
namespace {

using namespace qb::model_io::testing;
using json = nlohmann::json;
using TensorList = std::vector<std::pair<std::string, at::Tensor>>;

// Five tensors of 64, 32, 96, 16 and 64 bytes, in a deliberately unsorted order.
TensorList five_tensors() {
  return {{"model.embed_tokens.weight", at::arange(32, at::kBFloat16).reshape({4, 8})},
          {"model.norm.weight", at::arange(8, at::kFloat)},
          {"lm_head.weight", at::arange(48, at::kHalf).reshape({6, 8})},
          {"model.layers.0.q.weight", at::arange(16, at::kChar).reshape({4, 4})},
          {"model.layers.0.q.scale", at::arange(16, at::kInt)}};
}

const json kConfig = {{"architectures", {"Qwen3ForCausalLM"}}, {"hidden_size", 8}, {"rms_norm_eps", 1e-6}};
const json kGeneration = {{"do_sample", false}, {"eos_token_id", 2}};

std::vector<std::string> file_names(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

void expect_same_tensors(const Checkpoint& c, const TensorList& tensors) {
  std::vector<std::string> names;
  for (const auto& [name, t] : tensors) {
    names.push_back(name);
    ASSERT_TRUE(c.has(name)) << name;
    auto loaded = c.load(name);
    ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
    EXPECT_TRUE(bitwise_equal(*loaded, t)) << name;
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(c.tensor_names(), names);
}

TEST(Checkpoint, SingleFileRoundTrip) {
  auto dir = make_temp_dir();
  auto tensors = five_tensors();
  ASSERT_TRUE(save_checkpoint(dir.path(), tensors, kConfig, kGeneration).is_ok());
  EXPECT_EQ(file_names(dir.path()),
            (std::vector<std::string>{"config.json", "generation_config.json", "model.safetensors"}));
  EXPECT_EQ(read(dir.path() / "config.json"), kConfig.dump(2) + "\n");

  auto c = Checkpoint::open(dir.path());
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->dir(), dir.path());
  EXPECT_EQ(c->config(), kConfig);
  EXPECT_EQ(c->generation_config(), kGeneration);
  expect_same_tensors(*c, tensors);
  EXPECT_EQ(c->weight_files(), std::vector<std::filesystem::path>{dir.path() / "model.safetensors"});
  EXPECT_EQ(c->total_bytes(), 64u + 32 + 96 + 16 + 64);
  const TensorEntry* e = c->info("lm_head.weight");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->dtype, DType::kF16);
  EXPECT_EQ(e->shape, (std::vector<int64_t>{6, 8}));
  EXPECT_EQ(c->info("nope"), nullptr);
  EXPECT_FALSE(c->has("nope"));

  // Tensor order inside the file is the order given.
  auto r = SafetensorsReader::open(dir.path() / "model.safetensors");
  ASSERT_TRUE(r.is_ok());
  ASSERT_EQ(r->entries().size(), tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) EXPECT_EQ(r->entries()[i].name, tensors[i].first);
  EXPECT_EQ(r->metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
}

TEST(Checkpoint, GenerationConfigIsOptional) {
  auto dir = make_temp_dir();
  ASSERT_TRUE(save_checkpoint(dir.path(), five_tensors(), kConfig, json::object()).is_ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "generation_config.json"));
  auto c = Checkpoint::open(dir.path());
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->generation_config(), json::object());
}

TEST(Checkpoint, ShardsSplitAtTensorBoundariesInOrder) {
  auto dir = make_temp_dir();
  auto tensors = five_tensors();
  // 100-byte shards: [64, 32] | [96] | [16, 64]
  SaveOptions opts;
  opts.max_shard_bytes = 100;
  ASSERT_TRUE(save_checkpoint(dir.path(), tensors, kConfig, kGeneration, opts).is_ok());
  EXPECT_EQ(file_names(dir.path()),
            (std::vector<std::string>{"config.json", "generation_config.json", "model-00001-of-00003.safetensors",
                                      "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors",
                                      "model.safetensors.index.json"}));
  // The index exactly as transformers writes it: indent 2, sorted keys, trailing newline.
  EXPECT_EQ(read(dir.path() / "model.safetensors.index.json"), R"({
  "metadata": {
    "total_parameters": 120,
    "total_size": 272
  },
  "weight_map": {
    "lm_head.weight": "model-00002-of-00003.safetensors",
    "model.embed_tokens.weight": "model-00001-of-00003.safetensors",
    "model.layers.0.q.scale": "model-00003-of-00003.safetensors",
    "model.layers.0.q.weight": "model-00003-of-00003.safetensors",
    "model.norm.weight": "model-00001-of-00003.safetensors"
  }
}
)");
  auto s1 = SafetensorsReader::open(dir.path() / "model-00001-of-00003.safetensors");
  ASSERT_TRUE(s1.is_ok());
  ASSERT_EQ(s1->entries().size(), 2u);
  EXPECT_EQ(s1->entries()[0].name, "model.embed_tokens.weight");
  EXPECT_EQ(s1->entries()[1].name, "model.norm.weight");

  auto c = Checkpoint::open(dir.path());
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  expect_same_tensors(*c, tensors);
  EXPECT_EQ(c->weight_files(), (std::vector<std::filesystem::path>{dir.path() / "model-00001-of-00003.safetensors",
                                                                   dir.path() / "model-00002-of-00003.safetensors",
                                                                   dir.path() / "model-00003-of-00003.safetensors"}));
  EXPECT_EQ(c->total_bytes(), 272u);
}

TEST(Checkpoint, TensorLargerThanAShardGetsItsOwn) {
  auto dir = make_temp_dir();
  SaveOptions opts;
  opts.max_shard_bytes = 40;
  // 64 (too big: alone) | 32 | 96 (alone) | 16 | 64 (alone)  -> but 32 and 16 are split by
  // the big ones, so five shards.
  ASSERT_TRUE(save_checkpoint(dir.path(), five_tensors(), kConfig, {}, opts).is_ok());
  auto c = Checkpoint::open(dir.path());
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->weight_files().size(), 5u);
  expect_same_tensors(*c, five_tensors());

  auto dir2 = make_temp_dir();
  TensorList small_then_big = {{"a", at::zeros({4}, at::kByte)}, {"b", at::zeros({4}, at::kByte)},
                               {"big", at::zeros({100}, at::kByte)}, {"c", at::zeros({4}, at::kByte)}};
  ASSERT_TRUE(save_checkpoint(dir2.path(), small_then_big, kConfig, {}, opts).is_ok());
  auto index = json::parse(read(dir2.path() / "model.safetensors.index.json"));
  EXPECT_EQ(index["weight_map"], (json{{"a", "model-00001-of-00003.safetensors"},
                                       {"b", "model-00001-of-00003.safetensors"},
                                       {"big", "model-00002-of-00003.safetensors"},
                                       {"c", "model-00003-of-00003.safetensors"}}));
}

TEST(Checkpoint, ShardFileNames) {
  EXPECT_EQ(shard_file_name(1, 3), "model-00001-of-00003.safetensors");
  EXPECT_EQ(shard_file_name(12, 345), "model-00012-of-00345.safetensors");
}

TEST(Checkpoint, ResavingRemovesStaleWeightFiles) {
  auto dir = make_temp_dir();
  SaveOptions sharded;
  sharded.max_shard_bytes = 100;
  ASSERT_TRUE(save_checkpoint(dir.path(), five_tensors(), kConfig, kGeneration, sharded).is_ok());
  write(dir.path() / "README.md", "kept");
  TensorList one = {{"x", at::ones({2})}};
  ASSERT_TRUE(save_checkpoint(dir.path(), one, kConfig, json::object()).is_ok());
  EXPECT_EQ(file_names(dir.path()), (std::vector<std::string>{"README.md", "config.json", "model.safetensors"}));
  auto c = Checkpoint::open(dir.path());
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  expect_same_tensors(*c, one);

  // And back: single -> sharded drops model.safetensors (which open() would prefer).
  ASSERT_TRUE(save_checkpoint(dir.path(), five_tensors(), kConfig, kGeneration, sharded).is_ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "model.safetensors"));
  auto c2 = Checkpoint::open(dir.path());
  ASSERT_TRUE(c2.is_ok()) << c2.status().to_string();
  expect_same_tensors(*c2, five_tensors());
}

TEST(Checkpoint, SaveRejectsDuplicateNamesBeforeWritingWeights) {
  auto dir = make_temp_dir();
  TensorList dup = {{"a", at::ones({2})}, {"a", at::ones({2})}};
  Status s = save_checkpoint(dir.path(), dup, kConfig, {});
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), "saving checkpoint '" + dir.path().string() + "': writing '" +
                             (dir.path() / "model.safetensors").string() + "': tensor 'a' is given twice");
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(Checkpoint, OpenPrefersTheSingleFileLikeTransformers) {
  auto dir = make_temp_dir();
  SaveOptions sharded;
  sharded.max_shard_bytes = 100;
  ASSERT_TRUE(save_checkpoint(dir.path(), five_tensors(), kConfig, kGeneration, sharded).is_ok());
  ASSERT_TRUE(write_safetensors(dir.path() / "model.safetensors", {{"only", at::ones({1})}}).is_ok());
  auto c = Checkpoint::open(dir.path());
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->tensor_names(), std::vector<std::string>{"only"});
}

// ---- broken directories -------------------------------------------------------------------

class BrokenCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    SaveOptions sharded;
    sharded.max_shard_bytes = 100;
    ASSERT_TRUE(save_checkpoint(dir_.path(), five_tensors(), kConfig, kGeneration, sharded).is_ok());
  }
  Status open_status() { return Checkpoint::open(dir_.path()).status(); }
  std::string p(const std::string& file) { return (dir_.path() / file).string(); }
  void edit_index(const std::function<void(json&)>& f) {
    json index = json::parse(read(dir_.path() / kWeightsIndexFile));
    f(index);
    write(dir_.path() / kWeightsIndexFile, index.dump(2));
  }

  fs::TempDir dir_ = make_temp_dir();
};

TEST_F(BrokenCheckpoint, DirectoryMissing) {
  auto s = Checkpoint::open(dir_.path() / "nope").status();
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "checkpoint directory '" + p("nope") + "' does not exist");
}

TEST_F(BrokenCheckpoint, ConfigMissing) {
  std::filesystem::remove(dir_.path() / "config.json");
  Status s = open_status();
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "'" + p("config.json") + "': missing (every checkpoint needs one)");
}

TEST_F(BrokenCheckpoint, ConfigNotJson) {
  write(dir_.path() / "config.json", "{\"hidden_size\": 8,}");
  Status s = open_status();
  EXPECT_EQ(s.code(), Code::kCorrupt);
  EXPECT_EQ(s.message(), "'" + p("config.json") +
                             "': not valid JSON: parse error at line 1, column 19: syntax error while parsing object "
                             "key - unexpected '}'; expected string literal");
}

TEST_F(BrokenCheckpoint, ConfigNotAnObject) {
  write(dir_.path() / "config.json", "[1]");
  Status s = open_status();
  EXPECT_EQ(s.code(), Code::kCorrupt);
  EXPECT_EQ(s.message(), "'" + p("config.json") + "': top level is not a JSON object");
}

TEST_F(BrokenCheckpoint, GenerationConfigNotJson) {
  write(dir_.path() / "generation_config.json", "");
  Status s = open_status();
  EXPECT_EQ(s.code(), Code::kCorrupt);
  // The parser's own words after the position differ between nlohmann-json releases.
  const std::string expected = "'" + p("generation_config.json") + "': not valid JSON: parse error at line 1, column 1: ";
  EXPECT_EQ(s.message().substr(0, expected.size()), expected) << s.message();
}

TEST_F(BrokenCheckpoint, NoWeights) {
  std::filesystem::remove(dir_.path() / kWeightsIndexFile);
  Status s = open_status();
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "checkpoint '" + dir_.path().string() +
                             "': neither model.safetensors nor model.safetensors.index.json is there");
}

TEST_F(BrokenCheckpoint, MissingShardNamedByTheIndex) {
  std::filesystem::remove(dir_.path() / "model-00002-of-00003.safetensors");
  Status s = open_status();
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "'" + p(kWeightsIndexFile) +
                             "': names shard 'model-00002-of-00003.safetensors', which does not exist");
}

TEST_F(BrokenCheckpoint, IndexNamesATensorNotInItsShard) {
  edit_index([](json& j) { j["weight_map"]["lm_head.weight"] = "model-00001-of-00003.safetensors"; });
  Status s = open_status();
  EXPECT_EQ(s.code(), Code::kCorrupt);
  EXPECT_EQ(s.message(), "'" + p(kWeightsIndexFile) +
                             "': maps tensor 'lm_head.weight' to 'model-00001-of-00003.safetensors', which does not "
                             "contain it");
}

TEST_F(BrokenCheckpoint, IndexPathOutsideTheDirectory) {
  edit_index([](json& j) { j["weight_map"]["lm_head.weight"] = "../model-00002-of-00003.safetensors"; });
  Status s = open_status();
  EXPECT_EQ(s.code(), Code::kCorrupt);
  EXPECT_EQ(s.message(), "'" + p(kWeightsIndexFile) +
                             "': weight_map maps 'lm_head.weight' to '../model-00002-of-00003.safetensors', which is "
                             "not a file name inside the checkpoint directory");
}

TEST_F(BrokenCheckpoint, IndexWithoutWeightMap) {
  edit_index([](json& j) { j.erase("weight_map"); });
  Status s = open_status();
  EXPECT_EQ(s.code(), Code::kCorrupt);
  EXPECT_EQ(s.message(), "'" + p(kWeightsIndexFile) + "': no \"weight_map\" object");
  edit_index([](json& j) { j["weight_map"] = {{"a", 3}}; });
  EXPECT_EQ(open_status().message(), "'" + p(kWeightsIndexFile) + "': weight_map entry for 'a' is not a string");
}

TEST_F(BrokenCheckpoint, CorruptShardNamesTheShard) {
  const auto shard = dir_.path() / "model-00003-of-00003.safetensors";
  std::string bytes = read(shard);
  write(shard, bytes.substr(0, bytes.size() - 1));
  Status s = open_status();
  EXPECT_EQ(s.code(), Code::kCorrupt);
  EXPECT_EQ(s.message(), "'" + shard.string() +
                             "': tensor 'model.layers.0.q.scale': data_offsets [16, 80] run past the end of the "
                             "79-byte data section");
}

TEST_F(BrokenCheckpoint, TensorsTheIndexDoesNotNameAreIgnored) {
  edit_index([](json& j) { j["weight_map"].erase("model.norm.weight"); });
  auto c = Checkpoint::open(dir_.path());
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_FALSE(c->has("model.norm.weight"));
  EXPECT_EQ(c->tensor_names().size(), 4u);
}

TEST_F(BrokenCheckpoint, LoadingAnUnknownTensor) {
  auto c = Checkpoint::open(dir_.path());
  ASSERT_TRUE(c.is_ok());
  auto t = c->load("model.layers.9.q.weight");
  ASSERT_FALSE(t.is_ok());
  EXPECT_EQ(t.status().code(), Code::kNotFound);
  EXPECT_EQ(t.status().message(), "checkpoint '" + dir_.path().string() + "': no tensor 'model.layers.9.q.weight'");
}

}  // namespace
}  // namespace qb::model_io
