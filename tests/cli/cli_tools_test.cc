// `qbuild tokenize | detokenize | logits` as a user runs them, one behaviour each.

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"

namespace {

using Out = qb::testing::CommandOutput;

Out qbuild(const std::string& args) { return qb::testing::run_command("'" QB_QBUILD "' " + args); }

const std::string kTok = std::string(QB_SOURCE_DIR) + "/data/tokenizers/qwen3";

TEST(CliTools, TokenizePrintsQwen3Ids) {
  // Ids from the `tokenizers` package (tests/golden/tokenizer): "Hello, world" -> 9707 11 1879.
  auto o = qbuild("tokenize --tokenizer " + kTok + " 'Hello, world'");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_EQ(o.text, "9707 11 1879\n");
  auto j = qbuild("tokenize --json --tokenizer " + kTok + " 'Hello, world'");
  EXPECT_EQ(j.text, "[9707,11,1879]\n");
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
  auto out = std::filesystem::temp_directory_path() / "qbuild_cli_logits.json";
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

TEST(CliTools, LogitsRejectsABadId) {
  auto o = qbuild("logits --model " + std::string(QB_SOURCE_DIR) + "/tests/golden/models/qwen3-tiny --ids '1 x' --out /tmp/x.json");
  EXPECT_NE(o.code, 0);
  EXPECT_NE(o.text.find("--ids: not a token id: 'x'"), std::string::npos) << o.text;
}
#endif

}  // namespace
