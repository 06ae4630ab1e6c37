// The lm-eval tasks inside qbuild's eval set, raw outputs, scoring and report (torch-free): one
// behaviour per test. (Agreement with the harness itself: lm_eval_oracle_test.cc.)
#include <cmath>

#include <gtest/gtest.h>

#include "steps/eval/collection.h"
#include "steps/eval/eval_set.h"
#include "steps/eval/lm_eval_tasks.h"
#include "steps/eval/raw_outputs.h"
#include "steps/eval/score_run.h"
#include "steps/eval/stats.h"
#include "task_draw.h"

namespace qb::eval {
namespace {

using nlohmann::json;
using testing::DatasetDir;
using testing::source_path;

Result<std::vector<EvalEntry>> draw(const std::string& task, const std::string& dir, int64_t total, json extra = {}) {
  return testing::draw_task(task, dir, total, extra);
}

TEST(LmEvalTasks, MultipleChoiceItemsAreDrawnAndRoundTripTheEvalSet) {
  auto set = draw("hellaswag", "demo_hellaswag", 4);
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  ASSERT_EQ(set->size(), 4u);
  for (const auto& e : *set) {
    EXPECT_EQ(e.prompt_style, "loglikelihood");
    EXPECT_FALSE(e.chat_template);
    EXPECT_EQ(e.continuations.size(), 4u);
    EXPECT_EQ(e.continuations[0], " " + e.choices[0]);
    auto back = EvalEntry::from_json(json::parse(e.to_json().dump()), "x");
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(back->continuations, e.continuations);
    EXPECT_EQ(back->choices, e.choices);
    EXPECT_EQ(back->gold, e.gold);
  }
}

TEST(LmEvalTasks, WinograndeKeepsOneContextPerOption) {
  auto set = draw("winogrande", "demo_winogrande", 5);
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  const EvalEntry& e = (*set)[0];
  ASSERT_EQ(e.contexts.size(), 2u);
  EXPECT_EQ(e.continuations[0], e.continuations[1]);
  auto back = EvalEntry::from_json(json::parse(e.to_json().dump()), "x");
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(back->contexts, e.contexts);
}

TEST(LmEvalTasks, FewShotIsRefusedForLmEvalTasks) {
  auto set = draw("piqa", "demo_piqa", 2, {{"few_shot_num", 2}});
  ASSERT_FALSE(set.is_ok());
  EXPECT_NE(set.status().message().find("zero-shot"), std::string::npos) << set.status().message();
}

TEST(LmEvalTasks, BadRowsNameTheFileAndRow) {
  DatasetDir d("wino");
  d.write("winogrande_xl/validation.jsonl", R"({"sentence": "no blank here", "option1": "a", "option2": "b", "answer": "1"})" "\n");
  auto docs = load_choice_docs(d.root(), "winogrande");
  ASSERT_FALSE(docs.is_ok());
  EXPECT_NE(docs.status().message().find("validation.jsonl:1: field 'sentence': no blank"), std::string::npos)
      << docs.status().message();
  DatasetDir a("arc");
  a.write("ARC-Easy/test.jsonl",
          R"({"question": "q", "choices": {"text": ["x", "y"], "label": ["A", "B"]}, "answerKey": "C"})" "\n");
  auto arc = load_choice_docs(a.root(), "arc_easy");
  ASSERT_FALSE(arc.is_ok());
  EXPECT_NE(arc.status().message().find("test.jsonl:1: field 'answerKey': 'C' is not among the choice labels"),
            std::string::npos)
      << arc.status().message();
}

TEST(LmEvalTasks, PlainTextDocumentsComeFromTxtAndJsonlFiles) {
  auto docs = perplexity_entries("perplexity", source_path("data/datasets/demo_text"), FileFormat::kAuto, "perplexity",
                                 {}, {"c"});
  ASSERT_TRUE(docs.is_ok()) << docs.status().to_string();
  ASSERT_EQ(docs->size(), 3u);  // canal.txt, then more.jsonl's two lines
  EXPECT_EQ((*docs)[0].source, "demo_text/canal.txt");
  EXPECT_EQ((*docs)[1].source, "demo_text/more.jsonl:1");
  for (const auto& e : *docs) {
    EXPECT_EQ(e.prompt_style, "rolling");
    EXPECT_EQ(e.metadata.at("bytes").get<int64_t>(), static_cast<int64_t>(e.prompt.size()));
  }
  DatasetDir empty("nothing");
  EXPECT_FALSE(perplexity_entries("perplexity", empty.root(), FileFormat::kAuto, "p", {}, {}).is_ok());
}

TEST(LmEvalTasks, EvalSetRejectsAStyleThatDoesNotFitTheTask) {
  auto docs = perplexity_entries("wikitext", source_path("data/datasets/demo_wikitext"), FileFormat::kAuto, "p", {}, {});
  ASSERT_TRUE(docs.is_ok());
  json j = json::parse((*docs)[0].to_json().dump());
  j["dataset_name"] = "mmlu";
  auto bad = EvalEntry::from_json(j, "set.jsonl:1");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("does not fit the task 'mmlu'"), std::string::npos) << bad.status().message();
}

TEST(LmEvalTasks, RollingRawOutputsRoundTrip) {
  RawOutput r;
  r.loglikelihood = -123.5;
  r.tokens = 40;
  r.token_kl = {0.5, 0.25};
  r.token_top1 = 1;
  auto back = parse_raw_output(raw_output_line(3, r), "x");
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(back->first, 3);
  EXPECT_EQ(*back->second.loglikelihood, -123.5);
  EXPECT_EQ(back->second.tokens, 40);
  EXPECT_EQ(back->second.token_kl, r.token_kl);
  EXPECT_EQ(*back->second.token_top1, 1);
}

TEST(LmEvalTasks, ReportHasAccNormAndPerplexityAndNoAccuracyForDocuments) {
  auto mc = draw("piqa", "demo_piqa", 2);
  auto docs = perplexity_entries("wikitext", source_path("data/datasets/demo_wikitext"), FileFormat::kAuto, "p", {}, {});
  ASSERT_TRUE(mc.is_ok() && docs.is_ok());
  std::vector<EvalEntry> entries = *mc;
  for (auto& e : *docs) entries.push_back(e);
  for (size_t i = 0; i < entries.size(); ++i) entries[i].index = static_cast<int64_t>(i);
  std::vector<RawOutput> outs(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].prompt_style == "rolling") {
      outs[i].loglikelihood = -100.0;
      outs[i].tokens = 50;
    } else {
      const int gold = std::stoi(entries[i].gold);
      outs[i].loglikelihoods = {gold == 0 ? -1.0 : -9.0, gold == 1 ? -1.0 : -9.0};
    }
  }
  auto run = score_outputs(entries, outs, {});
  ASSERT_TRUE(run.is_ok()) << run.status().to_string();
  const auto& r = run->report;
  EXPECT_EQ(r.at("overall").at("n").get<int64_t>(), 2);  // the documents are not questions
  EXPECT_EQ(r.at("datasets")[0].at("acc").get<double>(), 1.0);
  EXPECT_TRUE(r.at("datasets")[0].contains("acc_norm"));
  const auto& p = r.at("perplexity")[0];
  int64_t words = 0, bytes = 0;
  for (const auto& e : *docs) {
    words += e.metadata.at("words").get<int64_t>();
    bytes += e.metadata.at("bytes").get<int64_t>();
  }
  EXPECT_DOUBLE_EQ(p.at("word_perplexity").get<double>(), std::exp(300.0 / static_cast<double>(words)));
  EXPECT_DOUBLE_EQ(p.at("bits_per_byte").get<double>(), 300.0 / static_cast<double>(bytes) / std::log(2.0));
  EXPECT_DOUBLE_EQ(p.at("token_perplexity").get<double>(), std::exp(2.0));
  const json s = scores_of(r);
  EXPECT_TRUE(s.at("datasets").at("wikitext").contains("word_perplexity"));
  EXPECT_TRUE(s.at("datasets").at("piqa").contains("acc_norm"));
}

