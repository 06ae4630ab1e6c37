// Answer extraction and scoring: a readable table of realistic model outputs with the answer we
// expect, then every row of tests/golden/eval/answers.json (made by evalscope 1.12.0's own code,
// tests/golden/scripts/eval_answers.py) reproduced exactly.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "steps/eval/choice_answer.h"
#include "steps/eval/math_answer.h"
#include "test_util.h"
#include "util/fs.h"

namespace qb::eval {
namespace {

struct ChoiceCase {
  const char* output;
  const char* answer;
};

TEST(ChoiceAnswer, RealisticOutputs) {
  const ChoiceCase cases[] = {
      {"Mars looks red because of iron oxide.\nANSWER: A", "A"},  // the format asked for
      {"ANSWER: B", "B"},
      {"Let me think step by step...\n\nANSWER: C", "C"},
      {"**Answer:** D", "D"},                   // markdown bold around the marker
      {"ANSWER: (B)", "B"},                     // bracketed as the options are printed
      {"ANSWER: [C]", "C"},
      {"ANSWER: B.", "B"},                      // trailing full stop
      {"ANSWER: B, not C", "B"},                // justification after the label
      {"ANSWER: A\nWait, no.\nANSWER: D", "D"},  // the last marker wins
      {"ANSWER: [LETTER]\nso it is B", "B"},    // an echoed placeholder: no label, fall back
      {"answer: b", ""},                        // lowercase is no label, and no capital anywhere
      {"ANSWER: B and C", ""},                  // two labels are not one answer (no fallback)
      {"ANSWER: AB", ""},
      {"ANSWER: E", ""},                        // not an option; the last capital E is not either
      {"The correct option is C.", "C"},        // no marker: the last capital letter
      {"I choose (B) over X", ""},              // … which is X here: not an option
      {"", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(extract_choice_answer(c.output), c.answer) << c.output;
}

struct MathCase {
  const char* output;
  const char* target;
  const char* extracted;
  bool correct;
};

TEST(MathAnswer, RealisticOutputs) {
  const MathCase cases[] = {
      {"So she has 24 apples.\n\\boxed{24}", "24", "24", true},
      {"\\boxed{\\frac{9}{4}}", "2.25", "\\frac{9}{4}", true},        // fraction vs decimal
      {"\\boxed{{24}}", "24", "{24}", true},                             // nested braces
      {"The answer is 18.", "18", "18", true},
      {"\\boxed{18.0}", "18", "18", true},                               // trailing .0 dropped
      {"Thus the answer is $1,250$.", "1250", "1250", true},             // thousands separator
      {"The temperature falls to -5 degrees.", "-5", "-5", true},        // negative, last number
      {"所以答案是 42\n\n解释", "42", "42", true},                       // 答案是
      {"Work...\nANSWER: 36", "36", "36", true},
      {"First 3*4=12, then 12+12=24 apples.", "24", "24", true},          // several numbers: the last
      {"I am not sure.", "7", "", false},                                // no number at all
      {"The answer is 0.18", "18", "0.18", true},                        // evalscope also accepts ref/100
      {"The answer is 160 kg", "160", "160kg", false},                   // units after "The answer is" stick
      {"\\boxed{52 \\text{ dollars}}", "52", "52", true},                // a trailing \text unit is removed
      {"The answer is twenty-five", "25", "25", true},                   // number words (word2number)
  };
  for (const auto& c : cases) {
    EXPECT_EQ(extract_math_answer(c.output), c.extracted) << c.output;
    EXPECT_EQ(gsm8k_correct(c.output, c.target), c.correct) << c.output;
  }
}

TEST(MathAnswer, NumericComparison) {
  EXPECT_TRUE(math_equal("18.0", "18"));
  EXPECT_TRUE(math_equal("1,000", "1000"));
  EXPECT_TRUE(math_equal("-3.5", "-3.50"));
  EXPECT_TRUE(math_equal("\\frac{3}{4}", "0.75"));
  EXPECT_TRUE(math_equal("50%", "0.5"));
  EXPECT_TRUE(math_equal("18.0001", "18"));   // within rel_tol 1e-4
  EXPECT_FALSE(math_equal("18.01", "18"));
  EXPECT_FALSE(math_equal("", "18"));
}

TEST(PyFloat, AcceptsWhatPythonAccepts) {
  EXPECT_EQ(*py_float(" 1_000.5 "), 1000.5);
  EXPECT_EQ(*py_float("1e3"), 1000.0);
  EXPECT_EQ(*py_float(".5"), 0.5);
  EXPECT_EQ(*py_float("5."), 5.0);
  EXPECT_EQ(*py_float("-Infinity"), -HUGE_VAL);
  EXPECT_FALSE(py_float("1__0").has_value());
  EXPECT_FALSE(py_float("_1").has_value());
  EXPECT_FALSE(py_float("1,0").has_value());
  EXPECT_FALSE(py_float("").has_value());
}

TEST(RemoveUntil, KeepsTextAfterFirstDelimiter) {
  EXPECT_EQ(remove_until("<think>x</think>\nANSWER: B", "</think>"), "\nANSWER: B");
  EXPECT_EQ(remove_until("ANSWER: B", "</think>"), "ANSWER: B");
}

TEST(ExactMatch, StripsAndLowers) {
  EXPECT_TRUE(exact_match(" B\n", "b"));
  EXPECT_FALSE(exact_match("", "B"));
}

// ---- every row made by evalscope 1.12.0 ------------------------------------------------------

nlohmann::json golden() {
  auto text = qb::fs::read_file(testing::source_path("tests/golden/eval/answers.json"));
  EXPECT_TRUE(text.is_ok());
  return nlohmann::json::parse(*text);
}

TEST(Golden, ChoiceAnswersMatchEvalscope) {
  auto g = golden();
  int n = 0;
  for (const auto& row : g["mmlu"]) {
    EXPECT_EQ(extract_choice_answer(row["completion"].get<std::string>()), row["answer"].get<std::string>())
        << row["completion"];
    ++n;
  }
  EXPECT_GE(n, 30);
}

TEST(Golden, MathAnswersMatchEvalscope) {
  auto g = golden();
  int n = 0;
  for (const auto& row : g["gsm8k"]) {
    std::string out = row["output"], target = row["target"];
    EXPECT_EQ(extract_math_answer(out), row["extracted"].get<std::string>()) << out;
    EXPECT_EQ(strip_answer_string(target), row["reference"].get<std::string>()) << target;
    EXPECT_EQ(gsm8k_correct(out, target), row["correct"].get<bool>()) << out << " vs " << target;
    ++n;
  }
  EXPECT_GE(n, 60);
}

TEST(Golden, StripAnswerStringMatchesEvalscope) {
  for (const auto& row : golden()["strip"]) {
    EXPECT_EQ(strip_answer_string(row["input"].get<std::string>()), row["output"].get<std::string>()) << row["input"];
  }
}

TEST(Golden, WordNumbersMatchWord2number) {
  for (const auto& row : golden()["word2number"]) {
    EXPECT_EQ(convert_word_number(row["input"].get<std::string>()), row["output"].get<std::string>()) << row["input"];
  }
}

}  // namespace
}  // namespace qb::eval
