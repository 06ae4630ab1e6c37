// qbuild's log-likelihoods and perplexities against lm-evaluation-harness 0.4.13's on the same
// model: the committed fixture tests/golden/eval/lm_eval_oracle.json was made by
// tests/golden/scripts/lm_eval_oracle.py with HFLM (float32, CPU, max_length 48) on the model
// `qbuild random-model --shape demo --dtype float32 --seed 7 --tokenizer data/tokenizers/qwen3`,
// which this test rebuilds (deterministic) and runs through the generate engine over the
// authored samples (data/datasets/demo_*), then through the scorer. Tolerances: per request
// |Δ log-likelihood| ≤ 1e-4 · max(1, |ll|); perplexities ≤ 1e-4 relative; acc and acc_norm
// equal. Also: the same generation as a base that keeps per-token top-k and as a variant that
// compares with it gives zero KL and full top-1 agreement.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>

#include "steps/eval/eval_set.h"
#include "steps/eval/lm_eval_tasks.h"
#include "steps/eval/score_run.h"
#include "steps/generate/generate_run.h"
#include "steps/model/random_model.h"
#include "steps/model_io/safetensors.h"
#include "run_command.h"
#include "util/fs.h"

namespace qb::steps {
namespace {

namespace stdfs = std::filesystem;
using nlohmann::json;

std::string src(const std::string& rel) { return std::string(QB_SOURCE_DIR) + "/" + rel; }

const json& fixture() {
  static const json j = json::parse(fs::read_file(src("tests/golden/eval/lm_eval_oracle.json")).value());
  return j;
}

const std::vector<std::string> kChoiceTasks = {"arc_challenge", "arc_easy", "hellaswag", "winogrande", "piqa"};

stdfs::path demo_dir(const std::string& task) {
  return src("data/datasets/" + std::string(task.rfind("arc_", 0) == 0 ? "demo_arc" : "demo_" + task));
}

class LmEvalNumbers : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new fs::TempDir(std::move(fs::TempDir::create(::testing::TempDir(), "qb_lmeval_").value()));
    model::RandomCheckpointRequest req;
    req.shape = "demo";
    req.dtype = at::kFloat;
    req.seed = 7;
    req.tokenizer_dir = src("data/tokenizers/qwen3");
    req.out_dir = tmp_->path() / "model";
    ASSERT_TRUE(model::write_random_checkpoint(req).is_ok());
    // The eval set as the sample step makes it: every document of every task, in file order.
    std::vector<eval::EvalEntry> entries;
    for (const auto& task : kChoiceTasks) {
      auto docs = eval::load_choice_docs(demo_dir(task), task);
      ASSERT_TRUE(docs.is_ok()) << docs.status().to_string();
      for (const auto& d : *docs) {
        eval::EvalEntry e;
        e.dataset_name = task;
        e.subset_name = "s";
        e.task_type = "t";
        e.prompt_style = "loglikelihood";
        e.chat_template = false;
        e.prompt = d.contexts[0];
        if (d.contexts.size() > 1) e.contexts = d.contexts;
        e.continuations = d.continuations;
        e.choices = d.choices;
        e.gold = std::to_string(d.gold);
        e.source = d.where;
        entries.push_back(std::move(e));
      }
    }
    auto docs = eval::perplexity_entries("wikitext", demo_dir("wikitext"), eval::FileFormat::kAuto, "perplexity", {}, {"x"});
    ASSERT_TRUE(docs.is_ok()) << docs.status().to_string();
    for (auto& e : *docs) entries.push_back(std::move(e));
    for (size_t i = 0; i < entries.size(); ++i) entries[i].index = static_cast<int64_t>(i);
    stdfs::create_directories(tmp_->path() / "set");
    ASSERT_TRUE(fs::write_file_atomic(tmp_->path() / "set" / "eval_set.jsonl", eval::eval_set_to_jsonl(entries)).is_ok());
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }
  static generate::GenerateRunOptions options() {
    generate::GenerateRunOptions o;
    o.model_dir = tmp_->path() / "model";
    o.eval_set_dir = tmp_->path() / "set";
    o.dtype = at::kFloat;
    o.spec.batch_size = 4;
    o.spec.max_length = fixture().at("max_length").get<int64_t>();
    return o;
  }
  static fs::TempDir* tmp_;
};
fs::TempDir* LmEvalNumbers::tmp_ = nullptr;

