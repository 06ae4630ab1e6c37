// `qbuild score` as a user runs it, one behaviour each.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"

namespace {

using Out = qb::testing::CommandOutput;

Out qbuild(const std::string& args) { return qb::testing::run_command("'" QB_QBUILD "' " + args); }

// A JSONL file with `content` in a fresh temporary folder.
std::string write_jsonl(const std::string& name, const std::string& content) {
  auto dir = std::filesystem::temp_directory_path() / ("qbuild_cli_score_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  std::ofstream(path) << content;
  return path.string();
}

TEST(CliScore, Gsm8kLinesShowRuleExtractionAndVerdict) {
  auto f = write_jsonl("gsm8k.jsonl",
                       R"j({"output": "<think>maybe 99</think>So \\boxed{2\\frac{1}{2}}.", "gold": "2.5"})j" "\n"
                       "\n"
                       R"j({"output": "The answer is 18.", "gold": 19})j" "\n");
  auto o = qbuild("score --dataset gsm8k " + f);
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("# scorer evalscope-1.12.0/"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find(f + ":1: correct  extracted \"2\\\\frac{1}{2}\" (last boxed) vs \"2.5\": symbolic: "
                            "latex2sympy: 2.5 vs parse_expr: 2.5  [think block removed]"),
            std::string::npos)
      << o.text;
  EXPECT_NE(o.text.find(f + ":3: wrong  extracted \"18\" (the answer is) vs \"19\": numbers differ (18 vs 19)"),
            std::string::npos)
      << o.text;
  EXPECT_NE(o.text.find("1 of 2 correct: acc 0.5000 ± 0.3536"), std::string::npos) << o.text;
}

TEST(CliScore, MmluJsonHasEveryStep) {
  auto f = write_jsonl("mmlu.jsonl", R"j({"output": "<think>ANSWER: A</think>\nANSWER: (C)", "gold": "C", "choices": ["a", "b", "c", "d"]})j" "\n");
  auto o = qbuild("score --json --dataset mmlu " + f);
  ASSERT_EQ(o.code, 0) << o.text;
  // stdout holds the JSON line; the summary goes to stderr (merged here, in any order).
  size_t at = o.text.find("{\"line\"");
  ASSERT_NE(at, std::string::npos) << o.text;
  auto j = nlohmann::json::parse(o.text.substr(at, o.text.find('\n', at) - at));
  EXPECT_EQ(j["line"], 1);
  EXPECT_EQ(j["think_removed"], true);
  EXPECT_EQ(j["completion"], "ANSWER: (C)");
  EXPECT_EQ(j["rule"], "ANSWER: label");
  EXPECT_EQ(j["extracted"], "C");
  EXPECT_EQ(j["correct"], true);
}

TEST(CliScore, BadLinesNameFileAndLineAndTheRestIsScored) {
  auto f = write_jsonl("bad.jsonl",
                       "{\"output\": \"ANSWER: B\", \"gold\": \"B\", \"choices\": [\"a\", \"b\"]}\n"
                       "{\"output\": \"ANSWER: B\", \"gold\": \"B\"}\n"
                       "not json\n"
                       "{\"output\": 3, \"gold\": \"B\", \"choices\": [\"a\"]}\n"
                       "{\"output\": \"x\", \"gold\": \"E\", \"choices\": [\"a\", \"b\", \"c\", \"d\"]}\n");
  auto o = qbuild("score --dataset mmlu " + f);
  EXPECT_EQ(o.code, 2) << o.text;
  EXPECT_NE(o.text.find(f + ":2: error: field 'choices' is missing (mmlu needs the options)"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find(f + ":3: error: not valid JSON"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find(f + ":4: error: field 'output': expected a string, got 3"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find(f + ":5: error: mmlu: gold \"E\" is not one of the letters A..D"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("1 of 1 correct: acc 1.0000 ± 0.0000 (4 lines not scored)"), std::string::npos) << o.text;
}

TEST(CliScore, UnknownDatasetIsAUsageError) {
  auto f = write_jsonl("x.jsonl", "{}\n");
  auto o = qbuild("score --dataset math500 " + f);
  EXPECT_EQ(o.code, 2) << o.text;
  EXPECT_NE(o.text.find("unknown dataset 'math500' (known: gsm8k, mmlu, mmlu_pro, math_500, gpqa_diamond)"), std::string::npos) << o.text;
}

TEST(CliScore, MissingFileIsAnError) {
  auto o = qbuild("score --dataset gsm8k /nonexistent/answers.jsonl");
  EXPECT_NE(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("/nonexistent/answers.jsonl"), std::string::npos) << o.text;
}

TEST(CliScore, RemoveUntilFilterApplies) {
  auto f = write_jsonl("ru.jsonl", R"j({"output": "The answer is 99 </think> 12", "gold": "12"})j" "\n");
  EXPECT_EQ(qbuild("score --dataset gsm8k " + f).text.find(":1: correct"), std::string::npos);
  auto o = qbuild("score --dataset gsm8k --remove-until '</think>' " + f);
  EXPECT_NE(o.text.find(":1: correct"), std::string::npos) << o.text;
}

TEST(CliScore, HelpDescribesTheFileFormat) {
  auto o = qbuild("score --help");
  EXPECT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("{\"output\": \"<the model's raw output>\", \"gold\": \"<gold answer>\", \"choices\""),
            std::string::npos)
      << o.text;
}

}  // namespace
