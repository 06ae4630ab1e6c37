// `qbuild tokenize | detokenize | logits | generate | random-model` as a user runs them, one
// behaviour each. Standard output carries a command's result alone; log lines go to standard
// error (`qbuild generate … > out.txt` holds the text).

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"

namespace {

using Out = qb::testing::CommandOutput;

Out qbuild(const std::string& args) { return qb::testing::run_command("'" QB_QBUILD "' " + args); }
qb::testing::SplitOutput qbuild_split(const std::string& args) {
  return qb::testing::run_command_split("'" QB_QBUILD "' " + args);
}

// A fresh folder for one test (ctest runs tests in parallel processes).
std::filesystem::path temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "qb_cli_tools_XXXXXX").string();
  return ::mkdtemp(tmpl.data());
}

const std::string kTok = std::string(QB_SOURCE_DIR) + "/data/tokenizers/qwen3";

TEST(CliTools, TokenizePrintsQwen3Ids) {
  // Ids from the `tokenizers` package (tests/golden/tokenizer): "Hello, world" -> 9707 11 1879.
  auto o = qbuild("tokenize --tokenizer " + kTok + " 'Hello, world'");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_EQ(o.text, "9707 11 1879\n");
  auto j = qbuild("tokenize --json --tokenizer " + kTok + " 'Hello, world'");
  EXPECT_EQ(j.text, "[9707,11,1879]\n");
}

TEST(CliTools, TokenizeWritesOnlyTheIdsToStdout) {
  auto o = qbuild_split("tokenize --tokenizer " + kTok + " 'Hello, world'");
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "9707 11 1879\n");
}

TEST(CliTools, DetokenizeRoundTrips) {
  auto o = qbuild("detokenize --tokenizer " + kTok + " 9707 11 1879");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_EQ(o.text, "Hello, world\n");
}

TEST(CliTools, DetokenizeRejectsAnUnknownId) {
  auto o = qbuild("detokenize --tokenizer " + kTok + " 9707 999999");
  EXPECT_EQ(o.code, 2) << o.text;  // bad input: a usage error
  EXPECT_NE(o.text.find("id 999999 at position 1 is not in the vocabulary"), std::string::npos) << o.text;
}

TEST(CliTools, TokenizeWithoutTextIsAUsageError) {
  auto o = qbuild("tokenize --tokenizer " + kTok);
  EXPECT_EQ(o.code, 2) << o.text;
  EXPECT_NE(o.text.find("give a TEXT or --file F"), std::string::npos) << o.text;
}

#ifdef QB_HAVE_TORCH
TEST(CliTools, LogitsMatchTransformersOnTheTinyQwen3) {
  std::string model = std::string(QB_SOURCE_DIR) + "/tests/golden/models/qwen3-tiny";
  std::ifstream ref_in(model + "/reference.json");
  auto ref = nlohmann::json::parse(ref_in);
  std::string args = "logits --model " + model;
  for (const auto& p : ref["prompts"]) {
    std::string ids;
    for (const auto& t : p) ids += (ids.empty() ? "" : " ") + std::to_string(t.get<int>());
    args += " --ids '" + ids + "'";
  }
  const auto out = temp_dir() / "logits_oracle.json";
  auto o = qbuild(args + " --out " + out.string());
  ASSERT_EQ(o.code, 0) << o.text;
  std::ifstream in(out);
  auto j = nlohmann::json::parse(in);
  ASSERT_EQ(j["logits_last"].size(), ref["logits_last"].size());
  double max_diff = 0;
  for (size_t b = 0; b < ref["logits_last"].size(); ++b)
    for (size_t v = 0; v < ref["logits_last"][b].size(); ++v)
      max_diff = std::max(max_diff, std::abs(j["logits_last"][b][v].get<double>() - ref["logits_last"][b][v].get<double>()));
  EXPECT_LE(max_diff, 1e-4);
}

TEST(CliTools, LogitsWritesItsFileAndLogsOnlyToStderr) {
  const auto out = temp_dir() / "logits.json";
  auto o = qbuild_split("logits --model " + std::string(QB_SOURCE_DIR) + "/tests/golden/models/qwen3-tiny --ids '1 2 3' --out " +
                        out.string());
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_NE(o.err.find("[info] loaded "), std::string::npos) << o.err;  // the model load's log line
  EXPECT_TRUE(std::filesystem::exists(out));
}

