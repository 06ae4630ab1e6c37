// GPQA-Diamond against evalscope 1.12.0's GPQAAdapter: the sha256-seeded answer order and the
// prompts of the authored sample byte for byte, SHA-256 itself, scoring, and bad input; the
// shuffle_seeds arg (gpqa.h): each seed's orders and prompts, the items per (question, seed), and
// the report's mean / spread over seeds. Golden: tests/golden/eval/gpqa_oracle.json
// (tests/golden/scripts/gpqa_oracle.py runs the real adapter on data/datasets/demo_gpqa_diamond,
// and the documented Python recipe of the other seeds, checked against the adapter for seed 0).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "steps/eval/collection.h"
#include "steps/eval/eval_set.h"
#include "steps/eval/gpqa.h"
#include "steps/eval/score_run.h"
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

// Seeds of the oracle's "shuffle_seeds" block, in its order.
std::vector<int64_t> golden_seeds() {
  std::vector<int64_t> out;
  for (const auto& [k, v] : golden().at("shuffle_seeds").items()) out.push_back(std::stoll(k));
  return out;
}

TEST(GpqaShuffleSeeds, EachSeedGivesTheRecipesOrderAndTheAdaptersPrompt) {
  const std::vector<int64_t> seeds = golden_seeds();
  ASSERT_EQ(seeds.size(), 5u);  // 0 (evalscope's), 1, 2, 3, 123456789
  const size_t questions = golden().at("prompts").size();
  auto set = draw("demo_gpqa_diamond", static_cast<int64_t>(questions), {{"shuffle_seeds", seeds}});
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  ASSERT_EQ(set->size(), questions * seeds.size());
  std::set<std::vector<std::string>> orders_of_first;
  for (size_t i = 0; i < set->size(); ++i) {
    const EvalEntry& e = (*set)[i];
    const int64_t seed = seeds[i % seeds.size()];  // a question's items follow one another, in the seeds' order
    ASSERT_EQ(e.metadata.at("shuffle_seed").get<int64_t>(), seed);
    EXPECT_EQ(e.record_index, (*set)[i - i % seeds.size()].record_index);
    const json& p = golden().at("shuffle_seeds").at(std::to_string(seed)).at(static_cast<size_t>(e.record_index));
    EXPECT_EQ(e.choices, p.at("choices").get<std::vector<std::string>>()) << e.source << " seed " << seed;
    EXPECT_EQ(e.gold, p.at("target").get<std::string>()) << e.source << " seed " << seed;
    EXPECT_EQ(e.prompt, p.at("prompt").get<std::string>()) << e.source << " seed " << seed;
    EXPECT_DOUBLE_EQ(e.weight, 1.0 / static_cast<double>(questions * seeds.size()));
    if (e.record_index == 0) orders_of_first.insert(e.choices);
  }
  EXPECT_GE(orders_of_first.size(), 3u);  // the seeds do reorder (5 seeds, 24 orders)
}

TEST(GpqaShuffleSeeds, SeedZeroIsEvalscopesOrderAndTheDrawIsUnchanged) {
  auto plain = draw("demo_gpqa_diamond", 3);
  auto seeded = draw("demo_gpqa_diamond", 3, {{"shuffle_seeds", {2, 0}}});
  ASSERT_TRUE(plain.is_ok() && seeded.is_ok());
  ASSERT_EQ(seeded->size(), 2 * plain->size());
  for (size_t q = 0; q < plain->size(); ++q) {
    const EvalEntry& e0 = (*seeded)[2 * q + 1];
    EXPECT_EQ((*seeded)[2 * q].record_index, (*plain)[q].record_index);  // the same questions drawn
    EXPECT_EQ(e0.record_index, (*plain)[q].record_index);
    EXPECT_EQ(e0.choices, (*plain)[q].choices);
    EXPECT_EQ(e0.prompt, (*plain)[q].prompt);
    EXPECT_FALSE((*plain)[q].metadata.contains("shuffle_seed"));  // the default eval set is as before
  }
  const std::string c = "right", w1 = "w1", w2 = "w2", w3 = "w3";
  const GpqaChoices a = gpqa_shuffle("  Q?\n", &c, {&w1, &w2, &w3});
  const GpqaChoices b = gpqa_shuffle("  Q?\n", &c, {&w1, &w2, &w3}, 0);
  EXPECT_EQ(a.choices, b.choices);
}

