// The config.json of `qbuild random-model`: the fields transformers 5.17's save_pretrained
// writes, compared with the configs transformers itself saved (tests/golden/models/*, made by
// make_tiny_models.py; tests/golden/model_io/tiny-sharded), and (optional, with the oracle
// Python) a random model's tokenizer loading in transformers without its regex warning.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "steps/model/random_model.h"
#include "test_support.h"
#include "util/fs.h"

namespace qb::model {
namespace {

namespace stdfs = std::filesystem;
using nlohmann::json;
using testing::read_json;

TEST(RandomModel, HfConfigJsonIsWhatTransformersSavesForEachArchitecture) {
  std::vector<stdfs::path> saved_by_transformers;
  for (const auto& name : testing::kTinyModels) saved_by_transformers.push_back(testing::model_dir(name) / "config.json");
  saved_by_transformers.push_back(stdfs::path(QB_SOURCE_DIR) / "tests/golden/model_io/tiny-sharded/config.json");
  for (const auto& file : saved_by_transformers) {
    const json expected = read_json(file);
    auto c = ModelConfig::from_json(expected, file.string());
    ASSERT_TRUE(c.is_ok()) << c.status().to_string();
    const json written = hf_config_json(*c, c->dtype);
    EXPECT_EQ(written, expected) << file << "\nqbuild writes:\n" << written.dump(2);
  }
}

TEST(RandomModel, ItsConfigJsonCarriesTransformersVersionDtypeAndArchitecture) {
  auto tmp = fs::TempDir::create(::testing::TempDir(), "qb_random_").value();
  RandomCheckpointRequest req;
  req.shape = "tiny";
  req.dtype = at::kBFloat16;
  req.out_dir = tmp.path() / "m";
  ASSERT_TRUE(write_random_checkpoint(req).is_ok());
  const json j = read_json(req.out_dir / "config.json");
  EXPECT_EQ(j["transformers_version"], kHfTransformersVersion);
  EXPECT_EQ(j["dtype"], "bfloat16");
  EXPECT_EQ(j["architectures"], json::array({"Qwen3ForCausalLM"}));
  EXPECT_EQ(j["model_type"], "qwen3");
  EXPECT_EQ(j["rope_parameters"], (json{{"rope_theta", 1e6}, {"rope_type", "default"}}));
  EXPECT_EQ(j["layer_types"], json::array({"full_attention", "full_attention"}));
}

// ---- optional: transformers loads the tokenizer of a random model without warnings ------------

stdfs::path oracle_python() {
  if (const char* env = std::getenv("QB_ORACLE_PYTHON"); env && *env) return env;
  return stdfs::path(QB_SOURCE_DIR) / ".venv-oracle/bin/python";
}

TEST(RandomModel, TransformersLoadsItsTokenizerWithoutTheRegexWarning) {
  const auto python = oracle_python();
  if (::access(python.c_str(), X_OK) != 0)
    GTEST_SKIP() << "oracle interpreter " << python << " not found; set QB_ORACLE_PYTHON to a Python with "
                 << "transformers 5.17.0 to run this test";
  auto tmp = fs::TempDir::create(::testing::TempDir(), "qb_random_").value();
  RandomCheckpointRequest req;
  req.shape = "demo";  // Qwen3's vocabulary, for the real tokenizer
  req.layers = 1;
  req.tokenizer_dir = stdfs::path(QB_SOURCE_DIR) / "data/tokenizers/qwen3";
  req.out_dir = tmp.path() / "m";
  ASSERT_TRUE(write_random_checkpoint(req).is_ok());
  const auto script = stdfs::path(QB_SOURCE_DIR) / "tests/golden/scripts/tokenizer_load_warnings.py";
  const std::string cmd = "'" + python.string() + "' '" + script.string() + "' '" + req.out_dir.string() + "' 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int st = ::pclose(p);
  const int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  if (code == 77) GTEST_SKIP() << "oracle unavailable: " << out;
  ASSERT_EQ(code, 0) << out;
  const json got = json::parse(out.substr(out.rfind('\n', out.size() - 2) + 1));
  EXPECT_EQ(got["warnings"], json::array()) << out;
  EXPECT_EQ(got["ids"], json::array({9707, 11, 1879}));
}

}  // namespace
}  // namespace qb::model