TEST_F(LmEvalNumbers, LoglikelihoodsAccAndPerplexityMatchTheHarness) {
  auto r = generate::run_generation(options());
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  size_t i = 0;
  for (const auto& task : kChoiceTasks) {
    for (const auto& g : fixture().at("tasks").at(task).at("docs")) {
      const auto want = g.at("loglikelihoods").get<std::vector<double>>();
      const auto& got = r->items[i].loglikelihoods;
      ASSERT_EQ(got.size(), want.size()) << task << " doc " << g.at("doc_id");
      for (size_t c = 0; c < want.size(); ++c)
        EXPECT_NEAR(got[c], want[c], 1e-4 * std::max(1.0, std::abs(want[c])))
            << task << " doc " << g.at("doc_id") << " choice " << c;
      ++i;
    }
  }
  for (const auto& g : fixture().at("tasks").at("wikitext").at("docs")) {
    ASSERT_TRUE(r->items[i].loglikelihood.has_value());
    const double want = g.at("loglikelihood").get<double>();
    EXPECT_NEAR(*r->items[i].loglikelihood, want, 1e-5 * std::abs(want)) << "page " << g.at("doc_id");
    ++i;
  }
  auto scored = eval::score_outputs(r->entries, r->items, {});
  ASSERT_TRUE(scored.is_ok()) << scored.status().to_string();
  for (const auto& d : scored->report.at("datasets")) {
    const json& m = fixture().at("tasks").at(d.at("dataset_name").get<std::string>()).at("metrics");
    EXPECT_DOUBLE_EQ(d.at("acc").get<double>(), m.at("acc").get<double>()) << d.at("dataset_name");
    if (m.contains("acc_norm")) {
      EXPECT_DOUBLE_EQ(d.at("acc_norm").get<double>(), m.at("acc_norm").get<double>());
    }
  }
  ASSERT_EQ(scored->report.at("perplexity").size(), 1u);
  const json& p = scored->report.at("perplexity")[0];
  const json& m = fixture().at("tasks").at("wikitext").at("metrics");
  for (const char* k : {"word_perplexity", "byte_perplexity", "bits_per_byte"})
    EXPECT_NEAR(p.at(k).get<double>() / m.at(k).get<double>(), 1.0, 1e-4) << k;
}

// The same requests on the GPU (scripts/gpu/ppl.sh), fp32: the harness's CPU numbers within the
// same tolerances (TF32 is off for fp32 matmuls in libtorch by default).
TEST_F(LmEvalNumbers, OnCudaMatchesTheHarness) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  generate::GenerateRunOptions o = options();
  o.device = at::Device(at::kCUDA, 0);
  auto r = generate::run_generation(o);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  size_t i = 0;
  for (const auto& task : kChoiceTasks)
    for (const auto& g : fixture().at("tasks").at(task).at("docs")) {
      const auto want = g.at("loglikelihoods").get<std::vector<double>>();
      ASSERT_EQ(r->items[i].loglikelihoods.size(), want.size());
      for (size_t c = 0; c < want.size(); ++c)
        EXPECT_NEAR(r->items[i].loglikelihoods[c], want[c], 1e-4 * std::max(1.0, std::abs(want[c])))
            << task << " doc " << g.at("doc_id") << " choice " << c;
      ++i;
    }
  auto scored = eval::score_outputs(r->entries, r->items, {});
  ASSERT_TRUE(scored.is_ok()) << scored.status().to_string();
  const json& p = scored->report.at("perplexity")[0];
  const json& m = fixture().at("tasks").at("wikitext").at("metrics");
  for (const char* k : {"word_perplexity", "byte_perplexity", "bits_per_byte"})
    EXPECT_NEAR(p.at(k).get<double>() / m.at(k).get<double>(), 1.0, 1e-4) << k;
}