TEST(LmEvalTasks, RecoveryIsVariantOverBaseAndInverseForPerplexity) {
  json base = {{"datasets", {{"piqa", {{"acc", 0.5}, {"acc_norm", 0.8}}},
                             {"gsm8k", {{"acc", 0.5}}},
                             {"wikitext", {{"word_perplexity", 10.0}}},
                             {"mmlu", {{"acc", 0.0}}}}}};
  json variant = {{"datasets", {{"piqa", {{"acc", 0.5}, {"acc_norm", 0.6}}},
                                {"gsm8k", {{"acc", 0.25}}},
                                {"wikitext", {{"word_perplexity", 12.5}}},
                                {"mmlu", {{"acc", 0.1}}}}}};
  auto block = recovery(base, variant);
  ASSERT_TRUE(block.has_value());
  EXPECT_DOUBLE_EQ(variant["datasets"]["piqa"]["recovery"].get<double>(), 0.75);   // acc_norm
  EXPECT_DOUBLE_EQ(variant["datasets"]["gsm8k"]["recovery"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(variant["datasets"]["wikitext"]["recovery"].get<double>(), 0.8);  // 10 / 12.5
  EXPECT_FALSE(variant["datasets"]["mmlu"].contains("recovery"));                  // base 0
  EXPECT_DOUBLE_EQ(variant["recovery_mean"].get<double>(), (0.75 + 0.5 + 0.8) / 3);
  json none = {{"datasets", json::object()}};
  EXPECT_FALSE(recovery(base, none).has_value());
}

TEST(TokenKl, CoarseKlIsTheFullKlWhenTheTopKHoldAllTheMassAndALowerBoundOtherwise) {
  const std::vector<double> p = {0.5, 0.3, 0.15, 0.05}, q = {0.4, 0.4, 0.1, 0.1};
  double full = 0;
  for (size_t i = 0; i < p.size(); ++i) full += p[i] * std::log(p[i] / q[i]);
  std::vector<float> lp, lq;
  for (size_t i = 0; i < p.size(); ++i) {
    lp.push_back(static_cast<float>(std::log(p[i])));
    lq.push_back(static_cast<float>(std::log(q[i])));
  }
  EXPECT_NEAR(coarse_kl(lp, lq), full, 1e-6);
  const double top2 = coarse_kl(std::span<const float>(lp).first(2), std::span<const float>(lq).first(2));
  EXPECT_LE(top2, full + 1e-9);
  EXPECT_GT(top2, 0.0);
  EXPECT_NEAR(coarse_kl(lp, lp), 0.0, 1e-7);
}

TEST(TokenKl, SummaryHasLlamaCppsPercentiles) {
  std::vector<double> kl;
  for (int i = 0; i <= 100; ++i) kl.push_back(i / 100.0);
  const TokenKlStats t = summarize_token_kl(kl, 60);
  EXPECT_EQ(t.tokens, 101);
  EXPECT_DOUBLE_EQ(t.mean, 0.5);
  EXPECT_DOUBLE_EQ(t.p50, 0.5);
  EXPECT_NEAR(t.p99, 0.99, 1e-12);
  EXPECT_DOUBLE_EQ(t.max, 1.0);
  EXPECT_DOUBLE_EQ(t.min, 0.0);
  EXPECT_NEAR(t.top1_agreement, 60.0 / 101.0, 1e-12);
  EXPECT_EQ(summarize_token_kl({}, 0).tokens, 0);
}

}  // namespace
}  // namespace qb::eval
