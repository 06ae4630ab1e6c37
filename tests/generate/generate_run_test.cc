// The generate engine (steps/generate/generate_run.h) on a random two-layer model with Qwen3's
// vocabulary and tokenizer (the "demo" shape, fp32 on the CPU): continuous batching writes the
// same raw outputs, finish reasons and fidelity logits as static batching for every item, with
// items of two datasets (two token budgets), shared few-shot blocks and stops at many different
// steps (the forced-stop hook: a random model never stops by itself); the resume file holds
// every item once. Data parallel: two worker processes on the CPU give what one process gives,
// merged in item order, perplexity documents and their per-token top-k rows included.
#include <gtest/gtest.h>

#include <set>

#include "spec/eval_spec.h"
#include "steps/eval/eval_set.h"
#include "steps/generate/data_parallel.h"
#include "steps/generate/generate_run.h"
#include "steps/model/random_model.h"
#include "steps/model_io/safetensors.h"
#include "util/fs.h"

namespace qb::generate {
namespace {

namespace stdfs = std::filesystem;

// A random model with the real tokenizer, made once for the suite.
class GenerateRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new fs::TempDir(fs::TempDir::create(::testing::TempDir(), "qb_generate_").value());
    model::RandomCheckpointRequest req;
    req.shape = "demo";
    req.dtype = at::kFloat;
    req.seed = 3;
    req.tokenizer_dir = stdfs::path(QB_SOURCE_DIR) / "data/tokenizers/qwen3";
    req.out_dir = tmp_->path() / "model";
    const Status s = model::write_random_checkpoint(req);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }

  // An eval set of `n` MMLU-like items (three subjects, each with its own few-shot block) and
  // `n` GSM8K-like items (one shared block), written under `name`.
  static stdfs::path eval_set(const std::string& name, int n) {
    std::vector<eval::EvalEntry> entries;
    const std::string blocks[] = {"Examples about astronomy: the sun is a star; the moon orbits the earth; ",
                                  "Examples about anatomy: the heart pumps blood; bones hold the body up; ",
                                  "Examples about law: a contract binds two parties; a court decides; "};
    for (int i = 0; i < 2 * n; ++i) {
      eval::EvalEntry e;
      e.index = i;
      const bool mmlu = i < n;
      e.dataset_name = mmlu ? "mmlu" : "gsm8k";
      e.subset_name = mmlu ? "s" + std::to_string(i % 3) : "main";
      e.task_type = mmlu ? "knowledge" : "math";
      e.weight = 1;
      std::string q = "question " + std::to_string(i);
      for (int k = 0; k < i % 5; ++k) q += " and more words";
      e.prompt = mmlu ? blocks[i % 3] + blocks[i % 3] + q + "?\nA) one\nB) two\nC) three\nD) four"
                      : "Solve these like the examples: two plus two is four, three times three is nine. " + q;
      e.gold = mmlu ? "B" : "4";
      if (mmlu) e.choices = {"one", "two", "three", "four"};
      e.source = "test:" + std::to_string(i);
      entries.push_back(std::move(e));
    }
    const stdfs::path dir = tmp_->path() / name;
    EXPECT_TRUE(fs::write_file_atomic(dir / "eval_set.jsonl", eval::eval_set_to_jsonl(entries)).is_ok());
    return dir;
  }

  static GenerateRunOptions options(const stdfs::path& set, const std::string& batching, int64_t batch) {
    GenerateRunOptions o;
    o.model_dir = tmp_->path() / "model";
    o.eval_set_dir = set;
    o.dtype = at::kFloat;
    o.spec.max_new_tokens = {{"mmlu", 9}, {"gsm8k", 14}};
    o.spec.batch_size = batch;
    o.spec.batching = batching;
    o.want_logits = true;
    return o;
  }

  static fs::TempDir* tmp_;
};

fs::TempDir* GenerateRun::tmp_ = nullptr;

