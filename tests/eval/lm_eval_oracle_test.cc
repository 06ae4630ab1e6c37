// qbuild's lm-evaluation-harness 0.4.13 tasks against the harness itself, torch-free: the
// committed fixture tests/golden/eval/lm_eval_oracle.json (tests/golden/scripts/lm_eval_oracle.py)
// holds, for every authored sample document (data/datasets/demo_*), the requests the harness
// built, its log-likelihoods on one model, and its metrics. Here: qbuild's requests must be
// byte-identical, qbuild's scoring of the harness's log-likelihoods must give the harness's
// per-document acc / acc_norm and task metrics, and qbuild's rolling windows must be the
// harness's. (The log-likelihoods themselves: tests/kinds/lm_eval_numbers_test.cc.)
#include <cmath>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "steps/eval/eval_set.h"
#include "steps/eval/lm_eval_tasks.h"
#include "steps/eval/rolling_windows.h"
#include "test_util.h"
#include "util/fs.h"

namespace qb::eval {
namespace {

using nlohmann::json;
namespace stdfs = std::filesystem;

const json& fixture() {
  static const json j = [] {
    auto text = fs::read_file(testing::source_path("tests/golden/eval/lm_eval_oracle.json"));
    EXPECT_TRUE(text.is_ok()) << text.status().to_string();
    return json::parse(text.value());
  }();
  return j;
}

stdfs::path demo_dir(const std::string& task) {
  const std::string folder = task == "arc_challenge" || task == "arc_easy" ? "demo_arc" : "demo_" + task;
  return testing::source_path("data/datasets/" + folder);
}

// An eval entry for a document as the sample step makes it (eval_set.cc sample_choice_task).
EvalEntry entry_of(const std::string& task, const ChoiceDoc& d) {
  EvalEntry e;
  e.dataset_name = task;
  e.prompt_style = "loglikelihood";
  e.prompt = d.contexts[0];
  if (d.contexts.size() > 1) e.contexts = d.contexts;
  e.continuations = d.continuations;
  e.choices = d.choices;
  e.gold = std::to_string(d.gold);
  return e;
}

class LmEvalChoiceTask : public ::testing::TestWithParam<std::string> {};

TEST_P(LmEvalChoiceTask, RequestsAreTheHarnessesByteForByte) {
  const std::string task = GetParam();
  auto docs = load_choice_docs(demo_dir(task), task);
  ASSERT_TRUE(docs.is_ok()) << docs.status().to_string();
  const json& golden = fixture().at("tasks").at(task).at("docs");
  ASSERT_EQ(docs->size(), golden.size());
  for (size_t i = 0; i < docs->size(); ++i) {
    const ChoiceDoc& d = (*docs)[i];
    const json& args = golden[i].at("arguments");
    ASSERT_EQ(args.size(), d.continuations.size()) << task << " doc " << i;
    for (size_t c = 0; c < args.size(); ++c) {
      const std::string& context = d.contexts.size() == 1 ? d.contexts[0] : d.contexts[c];
      EXPECT_EQ(context, args[c][0].get<std::string>()) << task << " doc " << i << " request " << c;
      EXPECT_EQ(d.continuations[c], args[c][1].get<std::string>()) << task << " doc " << i << " request " << c;
    }
    EXPECT_EQ(d.gold, golden[i].at("gold").get<int>()) << task << " doc " << i;
  }
}

TEST_P(LmEvalChoiceTask, AccAndAccNormOfTheHarnessesLoglikelihoods) {
  const std::string task = GetParam();
  auto docs = load_choice_docs(demo_dir(task), task);
  ASSERT_TRUE(docs.is_ok()) << docs.status().to_string();
  const json& t = fixture().at("tasks").at(task);
  double acc = 0, acc_norm = 0;
  for (size_t i = 0; i < docs->size(); ++i) {
    const json& g = t.at("docs")[i];
    EvalEntry e = entry_of(task, (*docs)[i]);
    auto s = score_loglikelihoods(e, g.at("loglikelihoods").get<std::vector<double>>());
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    EXPECT_EQ(s->correct ? 1.0 : 0.0, g.at("acc").get<double>()) << task << " doc " << i;
    acc += s->correct;
    ASSERT_EQ(s->correct_norm.has_value(), g.contains("acc_norm")) << task;
    if (s->correct_norm) {
      EXPECT_EQ(*s->correct_norm ? 1.0 : 0.0, g.at("acc_norm").get<double>()) << task << " doc " << i;
      acc_norm += *s->correct_norm;
    }
  }
  const double n = static_cast<double>(docs->size());
  EXPECT_DOUBLE_EQ(acc / n, t.at("metrics").at("acc").get<double>()) << task;
  if (t.at("metrics").contains("acc_norm")) {
    EXPECT_DOUBLE_EQ(acc_norm / n, t.at("metrics").at("acc_norm").get<double>()) << task;
  }
}

INSTANTIATE_TEST_SUITE_P(Tasks, LmEvalChoiceTask,
                         ::testing::Values("arc_challenge", "arc_easy", "hellaswag", "winogrande", "piqa"));

TEST(LmEvalWikitext, DocumentsAreTheHarnessesDetokenizedPages) {
  auto docs = load_perplexity_docs(demo_dir("wikitext"), "wikitext");
  ASSERT_TRUE(docs.is_ok()) << docs.status().to_string();
  const json& golden = fixture().at("tasks").at("wikitext").at("docs");
  ASSERT_EQ(docs->size(), golden.size());
  for (size_t i = 0; i < docs->size(); ++i) {
    EXPECT_EQ((*docs)[i].text, golden[i].at("arguments")[0][0].get<std::string>()) << "page " << i;
    EXPECT_EQ((*docs)[i].words, golden[i].at("words").get<int64_t>()) << "page " << i;
    EXPECT_EQ((*docs)[i].bytes, golden[i].at("bytes").get<int64_t>()) << "page " << i;
  }
}

TEST(LmEvalWikitext, PerplexityMetricsOfTheHarnessesLoglikelihoods) {
  const json& t = fixture().at("tasks").at("wikitext");
  std::vector<double> ll;
  std::vector<int64_t> tokens, words, bytes;
  for (const auto& d : t.at("docs")) {
    ll.push_back(d.at("loglikelihood").get<double>());
    tokens.push_back(1);
    words.push_back(d.at("words").get<int64_t>());
    bytes.push_back(d.at("bytes").get<int64_t>());
  }
  const Perplexity p = aggregate_perplexity(ll, tokens, words, bytes);
  const json& m = t.at("metrics");
  EXPECT_NEAR(p.word_perplexity / m.at("word_perplexity").get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(p.byte_perplexity / m.at("byte_perplexity").get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(p.bits_per_byte / m.at("bits_per_byte").get<double>(), 1.0, 1e-12);
}

TEST(LmEvalRollingWindows, WindowsAreTheHarnesses) {
  for (const auto& c : fixture().at("rolling_windows")) {
    const int64_t n = c.at("n").get<int64_t>(), max_len = c.at("max_len").get<int64_t>();
    std::vector<int64_t> tokens;
    for (int64_t i = 0; i < n; ++i) tokens.push_back(100 + i);
    const auto windows = rolling_windows(tokens, 7, max_len);
    const json& want = c.at("windows");
    ASSERT_EQ(windows.size(), want.size()) << "n " << n << " max_len " << max_len;
    for (size_t w = 0; w < windows.size(); ++w) {
      EXPECT_EQ(windows[w].context, want[w][0].get<std::vector<int64_t>>()) << "n " << n << " max_len " << max_len << " window " << w;
      EXPECT_EQ(windows[w].continuation, want[w][1].get<std::vector<int64_t>>()) << "n " << n << " max_len " << max_len << " window " << w;
    }
  }
}

TEST(LmEvalOracle, FixtureIsFromLmEval0413) { EXPECT_EQ(fixture().at("lm_eval"), "0.4.13"); }

// ---- the harness's preprocessing, one behaviour each --------------------------------------------

TEST(LmEvalPreprocess, HellaswagDropsBracketsAndTitles) {
  // strip, " [title]" → ". ", brackets removed, then one pass of "  " → " " (Python's output).
  EXPECT_EQ(hellaswag_preprocess("  [header] How to x [title] Do y.  [step] z  "), " How to x. Do y.  z");
}

TEST(LmEvalPreprocess, CapitalizeLowersTheRest) {
  EXPECT_EQ(py_capitalize("HE tunes the GUITAR"), "He tunes the guitar");
  EXPECT_EQ(py_capitalize("élodie"), "Élodie");
  EXPECT_EQ(py_capitalize(""), "");
}

TEST(LmEvalPreprocess, WikitextWordsCountWhitespaceRunsOfTheOriginalPage) {
  EXPECT_EQ(count_words(" a  b\n"), 4);  // ['', 'a', 'b', '']
  EXPECT_EQ(count_words(""), 1);
  EXPECT_EQ(count_words("one"), 1);
}

TEST(LmEvalPreprocess, WikitextDetokenizerJoinsNumbersAndPunctuation) {
  EXPECT_EQ(wikitext_detokenize(" = = History = = \n 1 @,@ 200 , north @-@ east ( about ) \" x \" "),
            " == History ==\n1,200, north-east (about) \"x\" ");
}

TEST(LmEvalPreprocess, AccNormDividesByCodePointsNotBytes) {
  EvalEntry e;
  e.dataset_name = "piqa";
  e.prompt_style = "loglikelihood";
  e.continuations = {" éé", " ab"};
  e.choices = {"éé", "ab"};  // 2 code points each, 4 and 2 bytes
  e.gold = "0";
  auto s = score_loglikelihoods(e, {-2.0, -2.1});
  ASSERT_TRUE(s.is_ok());
  EXPECT_TRUE(*s->correct_norm);  // -1.0 vs -1.05 (bytes would give -0.5 vs -1.05: still 0; check ties below)
  auto t = score_loglikelihoods(e, {-3.0, -1.6});
  ASSERT_TRUE(t.is_ok());
  EXPECT_FALSE(*t->correct_norm);  // -1.5 vs -0.8 by code points; by bytes -0.75 vs -0.8 would pick 0
}

}  // namespace
}  // namespace qb::eval
