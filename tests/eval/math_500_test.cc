// MATH-500 against evalscope 1.12.0's Math500Adapter: the prompts of the authored sample byte for
// byte, the extraction and equivalence table (MATH-style answers: fractions, roots, intervals,
// degrees, tuples, percentages), and bad input. Golden: tests/golden/eval/math_500_oracle.json
// (tests/golden/scripts/math_500_oracle.py runs the real adapter on data/datasets/demo_math_500).
#include <gtest/gtest.h>

#include <map>

#include "steps/eval/collection.h"
#include "steps/eval/eval_set.h"
#include "steps/eval/math_answer.h"
#include "steps/eval/scorer.h"
#include "task_draw.h"
#include "util/fs.h"

namespace qb::eval {
namespace {

using nlohmann::json;
using testing::DatasetDir;
using testing::source_path;

const json& golden() {
  static const json j = testing::golden_json("tests/golden/eval/math_500_oracle.json");
  return j;
}

Result<std::vector<EvalEntry>> draw(const std::string& dir, int64_t total, json args_extra = json::object(),
                                    const std::string& root = source_path("data/datasets")) {
  return testing::draw_task("math_500", dir, total, args_extra, root);
}

TEST(Math500, PromptsAreEvalscopesByteForByte) {
  const json& want = golden().at("prompts");
  auto set = draw("demo_math_500", static_cast<int64_t>(want.size()));
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  std::map<std::pair<std::string, int64_t>, const json*> by_key;
  for (const auto& p : want) by_key[{p.at("subset").get<std::string>(), p.at("subset_id").get<int64_t>()}] = &p;
  ASSERT_EQ(set->size(), want.size());
  for (const auto& e : *set) {
    auto it = by_key.find({e.subset_name, e.subset_id});
    ASSERT_NE(it, by_key.end()) << e.subset_name << " " << e.subset_id;
    EXPECT_EQ(e.prompt, it->second->at("prompt").get<std::string>());
    EXPECT_EQ(e.gold, it->second->at("target").get<std::string>());
    EXPECT_EQ(e.metadata.at("question_id"), it->second->at("question_id"));
    EXPECT_EQ(e.prompt_style, "generative");
    auto back = EvalEntry::from_json(json::parse(e.to_json().dump()), "x");
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(back->prompt, e.prompt);
  }
}

TEST(Math500, ExtractionAndEquivalenceAreEvalscopes) {
  auto set = draw("demo_math_500", 1);
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  EvalEntry e = (*set)[0];
  for (const auto& c : golden().at("extraction")) {
    e.gold = c.at("gold").get<std::string>();
    const std::string out = c.at("output").get<std::string>();
    auto s = score_generation(e, out);
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    EXPECT_EQ(s->extracted, c.at("extracted").get<std::string>()) << out;
    EXPECT_EQ(s->correct, c.at("correct").get<bool>()) << out << " vs " << e.gold;
  }
}

TEST(Math500, LevelsAreTheSubsetsInOrderAndSubsetListPicks) {
  auto set = draw("demo_math_500", 3, {{"subset_list", {"Level 5", "Level 4"}}});
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  ASSERT_EQ(set->size(), 2u);  // the two levels hold one problem each: an overdraw takes both
  for (const auto& e : *set) EXPECT_TRUE(e.subset_name == "Level 5" || e.subset_name == "Level 4") << e.subset_name;
}

TEST(Math500, FewShotIsRefused) {
  auto set = draw("demo_math_500", 2, {{"few_shot_num", 2}});
  ASSERT_FALSE(set.is_ok());
  EXPECT_NE(set.status().message().find("few-shot prompts are not supported"), std::string::npos)
      << set.status().message();
}

TEST(Math500, BadRowsNameTheFileAndRow) {
  DatasetDir d("math_500_bad");
  d.write("test.jsonl", R"({"problem": "p", "answer": 3, "level": 1})" "\n");
  auto set = draw(d.root().string(), 1, json::object(), d.root().parent_path().string());
  ASSERT_FALSE(set.is_ok());
  EXPECT_NE(set.status().message().find("test.jsonl:1: field 'answer': expected a string, got 3"), std::string::npos)
      << set.status().message();
  d.write("test.jsonl", R"({"problem": "p", "answer": "3", "level": [1]})" "\n");
  set = draw(d.root().string(), 1, json::object(), d.root().parent_path().string());
  ASSERT_FALSE(set.is_ok());
  EXPECT_NE(set.status().message().find("test.jsonl:1: field 'level': expected 1..5, got [1]"), std::string::npos)
      << set.status().message();
}

}  // namespace
}  // namespace qb::eval