TEST(CliTools, RandomModelWritesNothingToStdout) {
  const auto dir = temp_dir() / "m";
  auto o = qbuild_split("random-model --shape tiny --out " + dir.string());
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_NE(o.err.find("wrote " + dir.string()), std::string::npos) << o.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "config.json"));
}

TEST(CliTools, GenerateWritesOnlyTheTextToStdout) {
  const auto dir = temp_dir() / "demo";
  auto m = qbuild("random-model --shape demo --layers 1 --tokenizer " + kTok + " --out " + dir.string());
  ASSERT_EQ(m.code, 0) << m.text;
  auto o = qbuild_split("generate --model " + dir.string() + " --max-new-tokens 4 Hi");
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.err.find("[info] loaded "), std::string::npos) << o.err;
  // The greedy text and one newline: no log line ahead of it.
  EXPECT_EQ(o.out.find("[info]"), std::string::npos) << o.out;
  EXPECT_EQ(o.out.find("loaded "), std::string::npos) << o.out;
  ASSERT_FALSE(o.out.empty());
  EXPECT_EQ(o.out.back(), '\n');
}

// A budget the model cannot hold is refused before a cache is sized for it (it used to abort
// on the allocation); a negative one is a usage error.
TEST(CliTools, GenerateRefusesABudgetPastTheModelsPositions) {
  const auto dir = temp_dir() / "demo";
  auto m = qbuild("random-model --shape demo --layers 1 --tokenizer " + kTok + " --out " + dir.string());
  ASSERT_EQ(m.code, 0) << m.text;
  auto o = qbuild("generate --model " + dir.string() + " --max-new-tokens 1000000 Hi");
  EXPECT_EQ(o.code, 2) << o.text;
  EXPECT_NE(o.text.find("1000000 new tokens exceed the model's max_position_embeddings of 40960"), std::string::npos)
      << o.text;
  auto neg = qbuild("generate --model " + dir.string() + " --max-new-tokens -5 Hi");
  EXPECT_EQ(neg.code, 2) << neg.text;
  EXPECT_NE(neg.text.find("--max-new-tokens: Value -5 not in range 0 to 1000000"), std::string::npos) << neg.text;
}

TEST(CliTools, LogitsRejectsABadId) {
  auto o = qbuild("logits --model " + std::string(QB_SOURCE_DIR) + "/tests/golden/models/qwen3-tiny --ids '1 x' --out /tmp/x.json");
  EXPECT_NE(o.code, 0);
  EXPECT_NE(o.text.find("--ids: not a token id: 'x'"), std::string::npos) << o.text;
}
#endif

// ---- the torch-free front end (src/steps/kinds/register_steps.h) ----------------------------------

#ifdef QB_HAVE_TORCH
// `qbuild` itself never loads libtorch (its start alone took ~180 ms): the libtorch kinds and the
// model tools are handed to qbuild-torch beside it.
TEST(FrontEnd, QbuildDoesNotLinkLibtorch) {
  auto o = qb::testing::run_command("ldd '" QB_QBUILD "'");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_EQ(o.text.find("libtorch"), std::string::npos) << o.text;
  EXPECT_EQ(o.text.find("libc10"), std::string::npos) << o.text;
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(QB_QBUILD).parent_path() / "qbuild-torch"));
}

// A qbuild copied without its qbuild-torch says what is missing when a model tool needs it, and
// still does what needs no libtorch.
TEST(FrontEnd, WithoutQbuildTorchAModelToolNamesTheMissingBinary) {
  const auto dir = temp_dir();
  std::filesystem::copy_file(QB_QBUILD, dir / "qbuild");
  const std::string alone = (dir / "qbuild").string();
  auto o = qb::testing::run_command("'" + alone + "' random-model --shape demo --out " + (dir / "m").string());
  EXPECT_NE(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("exec '" + (dir / "qbuild-torch").string() + "'"), std::string::npos) << o.text;
  EXPECT_FALSE(std::filesystem::exists(dir / "m"));
  o = qb::testing::run_command("'" + alone + "' tokenize --tokenizer " + kTok + " 'Hello, world'");
  EXPECT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("9707 11 1879"), std::string::npos) << o.text;
}
#endif

}  // namespace
