// GPQA-Diamond against evalscope 1.12.0's GPQAAdapter: the sha256-seeded answer order and the
// prompts of the authored sample byte for byte, SHA-256 itself, scoring, and bad input. Golden:
// tests/golden/eval/gpqa_oracle.json (tests/golden/scripts/gpqa_oracle.py runs the real adapter
// on data/datasets/demo_gpqa_diamond).
#include <gtest/gtest.h>

#include <cstdio>

#include "steps/eval/collection.h"
#include "steps/eval/eval_set.h"
#include "steps/eval/gpqa.h"
#include "task_draw.h"
#include "util/fs.h"

namespace qb::eval {
namespace {

using nlohmann::json;
using testing::DatasetDir;
using testing::source_path;

const json& golden() {
  static const json j = testing::golden_json("tests/golden/eval/gpqa_oracle.json");
  return j;
}

Result<std::vector<EvalEntry>> draw(const std::string& dir, int64_t total, json args_extra = json::object(),
                                    const std::string& root = source_path("data/datasets")) {
  return testing::draw_task("gpqa_diamond", dir, total, args_extra, root);
}

std::string hex(const std::array<uint8_t, 32>& d) {
  std::string s;
  char b[3];
  for (uint8_t x : d) {
    std::snprintf(b, sizeof b, "%02x", x);
    s += b;
  }
  return s;
}

TEST(Gpqa, Sha256OfTheStandardVectors) {
  EXPECT_EQ(hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),  // two blocks
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Gpqa, AnswerOrderAndPromptsAreEvalscopesByteForByte) {
  const json& want = golden().at("prompts");
  auto set = draw("demo_gpqa_diamond", static_cast<int64_t>(want.size()));
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  ASSERT_EQ(set->size(), want.size());
  for (const auto& e : *set) {
    const json& p = want.at(static_cast<size_t>(e.record_index));
    EXPECT_EQ(e.choices, p.at("choices").get<std::vector<std::string>>()) << e.source;
    EXPECT_EQ(e.gold, p.at("target").get<std::string>()) << e.source;
    EXPECT_EQ(e.prompt, p.at("prompt").get<std::string>()) << e.source;
    EXPECT_EQ(e.subset_name, golden().at("subset_list")[0].get<std::string>());
    auto right = score_generation(e, "So the answer follows.\nANSWER: " + e.gold);
    ASSERT_TRUE(right.is_ok()) << right.status().to_string();
    EXPECT_TRUE(right->correct);
    auto back = EvalEntry::from_json(json::parse(e.to_json().dump()), "x");
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(back->choices, e.choices);
  }
}

TEST(Gpqa, FewShotIsRefused) {
  auto set = draw("demo_gpqa_diamond", 2, {{"few_shot_num", 5}});
  ASSERT_FALSE(set.is_ok());
  EXPECT_NE(set.status().message().find("few-shot prompts are not supported"), std::string::npos)
      << set.status().message();
}

TEST(Gpqa, BadRowsNameTheFileAndRow) {
  DatasetDir d("gpqa_bad");
  d.write("train.jsonl", R"({"Question": "q", "Correct Answer": 1, "Incorrect Answer 1": "a", )"
                         R"("Incorrect Answer 2": "b", "Incorrect Answer 3": "c"})" "\n");
  auto set = draw(d.root().string(), 1, json::object(), d.root().parent_path().string());
  ASSERT_FALSE(set.is_ok());
  EXPECT_NE(set.status().message().find("train.jsonl:1: field 'Correct Answer': expected a string or null, got 1"),
            std::string::npos)
      << set.status().message();
  d.write("train.jsonl", R"({"Question": "q", "Correct Answer": "x", "Incorrect Answer 1": "a"})" "\n");
  set = draw(d.root().string(), 1, json::object(), d.root().parent_path().string());
  ASSERT_FALSE(set.is_ok());
  EXPECT_NE(set.status().message().find("train.jsonl:1: missing field 'Incorrect Answer 2'"), std::string::npos)
      << set.status().message();
}

}  // namespace
}  // namespace qb::eval