TEST_F(GenerateRun, ContinuousBatchingWritesTheSameOutputsAsStaticBatching) {
  const stdfs::path set = eval_set("set", 8);
  GenerateRunOptions st = options(set, "static", 4);
  for (int i = 0; i < 16; ++i) st.forced_stop_steps.push_back((i * 5) % 17 - 1);  // -1 (never) .. 15
  auto a = run_generation(st);
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  std::set<int64_t> lengths;
  for (const auto& r : a->items) lengths.insert(r.output_tokens);
  ASSERT_GE(lengths.size(), 6u) << "the items should stop at many different steps";
  for (bool share : {true, false}) {
    GenerateRunOptions co = options(set, "continuous", 3);
    co.forced_stop_steps = st.forced_stop_steps;
    co.share_prefixes = share;
    co.partial_dir = tmp_->path() / (share ? "partial_shared" : "partial_unshared");
    auto b = run_generation(co);
    ASSERT_TRUE(b.is_ok()) << b.status().to_string();
    ASSERT_EQ(a->items.size(), b->items.size());
    for (size_t i = 0; i < a->items.size(); ++i) {
      EXPECT_EQ(a->items[i].output, b->items[i].output) << i;
      EXPECT_EQ(a->items[i].output_tokens, b->items[i].output_tokens) << i;
      EXPECT_EQ(a->items[i].finish, b->items[i].finish) << i;
    }
    const double scale = std::max(1.0, a->last_logits.abs().max().item<double>());
    EXPECT_LE((a->last_logits - b->last_logits).abs().max().item<double>(), 4e-6 * scale);
    EXPECT_EQ(b->stats["batching"], "continuous");
    EXPECT_GT(b->stats["slot_occupancy"].get<double>(), a->stats["slot_occupancy"].get<double>());
    EXPECT_EQ(b->stats["shared_prefixes"].get<int64_t>() > 0, share);
    // Every item reached the resume file exactly once, with what the run returned.
    auto partial = fs::read_file(co.partial_dir / "predictions.jsonl");
    ASSERT_TRUE(partial.is_ok());
    std::set<int64_t> seen;
    size_t pos = 0;
    while (pos < partial->size()) {
      const size_t nl = partial->find('\n', pos);
      auto line = eval::parse_raw_output(std::string_view(*partial).substr(pos, nl - pos), "predictions.jsonl");
      ASSERT_TRUE(line.is_ok());
      EXPECT_TRUE(seen.insert(line->first).second) << line->first;
      EXPECT_EQ(line->second.output, b->items[static_cast<size_t>(line->first)].output);
      pos = nl + 1;
    }
    EXPECT_EQ(seen.size(), 16u);
  }
}

TEST_F(GenerateRun, LoglikelihoodItemsScoreTheSameWithSharedContexts) {
  std::vector<eval::EvalEntry> entries;
  for (int i = 0; i < 6; ++i) {
    eval::EvalEntry e;
    e.index = i;
    e.dataset_name = "mmlu";
    e.subset_name = "s";
    e.task_type = "knowledge";
    e.weight = 1;
    e.prompt_style = "loglikelihood";
    e.chat_template = false;
    e.prompt = "Question " + std::to_string(i) + ": which planet is the largest?\nAnswer:";
    e.continuations = {" A", " B", i % 2 ? " C is a longer answer" : " C", " D"};
    e.choices = {"one", "two", "three", "four"};
    e.gold = "A";
    e.source = "test:" + std::to_string(i);
    entries.push_back(std::move(e));
  }
  const stdfs::path dir = tmp_->path() / "ll_set";
  ASSERT_TRUE(fs::write_file_atomic(dir / "eval_set.jsonl", eval::eval_set_to_jsonl(entries)).is_ok());
  auto a = run_generation(options(dir, "static", 4));
  auto b = run_generation(options(dir, "continuous", 4));
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  for (size_t i = 0; i < entries.size(); ++i) {
    ASSERT_EQ(a->items[i].loglikelihoods.size(), 4u);
    ASSERT_EQ(b->items[i].loglikelihoods.size(), 4u);
    for (size_t c = 0; c < 4; ++c) EXPECT_NEAR(a->items[i].loglikelihoods[c], b->items[i].loglikelihoods[c], 1e-4) << i;
  }
}

