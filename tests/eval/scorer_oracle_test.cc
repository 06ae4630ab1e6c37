// qbuild's scorer and collection sampler against evalscope 1.12.0 itself:
// tests/golden/eval/scorer_oracle.json, written by tests/golden/scripts/evalscope_oracle.py from
// the hand-written table tests/golden/eval/scorer_cases.json, a seeded generator of realistic
// outputs and the sampling scenarios. Every row must match: the think-stripped completion, the
// extracted answer, the normalized reference and the verdict; every scenario the drawn items in
// order, their prompts and weights.
//
// The live test (EvalscopeOracle.LiveRunMatches) runs the oracle script again when a Python with
// evalscope 1.12.0 is found (QB_EVALSCOPE_PYTHON, else /work/venv-evalscope/bin/python) and checks
// qbuild against its fresh output and the committed fixture against it; it skips otherwise.
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"
#include "steps/eval/eval_set.h"
#include "steps/eval/scorer.h"
#include "test_util.h"
#include "util/fs.h"

namespace qb::eval {
namespace {

namespace stdfs = std::filesystem;
using nlohmann::json;

json load_json(const stdfs::path& p) {
  auto text = fs::read_file(p);
  EXPECT_TRUE(text.is_ok()) << text.status().to_string();
  return text.is_ok() ? json::parse(*text) : json();
}

const json& fixture() {
  static const json j = load_json(testing::source_path("tests/golden/eval/scorer_oracle.json"));
  return j;
}

// Scores every row of `section`; returns the number checked. A mismatch prints the row.
int check_scores(const json& oracle, const std::string& section, Benchmark b) {
  int n = 0;
  for (const auto& row : oracle.at(section)) {
    std::string output = row.at("output"), gold = row.at("gold");
    ScorerOptions opts;
    opts.remove_until = row.value("remove_until", "");
    auto t = score_output(b, output, gold, row.value("num_choices", 4), opts);
    ++n;
    if (!t.is_ok()) {
      ADD_FAILURE() << section << " row " << n << ": " << t.status().to_string() << "\n  output: " << output;
      continue;
    }
    std::string where = section + " row " + std::to_string(n) + " (" + row.value("note", "") + ")\n  output: " +
                        json(output).dump() + "\n  gold:   " + gold + "\n  qbuild rule: " + t->rule +
                        "\n  qbuild verdict: " + t->verdict;
    EXPECT_EQ(t->completion, row.at("completion").get<std::string>()) << where;
    EXPECT_EQ(t->extracted, row.at("extracted").get<std::string>()) << where;
    if (row.contains("reference")) {
      EXPECT_EQ(t->reference, row.at("reference").get<std::string>()) << where;
    }
    if (!row.at("correct").is_boolean()) {
      ADD_FAILURE() << where << "\n  (evalscope could not score this row)";
      continue;
    }
    EXPECT_EQ(t->correct, row.at("correct").get<bool>()) << where;
  }
  return n;
}

// The scenario's tree with qbuild's dataset arguments (evalscope's oracle sets local_path).
json with_data(json tree) {
  for (auto& d : tree["datasets"]) {
    if (d.contains("datasets")) {
      d = with_data(d);
      continue;
    }
    auto& args = d["args"];
    if (!args.is_object()) args = json::object();
    args["format"] = "jsonl";
    args["dataset_dir"] = d["name"] == "mmlu" ? testing::source_path("tests/golden/eval/sampling/mmlu")
                                              : testing::source_path("data/datasets/demo_gsm8k");
  }
  return tree;
}

int check_sampling(const json& oracle) {
  int n = 0;
  for (const auto& sc : oracle.at("sampling")) {
    const std::string name = sc.at("name");
    auto schema = CollectionNode::from_json(with_data(sc.at("tree")));
    if (!schema.is_ok()) {
      ADD_FAILURE() << name << ": " << schema.status().to_string();
      continue;
    }
    SampleOptions opts;
    opts.total = sc.at("total");
    opts.seed = sc.at("seed");
    auto entries = build_eval_set(*schema, opts);
    if (!entries.is_ok()) {
      ADD_FAILURE() << name << ": " << entries.status().to_string();
      continue;
    }
    const auto& want = sc.at("entries");
    if (entries->size() != want.size()) {
      ADD_FAILURE() << name << ": " << entries->size() << " entries, evalscope drew " << want.size();
      continue;
    }
    for (size_t i = 0; i < want.size(); ++i) {
      const EvalEntry& e = (*entries)[i];
      const json& w = want[i];
      std::string where = name + " entry " + std::to_string(i);
      EXPECT_EQ(e.dataset_name, w.at("dataset_name").get<std::string>()) << where;
      EXPECT_EQ(e.subset_name, w.at("subset_name").get<std::string>()) << where;
      EXPECT_EQ(e.subset_id, w.at("id").get<int64_t>()) << where;
      EXPECT_EQ(e.gold, w.at("target").get<std::string>()) << where;
      EXPECT_EQ(e.prompt, w.at("prompt").get<std::string>()) << where;
      EXPECT_DOUBLE_EQ(e.weight, w.at("weight").get<double>()) << where;
      EXPECT_EQ(e.categories, w.at("categories").get<std::vector<std::string>>()) << where;
      EXPECT_EQ(e.tags, w.at("tags").get<std::vector<std::string>>()) << where;
    }
    ++n;
  }
  return n;
}

TEST(EvalscopeOracle, TableGsm8kOutputsScoreAsEvalscope) {
  EXPECT_GE(check_scores(fixture(), "gsm8k", Benchmark::kGsm8k), 150);
}

TEST(EvalscopeOracle, TableMmluOutputsScoreAsEvalscope) {
  EXPECT_GE(check_scores(fixture(), "mmlu", Benchmark::kMmlu), 60);
}

TEST(EvalscopeOracle, GeneratedGsm8kOutputsScoreAsEvalscope) {
  EXPECT_GE(check_scores(fixture(), "generated_gsm8k", Benchmark::kGsm8k), 1000);
}

TEST(EvalscopeOracle, GeneratedLatexAnswersScoreAsEvalscope) {
  EXPECT_GE(check_scores(fixture(), "generated_latex", Benchmark::kGsm8k), 400);
}

TEST(EvalscopeOracle, GeneratedMmluOutputsScoreAsEvalscope) {
  EXPECT_GE(check_scores(fixture(), "generated_mmlu", Benchmark::kMmlu), 200);
}

TEST(EvalscopeOracle, SamplingScenariosDrawTheSameItems) { EXPECT_GE(check_sampling(fixture()), 10); }

TEST(EvalscopeOracle, FixtureIsFromEvalscope1120) {
  EXPECT_EQ(fixture().at("evalscope"), "1.12.0");
  EXPECT_EQ(std::string(kScorerVersion).rfind("evalscope-1.12.0/", 0), 0u) << kScorerVersion;
}

// ---- optional: run evalscope now --------------------------------------------------------------

stdfs::path evalscope_python() {
  if (const char* env = std::getenv("QB_EVALSCOPE_PYTHON"); env && *env) return env;
  return "/work/venv-evalscope/bin/python";
}

TEST(EvalscopeOracle, LiveRunMatches) {
  const stdfs::path python = evalscope_python();
  if (::access(python.c_str(), X_OK) != 0) {
    GTEST_SKIP() << "no Python at " << python << "; set QB_EVALSCOPE_PYTHON to a CPython 3.11 with evalscope==1.12.0 "
                 << "(see tests/golden/scripts/evalscope_oracle.py) to run evalscope live";
  }
  auto probe = qb::testing::run_command("'" + python.string() + "' -c 'import evalscope, sys; sys.exit(evalscope.__version__ != \"1.12.0\")'");
  if (probe.code != 0) GTEST_SKIP() << python << " has no evalscope 1.12.0: " << probe.text;
  auto dir = fs::TempDir::create(stdfs::temp_directory_path(), "qb_evalscope_oracle_");
  ASSERT_TRUE(dir.is_ok()) << dir.status().to_string();
  const stdfs::path out = dir->path() / "oracle.json";
  const std::string script = testing::source_path("tests/golden/scripts/evalscope_oracle.py");
  auto run = qb::testing::run_command("'" + python.string() + "' '" + script + "' --out '" + out.string() + "'");
  ASSERT_EQ(run.code, 0) << run.text;
  const json live = load_json(out);
  check_scores(live, "gsm8k", Benchmark::kGsm8k);
  check_scores(live, "mmlu", Benchmark::kMmlu);
  check_scores(live, "generated_gsm8k", Benchmark::kGsm8k);
  check_scores(live, "generated_latex", Benchmark::kGsm8k);
  check_scores(live, "generated_mmlu", Benchmark::kMmlu);
  check_sampling(live);
  // The committed fixture is what evalscope says today (regenerate it if this fails).
  for (const char* k : {"gsm8k", "mmlu", "generated_gsm8k", "generated_latex", "generated_mmlu", "sampling"}) {
    EXPECT_EQ(live.at(k), fixture().at(k)) << "tests/golden/eval/scorer_oracle.json differs from a live run in '" << k
                                           << "'; rerun tests/golden/scripts/evalscope_oracle.py";
  }
}

}  // namespace
}  // namespace qb::eval
