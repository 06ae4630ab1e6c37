// MMLU-Pro against evalscope 1.12.0's MMLUProAdapter: the prompts of every test item of the
// authored sample (0- and 5-shot) byte for byte, the answer extraction table, and bad input.
// Golden: tests/golden/eval/mmlu_pro_oracle.json (tests/golden/scripts/mmlu_pro_oracle.py runs
// the real adapter on data/datasets/demo_mmlu_pro).
#include <gtest/gtest.h>

#include <map>

#include "steps/eval/choice_answer.h"
#include "steps/eval/collection.h"
#include "steps/eval/eval_set.h"
#include "steps/eval/mmlu_pro.h"
#include "steps/eval/scorer.h"
#include "task_draw.h"
#include "util/fs.h"

namespace qb::eval {
namespace {

using nlohmann::json;
using testing::DatasetDir;
using testing::source_path;

const json& golden() {
  static const json j = testing::golden_json("tests/golden/eval/mmlu_pro_oracle.json");
  return j;
}

Result<std::vector<EvalEntry>> draw(const std::string& dir, int64_t total, json args_extra = json::object()) {
  return testing::draw_task("mmlu_pro", dir, total, args_extra);
}

// Every item drawn (total = the population), each prompt equal to the adapter's for its subset
// and position there.
void expect_prompts(const std::vector<EvalEntry>& set, const json& want) {
  std::map<std::pair<std::string, int64_t>, const json*> by_key;
  for (const auto& p : want) by_key[{p.at("subset").get<std::string>(), p.at("subset_id").get<int64_t>()}] = &p;
  ASSERT_EQ(set.size(), want.size());
  for (const auto& e : set) {
    auto it = by_key.find({e.subset_name, e.subset_id});
    ASSERT_NE(it, by_key.end()) << e.subset_name << " " << e.subset_id;
    const json& p = *it->second;
    EXPECT_EQ(e.prompt, p.at("prompt").get<std::string>()) << e.subset_name << " " << e.subset_id;
    EXPECT_EQ(e.gold, p.at("target").get<std::string>());
    EXPECT_EQ(e.choices, p.at("choices").get<std::vector<std::string>>());
    EXPECT_EQ(e.metadata.at("question_id"), p.at("question_id"));
    EXPECT_EQ(e.prompt_style, "generative");
    EXPECT_TRUE(e.chat_template);
  }
}

TEST(MmluPro, ZeroShotPromptsAreEvalscopesByteForByte) {
  auto set = draw("demo_mmlu_pro", 6, {{"few_shot_num", 0}});
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  expect_prompts(*set, golden().at("prompts").at("0"));
}

TEST(MmluPro, FiveShotPromptsAreEvalscopesByteForByte) {
  auto set = draw("demo_mmlu_pro", 5, {{"subset_list", {"math", "physics"}}});  // 5-shot: the default
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  expect_prompts(*set, golden().at("prompts").at("5"));
  for (const auto& e : *set) EXPECT_EQ(e.fewshot_indices.size(), 5u);
}

TEST(MmluPro, ASubjectWithoutFiveValidationItemsIsAnError) {
  // evalscope stops there too (golden "fewshot_error"): 'computer science' has none.
  ASSERT_NE(golden().at("fewshot_error").get<std::string>().find("only have (0) few-shot samples"), std::string::npos);
  auto set = draw("demo_mmlu_pro", 6);
  ASSERT_FALSE(set.is_ok());
  EXPECT_NE(set.status().message().find("subject 'computer science' has 0 validation items, few_shot_num is 5"),
            std::string::npos)
      << set.status().message();
}

TEST(MmluPro, ExtractionIsEvalscopesWithTheItemsOptions) {
  for (const auto& c : golden().at("extraction")) {
    const std::string out = c.at("output").get<std::string>();
    EXPECT_EQ(extract_choice_answer(out, c.at("num_choices").get<int>()), c.at("extracted").get<std::string>()) << out;
  }
}

TEST(MmluPro, ScoredLikeMmluWithTenLetters) {
  auto set = draw("demo_mmlu_pro", 6, {{"few_shot_num", 0}});
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  for (const auto& e : *set) {
    auto right = score_generation(e, "Thinking.\nANSWER: " + e.gold);
    ASSERT_TRUE(right.is_ok()) << right.status().to_string();
    EXPECT_TRUE(right->correct);
    auto beyond = score_generation(e, "ANSWER: " + std::string(1, static_cast<char>('A' + e.choices.size())));
    ASSERT_TRUE(beyond.is_ok());
    EXPECT_FALSE(beyond->correct);  // a letter past the item's options is no answer
    EXPECT_EQ(beyond->extracted, "");
    auto back = EvalEntry::from_json(json::parse(e.to_json().dump()), "x");
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(back->prompt, e.prompt);
    EXPECT_EQ(back->choices, e.choices);
  }
}

TEST(MmluPro, BadRowsNameTheFileAndRow) {
  DatasetDir d("mmlu_pro_bad");
  d.write("data/test.jsonl",
          R"({"question": "q", "options": ["a", "b"], "answer": "C", "category": "math"})" "\n");
  auto items = load_mmlu_pro(d.root(), "test");
  ASSERT_FALSE(items.is_ok());
  EXPECT_NE(items.status().message().find("test.jsonl:1: field 'answer': \"C\" is not one of the letters A..B"),
            std::string::npos)
      << items.status().message();
  d.write("data/test.jsonl", R"({"question": "q", "options": "a b", "answer": "A", "category": "math"})" "\n");
  items = load_mmlu_pro(d.root(), "test");
  ASSERT_FALSE(items.is_ok());
  EXPECT_NE(items.status().message().find("test.jsonl:1: field 'options': expected a list of strings"),
            std::string::npos)
      << items.status().message();
  d.write("data/test.jsonl", R"({"question": "q", "options": ["a"], "answer": "A"})" "\n");
  items = load_mmlu_pro(d.root(), "test");
  ASSERT_FALSE(items.is_ok());
  EXPECT_NE(items.status().message().find("test.jsonl:1: missing field 'category'"), std::string::npos)
      << items.status().message();
}

TEST(MmluPro, AGoldPastTheOptionsIsRejectedInAFrozenSet) {
  auto set = draw("demo_mmlu_pro", 6, {{"few_shot_num", 0}});
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  json j = json::parse((*set)[0].to_json().dump());
  j["gold"] = std::string(1, static_cast<char>('A' + (*set)[0].choices.size()));
  auto back = EvalEntry::from_json(j, "set.jsonl:1");
  ASSERT_FALSE(back.is_ok());
  EXPECT_NE(back.status().message().find("set.jsonl:1: field 'gold': expected a letter A.."), std::string::npos)
      << back.status().message();
}

}  // namespace
}  // namespace qb::eval