TEST_F(GenerateRun, AResumedContinuousRunComputesOnlyTheMissingItems) {
  const stdfs::path set = eval_set("resume_set", 4);
  GenerateRunOptions o = options(set, "continuous", 2);
  o.partial_dir = tmp_->path() / "partial_resume";
  for (int i = 0; i < 8; ++i) o.forced_stop_steps.push_back(i % 4);
  auto full = run_generation(o);
  ASSERT_TRUE(full.is_ok()) << full.status().to_string();
  // Keep the first three finished lines, as if the run had died after them.
  auto text = fs::read_file(o.partial_dir / "predictions.jsonl");
  ASSERT_TRUE(text.is_ok());
  size_t cut = 0;
  for (int k = 0; k < 3; ++k) cut = text->find('\n', cut) + 1;
  ASSERT_TRUE(fs::write_file_atomic(o.partial_dir / "predictions.jsonl", text->substr(0, cut)).is_ok());
  auto resumed = run_generation(o);
  ASSERT_TRUE(resumed.is_ok()) << resumed.status().to_string();
  EXPECT_EQ(resumed->resumed, 3);
  for (size_t i = 0; i < full->items.size(); ++i) EXPECT_EQ(full->items[i].output, resumed->items[i].output) << i;
}

TEST_F(GenerateRun, AForcedStopListOfTheWrongLengthIsAnError) {
  GenerateRunOptions o = options(eval_set("bad_set", 2), "continuous", 2);
  o.forced_stop_steps = {1, 2, 3};
  EXPECT_EQ(run_generation(o).status().message(), "forced_stop_steps has 3 entries for 4 eval items");
}

// ---- data parallel: two worker processes (qbuild-generate-worker) on the CPU ----

ParallelOptions two_workers(const stdfs::path& work) {
  ParallelOptions p;
  p.devices = {"", ""};
  p.worker_argv = {QB_GENERATE_WORKER};
  p.work_dir = work;
  p.cpu_threads = 1;
  return p;
}

TEST_F(GenerateRun, TwoWorkerProcessesGiveWhatOneProcessGivesInItemOrder) {
  const stdfs::path set = eval_set("dp_set", 5);  // 10 items: 5 per worker
  for (const std::string batching : {"static", "continuous"}) {
    GenerateRunOptions o = options(set, batching, 3);
    for (int i = 0; i < 10; ++i) o.forced_stop_steps.push_back((i * 3) % 11 - 1);
    auto one = run_generation(o);
    ASSERT_TRUE(one.is_ok()) << one.status().to_string();
    o.partial_dir = tmp_->path() / ("dp_partial_" + batching);
    auto two = run_generation_parallel(o, two_workers(tmp_->path() / ("dp_work_" + batching)));
    ASSERT_TRUE(two.is_ok()) << two.status().to_string();
    ASSERT_EQ(two->items.size(), one->items.size());
    for (size_t i = 0; i < one->items.size(); ++i) {
      EXPECT_EQ(one->items[i].output, two->items[i].output) << batching << " " << i;
      EXPECT_EQ(one->items[i].finish, two->items[i].finish) << batching << " " << i;
    }
    const double scale = std::max(1.0, one->last_logits.abs().max().item<double>());
    EXPECT_LE((one->last_logits - two->last_logits).abs().max().item<double>(), 4e-6 * scale) << batching;
    EXPECT_EQ(two->stats["workers"], 2);
    ASSERT_EQ(two->stats["shards"].size(), 2u);
    EXPECT_EQ(two->stats["shards"][0]["items"], 10);  // each worker reads the whole set ...
    EXPECT_EQ(two->stats["generated_tokens"], one->stats["generated_tokens"]);  // ... and computes its half
    // Each worker resumes from its own file.
    EXPECT_TRUE(stdfs::exists(o.partial_dir / "shard-0-of-2" / "predictions.jsonl"));
    EXPECT_TRUE(stdfs::exists(o.partial_dir / "shard-1-of-2" / "predictions.jsonl"));
  }
}

