// The frozen eval set: evalscope's own sampler and prompt code reproduced on the demo datasets
// (tests/golden/eval/collection_*.jsonl, made by tests/golden/scripts/eval_collection.py),
// the JSONL round trip and its error messages, scoring and the report.
#include "steps/eval/eval_set.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "steps/eval/prompts.h"
#include "util/py_random.h"
#include "test_util.h"
#include "util/fs.h"

namespace qb::eval {
namespace {

using testing::DatasetDir;
using testing::source_path;

std::vector<nlohmann::json> read_golden(const std::string& name) {
  auto text = qb::fs::read_file(source_path("tests/golden/eval/" + name));
  EXPECT_TRUE(text.is_ok()) << name;
  std::vector<nlohmann::json> out;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t end = text->find('\n', pos);
    out.push_back(nlohmann::json::parse(text->substr(pos, end - pos)));
    pos = end + 1;
  }
  return out;
}

SampleOptions demo_options(int64_t total, uint64_t seed) {
  SampleOptions o;
  o.total = total;
  o.seed = seed;
  o.datasets_root = source_path("data/datasets");
  return o;
}

class EvalscopeCollection : public ::testing::TestWithParam<std::string> {};

TEST_P(EvalscopeCollection, BuildReproducesEvalscope) {
  auto lines = read_golden("collection_" + GetParam() + ".jsonl");
  const nlohmann::json& head = lines[0];
  auto schema = CollectionNode::from_json(head["schema"]);
  ASSERT_TRUE(schema.is_ok()) << schema.status().to_string();
  auto built = build_eval_set(*schema, demo_options(head["count"], head["seed"]));
  ASSERT_TRUE(built.is_ok()) << built.status().to_string();
  ASSERT_EQ(built->size() + 1, lines.size());
  for (size_t i = 0; i < built->size(); ++i) {
    const nlohmann::json& want = lines[i + 1];
    const EvalEntry& got = (*built)[i];
    SCOPED_TRACE("entry " + std::to_string(i));
    EXPECT_EQ(got.index, want["index"].get<int64_t>());
    EXPECT_EQ(got.prompt, want["prompt"]["input"][0]["content"].get<std::string>());
    EXPECT_EQ(got.gold, want["prompt"]["target"].get<std::string>());
    EXPECT_EQ(got.subset_id, want["prompt"]["id"].get<int64_t>());
    EXPECT_EQ(got.metadata, want["prompt"]["metadata"]);
    if (want["prompt"].contains("choices")) {
      EXPECT_EQ(got.choices, want["prompt"]["choices"].get<std::vector<std::string>>());
    }
    EXPECT_EQ(got.dataset_name, want["dataset_name"].get<std::string>());
    EXPECT_EQ(got.subset_name, want["subset_name"].get<std::string>());
    EXPECT_DOUBLE_EQ(got.weight, want["weight"].get<double>());
    EXPECT_EQ(got.tags, want["tags"].get<std::vector<std::string>>());
    EXPECT_EQ(got.categories, want["categories"].get<std::vector<std::string>>());
    EXPECT_EQ(got.task_type, want["task_type"].get<std::string>());
    // Our JSON's evalscope-shaped fields are the same values.
    nlohmann::json ours = nlohmann::json::parse(got.to_json().dump());
    for (const char* k : {"index", "tags", "categories", "task_type", "weight", "dataset_name", "subset_name"}) {
      EXPECT_EQ(ours[k], want[k]) << k;
    }
    EXPECT_EQ(ours["prompt"], want["prompt"]);
  }
}

INSTANTIATE_TEST_SUITE_P(Golden, EvalscopeCollection, ::testing::Values("flat", "nested", "overdraw"));

// Issue 15 #16: asking for more items than a dataset has was capped silently. evalscope's
// sampler takes them all (the overdraw golden above); qbuild does the same and says so.
TEST(EvalSet, AnOverdrawIsAWarningInTheBuildOutput) {
  auto lines = read_golden("collection_overdraw.jsonl");
  auto schema = CollectionNode::from_json(lines[0]["schema"]);
  ASSERT_TRUE(schema.is_ok());
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  auto built = build_eval_set(*schema, demo_options(lines[0]["count"], lines[0]["seed"]));
  spdlog::set_default_logger(previous);
  ASSERT_TRUE(built.is_ok()) << built.status().to_string();
  EXPECT_NE(log.str().find("items asked for, the data has"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("the eval set is smaller than total_samples"), std::string::npos) << log.str();
}

TEST(EvalSet, PyRandomMatchesCPython) {
  auto g = nlohmann::json::parse(*qb::fs::read_file(source_path("tests/golden/eval/py_random.json")));
  for (const auto& c : g["bits"]) {
    PyRandom r(c["seed"].get<uint64_t>());
    for (const auto& b : c["getrandbits32"]) EXPECT_EQ(r.getrandbits(32), b.get<uint32_t>()) << c["seed"];
  }
  int draws = 0;
  for (const auto& s : g["samples"]) {
    PyRandom r(s["seed"].get<uint64_t>());
    for (const auto& d : s["draws"]) {
      auto got = r.sample(d["n"].get<uint64_t>(), d["k"].get<uint64_t>());
      EXPECT_EQ(got, d["indices"].get<std::vector<uint64_t>>()) << "seed " << s["seed"] << " n " << d["n"];
      ++draws;
    }
  }
  EXPECT_EQ(draws, 13);
}

TEST(EvalSet, JsonlRoundTrip) {
  auto schema = CollectionNode::from_json(read_golden("collection_flat.jsonl")[0]["schema"]);
  auto built = build_eval_set(*schema, demo_options(20, 42));
  ASSERT_TRUE(built.is_ok());
  DatasetDir d("x");
  std::string text = eval_set_to_jsonl(*built);
  d.write("set.jsonl", text);
  auto loaded = load_eval_set(d.root() / "set.jsonl");
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_EQ(eval_set_to_jsonl(*loaded), text);
  EXPECT_EQ((*loaded)[0].source, "demo_mmlu/all/test.jsonl:8");
  EXPECT_EQ((*loaded)[0].fewshot_indices, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_TRUE((*loaded)[0].chat_template);
}

TEST(EvalSet, InvalidUtf8FromCsvIsReplacedNotThrown) {
  EvalEntry e;
  e.dataset_name = "gsm8k";
  e.prompt = "bad \xff byte";
  std::string line = eval_set_to_jsonl({e});
  EXPECT_NE(line.find("bad \xEF\xBF\xBD byte"), std::string::npos) << line;
}

TEST(EvalSet, SameSeedSameSetOtherSeedOtherSet) {
  auto schema = CollectionNode::from_json(read_golden("collection_flat.jsonl")[0]["schema"]);
  auto a = build_eval_set(*schema, demo_options(20, 42));
  auto b = build_eval_set(*schema, demo_options(20, 42));
  auto c = build_eval_set(*schema, demo_options(20, 43));
  EXPECT_EQ(eval_set_to_jsonl(*a), eval_set_to_jsonl(*b));
  EXPECT_NE(eval_set_to_jsonl(*a), eval_set_to_jsonl(*c));
}

TEST(EvalSet, LoglikelihoodStyleUsesHarnessFormat) {
  auto schema = CollectionNode::from_json(nlohmann::json::parse(R"({"name": "ll", "datasets": [
      {"name": "mmlu", "args": {"dataset_dir": "demo_mmlu", "format": "jsonl", "prompt_style": "loglikelihood", "few_shot_num": 1,
                                "subset_list": ["astronomy"]}}]})"));
  ASSERT_TRUE(schema.is_ok());
  auto built = build_eval_set(*schema, demo_options(2, 1));
  ASSERT_TRUE(built.is_ok()) << built.status().to_string();
  const EvalEntry& e = (*built)[0];
  EXPECT_FALSE(e.chat_template);
  EXPECT_EQ(e.continuations, (std::vector<std::string>{" A", " B", " C", " D"}));
  const std::string head =
      "The following are multiple choice questions (with answers) about astronomy.\n\n"
      "Which planet is closest to the Sun?\nA. Venus\nB. Mercury\nC. Mars\nD. Earth\nAnswer: B\n\n";
  EXPECT_EQ(e.prompt.substr(0, head.size()), head);
  EXPECT_EQ(e.prompt.substr(e.prompt.size() - 8), "\nAnswer:");
  auto s = score_loglikelihoods(e, {-3.0, -1.0, -2.0, -1.5});
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(s->extracted, "B");
  EXPECT_EQ(s->correct, e.gold == "B");
  EXPECT_EQ(score_generation(e, "ANSWER: B").status().message(),
            "entry 0: a loglikelihood entry is scored from log-likelihoods, not a generation");
}

TEST(Prompts, HarnessPromptByHand) {
  MmluItem q;
  q.subject = "high_school_us_history";
  q.question = "  Who was the first president?\n";
  q.choices = {"Adams", "Washington", "Jefferson", "Lincoln"};
  q.answer = 1;
  auto p = mmlu_loglikelihood_prompt(q, {});
  EXPECT_EQ(p.context,
            "The following are multiple choice questions (with answers) about high school us history.\n\n"
            "Who was the first president?\nA. Adams\nB. Washington\nC. Jefferson\nD. Lincoln\nAnswer:");
}

TEST(Prompts, EvalscopeZeroShotByHand) {
  MmluItem q;
  q.question = "Q {choices} {{x}}";  // braces in a question are text, never a field
  q.choices = {"a", "b", "c", "d"};
  EXPECT_EQ(mmlu_generative_prompt(q, {}),
            "Answer the following multiple choice question. The last line of your response should be of the "
            "following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of A,B,C,D. Think step by "
            "step before answering.\n\nQ {choices} {{x}}\n\nA) a\nB) b\nC) c\nD) d");
  Gsm8kItem g;
  g.question = "How many?";
  EXPECT_EQ(gsm8k_prompt(g, {}), "How many?\nPlease reason step by step, and put your final answer within \\boxed{}.");
}

TEST(EvalSet, ScoresGenerationsPerBenchmark) {
  auto schema = CollectionNode::from_json(read_golden("collection_flat.jsonl")[0]["schema"]);
  auto set = build_eval_set(*schema, demo_options(20, 42));
  ASSERT_TRUE(set.is_ok());
  const EvalEntry& mmlu = (*set)[0];   // gold C
  const EvalEntry& gsm = (*set)[16];   // gold 160
  ASSERT_EQ(mmlu.gold, "C");
  ASSERT_EQ(gsm.gold, "160");
  EXPECT_TRUE(score_generation(mmlu, "Gravity holds orbits.\nANSWER: C")->correct);
  EXPECT_FALSE(score_generation(mmlu, "ANSWER: B")->correct);
  EXPECT_TRUE(score_generation(gsm, "40 cows eat 4 kg each: \\boxed{160}")->correct);
  EXPECT_EQ(score_generation(gsm, "so 150")->extracted, "150");
  ScoreOptions think{"</think>"};
  EXPECT_FALSE(score_generation(mmlu, "<think>ANSWER: C</think>\nANSWER: A", {})->correct);  // the think block goes
  EXPECT_TRUE(score_generation(mmlu, "<think>maybe A</think>\nC is right", think)->correct);
}

TEST(EvalSet, ReportPerDatasetAndSubset) {
  std::vector<EvalEntry> es(4);
  const char* ds[] = {"mmlu", "mmlu", "mmlu", "gsm8k"};
  const char* ss[] = {"anatomy", "virology", "anatomy", "main"};
  for (int i = 0; i < 4; ++i) {
    es[i].index = i;
    es[i].dataset_name = ds[i];
    es[i].subset_name = ss[i];
    es[i].weight = i < 3 ? 0.25 : 0.25;
  }
  std::vector<Score> sc = {{0, "A", true, std::nullopt}, {1, "B", false, std::nullopt}, {2, "C", true, std::nullopt},
                           {3, "7", true, std::nullopt}};
  auto r = make_report(es, sc);
  ASSERT_TRUE(r.is_ok());
  // mmlu: 2 / 3; stderr sqrt(2/3 · 1/3 / 3) = sqrt(2/27) = 0.2721655
  EXPECT_EQ((*r)["datasets"][0]["dataset_name"], "mmlu");
  EXPECT_EQ((*r)["datasets"][0]["n"], 3);
  EXPECT_NEAR((*r)["datasets"][0]["acc"].get<double>(), 2.0 / 3.0, 1e-15);
  EXPECT_NEAR((*r)["datasets"][0]["stderr"].get<double>(), 0.2721655, 1e-7);
  EXPECT_EQ((*r)["datasets"][0]["subsets"][0]["subset_name"], "anatomy");
  EXPECT_EQ((*r)["datasets"][0]["subsets"][0]["correct"], 2);
  EXPECT_EQ((*r)["datasets"][0]["subsets"][1]["acc"], 0.0);
  EXPECT_EQ((*r)["datasets"][1]["acc"], 1.0);
  // evalscope's macro_avg.: the mean of anatomy 2/2 and virology 0/1; weighted_avg. with equal weights = acc
  EXPECT_DOUBLE_EQ((*r)["datasets"][0]["macro_acc"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ((*r)["datasets"][0]["weighted_acc"].get<double>(), 2.0 / 3.0);
  EXPECT_EQ((*r)["overall"]["correct"], 3);
  EXPECT_DOUBLE_EQ((*r)["weighted_acc"].get<double>(), 0.75);
  sc.pop_back();
  EXPECT_EQ(make_report(es, sc).status().message(), "report: no score for index 3");
  sc.push_back({2, "C", true, std::nullopt});
  EXPECT_EQ(make_report(es, sc).status().message(), "report: two scores for index 2");
}

// ---- errors ------------------------------------------------------------------------------------

std::string build_error(const std::string& schema_json, int64_t total = 10) {
  auto schema = CollectionNode::from_json(nlohmann::json::parse(schema_json));
  if (!schema.is_ok()) return schema.status().message();
  auto r = build_eval_set(*schema, demo_options(total, 1));
  EXPECT_FALSE(r.is_ok());
  return r.status().message();
}

TEST(EvalSetErrors, SchemaShape) {
  EXPECT_EQ(build_error(R"({"name": "c", "datasets": [{"name": "mmlu", "weight": "2"}]})"),
            "datasets[0].weight: expected a number, got \"2\"");
  EXPECT_EQ(build_error(R"({"name": "c", "datasets": [{"name": "mmlu", "weight": -1}]})"),
            "datasets[0].weight: expected a finite number >= 0, got -1");
  EXPECT_EQ(build_error(R"({"name": "c", "datasets": []})"), "datasets: expected a non-empty list");
  EXPECT_EQ(build_error(R"({"name": "c", "datasets": [{"name": "mmlu", "weight": 0}]})"),
            "collection 'c': weights sum to 0");
}

TEST(EvalSetErrors, DatasetArgs) {
  EXPECT_EQ(build_error(R"({"name": "c", "datasets": [{"name": "mmlu", "args": {"few_shot": 3}}]})"),
            "dataset 'mmlu' args: unknown option 'few_shot' (known: dataset_dir, format, subset_list, few_shot_num, "
            "prompt_style, apply_chat_template, shuffle_seeds)");
  // The sampler's own shuffle_seeds args follow the spec's rules (spec::validate_shuffle_seeds).
  EXPECT_EQ(build_error(R"({"name": "c", "datasets": [{"name": "mmlu", "args": {"shuffle_seeds": [1]}}]})"),
            "dataset 'mmlu' args: shuffle_seeds: applies to gpqa_diamond only (the benchmark whose answers are "
            "shuffled)");
  EXPECT_EQ(build_error(R"({"name": "c", "datasets": [{"name": "gpqa_diamond", "args": {"shuffle_seeds": [1, 1]}}]})"),
            "dataset 'gpqa_diamond' args: shuffle_seeds[1]: shuffle seed 1 is listed twice");
  EXPECT_EQ(build_error(R"({"name": "c", "datasets": [{"name": "gpqa_diamond", "args": {"shuffle_seeds": []}}]})"),
            "dataset 'gpqa_diamond' args: shuffle_seeds: 'shuffle_seeds' is empty: list at least one seed (0 is "
            "evalscope's order)");
  EXPECT_EQ(build_error(R"({"name": "c", "datasets": [{"name": "gpqa_diamond", "args": {"shuffle_seeds": [0, 1.5]}}]})"),
            "dataset 'gpqa_diamond' args: shuffle_seeds: expected a list of integers, got [0,1.5]");
  EXPECT_EQ(build_error(R"({"name": "c", "datasets": [{"name": "gpqa_diamond", "args": {"shuffle_seeds": [-2]}}]})"),
            "dataset 'gpqa_diamond' args: shuffle_seeds[0]: a shuffle seed must be a non-negative integer, got -2");
  EXPECT_EQ(build_error(R"({"name": "c", "datasets": [{"name": "gsm8k", "args": {"prompt_style": "loglikelihood"}}]})"),
            "dataset 'gsm8k' args: prompt_style: loglikelihood scoring is defined for mmlu only");
  EXPECT_EQ(build_error(R"({"name": "c", "datasets": [{"name": "arc", "args": {}}]})"),
            "dataset 'arc': unknown benchmark (qbuild knows mmlu, gsm8k, mmlu_pro, math_500, gpqa_diamond and the lm-eval tasks of spec/tasks.h)");
  EXPECT_EQ(build_error(R"({"name": "c", "datasets": [{"name": "mmlu", "args": {"dataset_dir": "demo_mmlu", "format": "jsonl",
            "subset_list": ["astronmy"]}}]})"),
            "sampling mmlu: dataset 'mmlu' args: subset_list: no test items for subject 'astronmy' in " +
                source_path("data/datasets/demo_mmlu"));
  EXPECT_EQ(build_error(R"({"name": "c", "datasets": [{"name": "mmlu", "args": {"dataset_dir": "demo_mmlu", "format": "jsonl",
            "few_shot_num": 6}}]})"),
            "sampling mmlu: dataset 'mmlu': subject 'astronomy' has 5 dev items, few_shot_num is 6");
  EXPECT_EQ(build_error(R"({"name": "c", "datasets": [{"name": "gsm8k", "args": {"dataset_dir": "demo_gsm8k", "format": "jsonl",
            "few_shot_num": 9}}]})"),
            "sampling gsm8k: dataset 'gsm8k': 8 train items, few_shot_num is 9");
}