// A constructed prediction set: 5 questions × seeds 1, 2, 3, with 3, 2 and 4 of 5 right.
TEST(GpqaShuffleSeeds, TheReportGivesEachSeedTheMeanAndTheSpread) {
  auto set = draw("demo_gpqa_diamond", 5, {{"shuffle_seeds", {1, 2, 3}}});
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  ASSERT_EQ(set->size(), 15u);
  const std::map<int64_t, std::set<int64_t>> right = {{1, {0, 1, 2}}, {2, {0, 1}}, {3, {0, 1, 2, 3}}};
  std::vector<Score> scores;
  for (const auto& e : *set) {
    Score s;
    s.index = e.index;
    s.correct = right.at(e.metadata.at("shuffle_seed").get<int64_t>()).count(e.record_index) > 0;
    scores.push_back(s);
  }
  auto report = make_report(*set, scores);
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  const auto& d = (*report)["datasets"][0];
  const auto& sd = d["shuffle_seeds"];
  ASSERT_EQ(sd["seeds"].size(), 3u);
  EXPECT_EQ(sd["seeds"][0]["seed"], 1);
  EXPECT_DOUBLE_EQ(sd["seeds"][0]["acc"].get<double>(), 0.6);
  EXPECT_DOUBLE_EQ(sd["seeds"][1]["acc"].get<double>(), 0.4);
  EXPECT_DOUBLE_EQ(sd["seeds"][2]["acc"].get<double>(), 0.8);
  EXPECT_EQ(sd["seeds"][2]["n"], 5);
  EXPECT_EQ(sd["questions"], 5);
  EXPECT_NEAR(sd["mean"].get<double>(), 0.6, 1e-15);
  EXPECT_NEAR(sd["std"].get<double>(), 0.2, 1e-15);  // sqrt((0² + 0.2² + 0.2²) / 2)
  EXPECT_DOUBLE_EQ(sd["min"].get<double>(), 0.4);
  EXPECT_DOUBLE_EQ(sd["max"].get<double>(), 0.8);
  // Over questions: fractions right 1, 1, 2/3, 1/3, 0 around 0.6.
  const double se = std::sqrt((0.16 + 0.16 + std::pow(1.0 / 15, 2) + std::pow(4.0 / 15, 2) + 0.36) / 25);
  EXPECT_NEAR(sd["stderr"].get<double>(), se, 1e-12);
  EXPECT_NEAR(d["acc"].get<double>(), 0.6, 1e-15);
  EXPECT_NEAR(d["stderr"].get<double>(), se, 1e-12);
  EXPECT_EQ(d["n"], 15);
  EXPECT_EQ(d["correct"], 9);
  // The results CSV's numbers, and recovery of the mean.
  json scores_json = scores_of(*report);
  const json& g = scores_json["datasets"]["gpqa_diamond"];
  EXPECT_EQ(g["seeds"], 3);
  EXPECT_NEAR(g["seed_std"].get<double>(), 0.2, 1e-15);
  EXPECT_DOUBLE_EQ(g["seed_min"].get<double>(), 0.4);
  EXPECT_DOUBLE_EQ(g["seed_max"].get<double>(), 0.8);
  json base = {{"datasets", {{"gpqa_diamond", {{"acc", 0.5}}}}}};
  ASSERT_TRUE(recovery(base, scores_json).has_value());
  EXPECT_NEAR(scores_json["datasets"]["gpqa_diamond"]["recovery"].get<double>(), 1.2, 1e-12);
}