TEST_F(LmEvalNumbers, PerTokenFidelityOfAModelWithItselfIsExact) {
  generate::GenerateRunOptions base = options();
  base.keep_top_k = generate::kTokenTopK;
  auto b = generate::run_generation(base);
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  ASSERT_TRUE(b->token_top_ids.defined());
  const stdfs::path file = tmp_->path() / "tokens.safetensors";
  ASSERT_TRUE(model_io::write_safetensors(file, {{"top_ids", b->token_top_ids}, {"top_logprobs", b->token_top_logprobs}}, {})
                  .is_ok());
  generate::GenerateRunOptions variant = options();
  variant.compare_tokens = file;
  auto v = generate::run_generation(variant);
  ASSERT_TRUE(v.is_ok()) << v.status().to_string();
  int64_t tokens = 0;
  for (size_t i = 0; i < v->items.size(); ++i) {
    if (v->entries[i].prompt_style != "rolling") continue;
    const auto& r = v->items[i];
    ASSERT_TRUE(r.token_top1.has_value());
    ASSERT_EQ(static_cast<int64_t>(r.token_kl.size()), r.tokens);
    EXPECT_EQ(*r.token_top1, r.tokens);
    for (double kl : r.token_kl) EXPECT_NEAR(kl, 0.0, 1e-6);
    tokens += r.tokens;
  }
  EXPECT_EQ(tokens, b->token_top_ids.size(0));
}

TEST_F(LmEvalNumbers, SharedPrefillAndOneForwardPerChoiceAgree) {
  generate::GenerateRunOptions per_choice = options();
  per_choice.shared_prefill = false;
  auto a = generate::run_generation(options());
  auto b = generate::run_generation(per_choice);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  for (size_t i = 0; i < a->items.size(); ++i)
    for (size_t c = 0; c < a->items[i].loglikelihoods.size(); ++c)
      EXPECT_NEAR(a->items[i].loglikelihoods[c], b->items[i].loglikelihoods[c], 1e-4) << "item " << i;
  EXPECT_LT(a->stats.at("loglikelihood_forward_tokens").get<int64_t>(),
            b->stats.at("loglikelihood_forward_tokens").get<int64_t>());
}

// ---- optional: run lm-evaluation-harness now --------------------------------------------------

stdfs::path lm_eval_python() {
  if (const char* env = std::getenv("QB_LMEVAL_PYTHON"); env && *env) return env;
  return "/work/venv-lmeval/bin/python";
}

TEST_F(LmEvalNumbers, LiveHarnessRunMatchesTheFixture) {
  const stdfs::path python = lm_eval_python();
  if (::access(python.c_str(), X_OK) != 0)
    GTEST_SKIP() << "no Python at " << python << "; set QB_LMEVAL_PYTHON to a CPython 3.11 with lm-eval==0.4.13 "
                 << "(see tests/golden/scripts/lm_eval_oracle.py) to run the harness live";
  auto probe = qb::testing::run_command("'" + python.string() +
                                        "' -c 'import importlib.metadata as m, sys; sys.exit(m.version(\"lm-eval\") != \"0.4.13\")'");
  if (probe.code != 0) GTEST_SKIP() << python << " has no lm-eval 0.4.13: " << probe.text;
  const stdfs::path out = tmp_->path() / "live.json";
  auto run = qb::testing::run_command("'" + python.string() + "' '" + src("tests/golden/scripts/lm_eval_oracle.py") +
                                      "' --model '" + (tmp_->path() / "model").string() + "' --out '" + out.string() + "'");
  ASSERT_EQ(run.code, 0) << run.text;
  const json live = json::parse(fs::read_file(out).value());
  EXPECT_EQ(live.at("rolling_windows"), fixture().at("rolling_windows"));
  for (const auto& [task, t] : fixture().at("tasks").items()) {
    const json& l = live.at("tasks").at(task);
    ASSERT_EQ(l.at("docs").size(), t.at("docs").size()) << task;
    for (size_t i = 0; i < t.at("docs").size(); ++i)
      EXPECT_EQ(l.at("docs")[i].at("arguments"), t.at("docs")[i].at("arguments")) << task << " doc " << i;
    for (const auto& [k, v] : t.at("metrics").items())
      EXPECT_NEAR(l.at("metrics").at(k).get<double>(), v.get<double>(), 1e-6 * std::max(1.0, std::abs(v.get<double>())))
          << "tests/golden/eval/lm_eval_oracle.json differs from a live run in " << task << " " << k
          << "; rerun tests/golden/scripts/lm_eval_oracle.py";
  }
}

}  // namespace
}  // namespace qb::steps