// Perplexity documents over two workers: each scores the documents of its shard only, and its
// per-token top-k rows (the base's token_topk file) come back in place; a variant compared with
// that file over two workers gets the same per-token KL and top-1 agreement as in one process.
TEST_F(GenerateRun, TwoWorkersScoreTheirDocumentsAndMergeTheirTokenRows) {
  std::vector<eval::EvalEntry> entries;
  for (int i = 0; i < 5; ++i) {
    eval::EvalEntry e;
    e.index = i;
    e.dataset_name = "wikitext";
    e.subset_name = "default";
    e.task_type = "perplexity";
    e.weight = 1;
    e.prompt_style = "rolling";
    e.chat_template = false;
    for (int k = 0; k <= i; ++k) e.prompt += "Document " + std::to_string(i) + " says the river runs to the sea. ";
    e.source = "test:" + std::to_string(i);
    entries.push_back(std::move(e));
  }
  const stdfs::path dir = tmp_->path() / "dp_docs";
  ASSERT_TRUE(fs::write_file_atomic(dir / "eval_set.jsonl", eval::eval_set_to_jsonl(entries)).is_ok());
  GenerateRunOptions o = options(dir, "static", 3);
  o.want_logits = false;
  o.spec.max_length = 16;  // several windows per document
  o.keep_top_k = 4;
  auto one = run_generation(o);
  ASSERT_TRUE(one.is_ok()) << one.status().to_string();
  auto two = run_generation_parallel(o, two_workers(tmp_->path() / "dp_docs_work"));
  ASSERT_TRUE(two.is_ok()) << two.status().to_string();
  ASSERT_TRUE(two->token_top_ids.defined());
  EXPECT_TRUE(at::equal(one->token_top_ids, two->token_top_ids));
  EXPECT_TRUE(at::allclose(one->token_top_logprobs, two->token_top_logprobs, 1e-5, 1e-5));
  for (size_t i = 0; i < entries.size(); ++i) {
    ASSERT_TRUE(two->items[i].loglikelihood.has_value()) << i;
    EXPECT_NEAR(*one->items[i].loglikelihood, *two->items[i].loglikelihood, 1e-4) << i;
    EXPECT_EQ(one->items[i].tokens, two->items[i].tokens) << i;
  }
  EXPECT_EQ(two->stats["shards"][0]["rolling_windows"].get<int64_t>() +
                two->stats["shards"][1]["rolling_windows"].get<int64_t>(),
            one->stats["rolling_windows"].get<int64_t>());

  const stdfs::path base = tmp_->path() / "dp_docs_base.safetensors";
  ASSERT_TRUE(model_io::write_safetensors(base, {{"top_ids", one->token_top_ids}, {"top_logprobs", one->token_top_logprobs}})
                  .is_ok());
  o.keep_top_k = 0;
  o.compare_tokens = base;
  auto cmp_one = run_generation(o);
  auto cmp_two = run_generation_parallel(o, two_workers(tmp_->path() / "dp_docs_cmp_work"));
  ASSERT_TRUE(cmp_one.is_ok()) << cmp_one.status().to_string();
  ASSERT_TRUE(cmp_two.is_ok()) << cmp_two.status().to_string();
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(cmp_one->items[i].token_top1, cmp_two->items[i].token_top1) << i;
    EXPECT_EQ(*cmp_two->items[i].token_top1, cmp_two->items[i].tokens) << i;  // the same model
    ASSERT_EQ(cmp_one->items[i].token_kl.size(), cmp_two->items[i].token_kl.size()) << i;
    for (size_t t = 0; t < cmp_one->items[i].token_kl.size(); ++t)
      EXPECT_NEAR(cmp_one->items[i].token_kl[t], cmp_two->items[i].token_kl[t], 1e-5) << i << " " << t;
  }
}

TEST_F(GenerateRun, AFailingWorkerFailsTheRunWithItsMessage) {
  GenerateRunOptions o = options(eval_set("dp_bad_set", 2), "static", 2);
  o.model_dir = tmp_->path() / "no-such-model";
  auto r = run_generation_parallel(o, two_workers(tmp_->path() / "dp_bad_work"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("generate worker 0 (device '') failed (exit 1)"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("no-such-model"), std::string::npos) << r.status().message();
}

TEST_F(GenerateRun, AShardOutsideTheWorkersIsAnError) {
  GenerateRunOptions o = options(eval_set("shard_set", 2), "static", 2);
  o.shard = 2;
  o.shards = 2;
  EXPECT_EQ(run_generation(o).status().message(), "shard 2 of 2 does not exist");
}

}  // namespace
}  // namespace qb::generate