// Raw outputs through the scorer: a model that always answers A is right exactly where the
// seed's order put the gold on A (the oracle's targets); each prediction names its seed.
TEST(GpqaShuffleSeeds, AlwaysAnsweringAScoresEachSeedByItsGoldLetters) {
  const std::vector<int64_t> seeds = {0, 1, 3};
  auto set = draw("demo_gpqa_diamond", 5, {{"shuffle_seeds", seeds}});
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  std::vector<RawOutput> outputs(set->size());
  for (auto& o : outputs) {
    o.output = "Thinking.\nANSWER: A";
    o.finish = "stop";
  }
  auto run = score_outputs(*set, outputs, ScoreOptions{});
  ASSERT_TRUE(run.is_ok()) << run.status().to_string();
  const auto& sd = run->report["datasets"][0]["shuffle_seeds"];
  std::vector<double> want;
  for (int64_t k : seeds) {
    double a = 0;
    for (const auto& p : golden().at("shuffle_seeds").at(std::to_string(k))) a += p.at("target") == "A";
    want.push_back(a / 5);
  }
  double mean = 0;
  for (size_t k = 0; k < seeds.size(); ++k) {
    EXPECT_EQ(sd["seeds"][k]["seed"], seeds[k]);
    EXPECT_DOUBLE_EQ(sd["seeds"][k]["acc"].get<double>(), want[k]) << "seed " << seeds[k];
    mean += want[k] / 3;
  }
  EXPECT_NEAR(run->report["datasets"][0]["acc"].get<double>(), mean, 1e-15);
  EXPECT_DOUBLE_EQ(sd["min"].get<double>(), *std::min_element(want.begin(), want.end()));
  EXPECT_DOUBLE_EQ(sd["max"].get<double>(), *std::max_element(want.begin(), want.end()));
  DatasetDir out("scored");
  ASSERT_TRUE(write_score_outputs(out.root(), *set, outputs, run->scores, run->report).is_ok());
  auto text = fs::read_file(out.root() / "predictions" / "gpqa_diamond.jsonl");
  ASSERT_TRUE(text.is_ok());
  std::vector<json> lines;
  for (size_t at = 0, nl; (nl = text->find('\n', at)) != std::string::npos; at = nl + 1)
    lines.push_back(json::parse(text->substr(at, nl - at)));
  ASSERT_EQ(lines.size(), set->size());
  for (size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(lines[i]["shuffle_seed"], seeds[i % seeds.size()]) << i;
}

TEST(GpqaShuffleSeeds, OneSeedHasNoStdAndAPlainEvalSetNoSpread) {
  auto set = draw("demo_gpqa_diamond", 4, {{"shuffle_seeds", {7}}});
  ASSERT_TRUE(set.is_ok());
  std::vector<Score> scores;
  for (const auto& e : *set) scores.push_back(Score{e.index, "", e.record_index % 2 == 0, std::nullopt});
  auto report = make_report(*set, scores);
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  const auto& sd = (*report)["datasets"][0]["shuffle_seeds"];
  EXPECT_FALSE(sd.contains("std"));
  EXPECT_EQ(sd["min"], sd["max"]);
  EXPECT_FALSE(scores_of(*report)["datasets"]["gpqa_diamond"].contains("seed_std"));
  auto plain = draw("demo_gpqa_diamond", 4);
  ASSERT_TRUE(plain.is_ok());
  auto plain_report = make_report(*plain, scores);
  ASSERT_TRUE(plain_report.is_ok());
  EXPECT_FALSE((*plain_report)["datasets"][0].contains("shuffle_seeds"));
  EXPECT_FALSE(scores_of(*plain_report)["datasets"]["gpqa_diamond"].contains("seeds"));
}

TEST(GpqaShuffleSeeds, AnEditedEvalSetMissingASeedIsAnError) {
  auto set = draw("demo_gpqa_diamond", 2, {{"shuffle_seeds", {1, 2}}});
  ASSERT_TRUE(set.is_ok());
  set->pop_back();  // the last question lost its seed-2 item
  std::vector<Score> scores;
  for (const auto& e : *set) scores.push_back(Score{e.index, "", true, std::nullopt});
  auto report = make_report(*set, scores);
  ASSERT_FALSE(report.is_ok());
  EXPECT_NE(report.status().message().find("has 1 of the 2 shuffle seeds: every question needs every seed"),
            std::string::npos)
      << report.status().message();
}

}  // namespace
}  // namespace qb::eval