TEST(EvalSetErrors, MalformedEvalSetFile) {
  auto schema = CollectionNode::from_json(read_golden("collection_flat.jsonl")[0]["schema"]);
  auto built = build_eval_set(*schema, demo_options(3, 42));
  std::string good = eval_set_to_jsonl(*built);
  DatasetDir d("x");
  auto load_with = [&](const std::string& text) {
    d.write("set.jsonl", text);
    auto r = load_eval_set(d.root() / "set.jsonl");
    EXPECT_FALSE(r.is_ok());
    return r.status().message();
  };
  const std::string f = (d.root() / "set.jsonl").string();
  const std::string torn = load_with(good.substr(0, good.size() - 20));
  EXPECT_EQ(torn.rfind(f + ":3: [json.exception.parse_error", 0), 0u) << torn;
  EXPECT_NE(torn.find("(truncated or edited eval set?)"), std::string::npos) << torn;
  std::string first_line = good.substr(0, good.find('\n') + 1);
  EXPECT_EQ(load_with(first_line + first_line), f + ":2: field 'index': expected 1, got 0");
  auto j = nlohmann::json::parse(first_line);
  j["format_version"] = 2;
  EXPECT_EQ(load_with(j.dump() + "\n"), f + ":1: format_version 2 is not supported (this qbuild reads 1)");
  j["format_version"] = 1;
  j["gold"] = "E";
  EXPECT_EQ(load_with(j.dump() + "\n"), f + ":1: field 'gold': expected a letter A..D, got \"E\"");
  j["gold"] = "A";
  j.erase("source");
  EXPECT_EQ(load_with(j.dump() + "\n"), f + ":1: missing field 'source'");
  EXPECT_EQ(load_with(""), f + ": empty eval set");
}

}  // namespace
}  // namespace qb::eval
