// Continuous batching (continuous_batching.h) against today's static batching
// (generate_greedy) on the tiny fixtures: the same greedy tokens, finish reasons and stop tokens
// for every prompt, with prompts that stop at many different steps (through a stop token the
// model really emits, through the forced-stop hook, through per-prompt budgets), with shared
// prefixes, static shapes and a pool much smaller than the prompt list (many refills); the KV
// cache's per-row slots and row copies; the shared-prefix plan.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "steps/model/continuous_batching.h"
#include "steps/model/generate.h"
#include "steps/model/kv_cache.h"
#include "steps/model/shared_context_scoring.h"
#include "steps/model/shared_prefix.h"
#include "test_support.h"

namespace qb::model {
namespace {

using testing::json_ids;
using testing::load_or_die;
using testing::reference;

// The fixture's prompts and more of other lengths (3 .. 21 tokens), some sharing a prefix.
std::vector<std::vector<int64_t>> many_prompts(const std::string& name, int64_t vocab) {
  auto prompts = json_ids(reference(name)["prompts"]);
  at::manual_seed(7);
  for (int64_t len : {3, 17, 8, 21, 5, 12, 9, 14, 4}) {
    const at::Tensor r = at::randint(1, vocab, {len}, at::kLong);
    prompts.emplace_back(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + len);
  }
  return prompts;
}

GenerateOptions no_eos(int64_t n) {
  GenerateOptions o;
  o.max_new_tokens = n;
  o.stop_at_eos = false;
  return o;
}

ContinuousOptions pool(int64_t slots, bool share = false) {
  ContinuousOptions c;
  c.slots = slots;
  c.share_prefixes = share;
  return c;
}

// Between two fp32 paths of this runtime (other batch shapes sum in other orders): a few
// dozen ulps of the largest logit, as in golden_test.cc.
double self_tol(const at::Tensor& reference) {
  return 4e-6 * std::max(1.0, reference.abs().max().item<double>());
}

// Expects the same tokens, finish reason and stop token for every prompt.
void expect_same(const std::vector<Generation>& a, const std::vector<Generation>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].tokens, b[i].tokens) << what << ", prompt " << i;
    EXPECT_EQ(a[i].finish, b[i].finish) << what << ", prompt " << i;
    EXPECT_EQ(a[i].stop_token, b[i].stop_token) << what << ", prompt " << i;
  }
}

// Lengths of the free runs when `stops` end them.
std::vector<size_t> stop_lengths(const std::vector<Generation>& free_run, const std::set<int64_t>& stops) {
  std::vector<size_t> out;
  for (const auto& g : free_run) {
    size_t i = 0;
    while (i < g.tokens.size() && !stops.count(g.tokens[i])) ++i;
    out.push_back(i);
  }
  return out;
}

// One or two tokens of the free runs that, as stop tokens, end the prompts at the most
// different lengths (some not at all).
std::vector<int64_t> spreading_stop_tokens(const std::vector<Generation>& free_run) {
  std::set<int64_t> seen;
  for (const auto& g : free_run) seen.insert(g.tokens.begin(), g.tokens.end());
  const std::vector<int64_t> tokens(seen.begin(), seen.end());
  std::vector<int64_t> best;
  size_t spread = 0;
  for (size_t i = 0; i < tokens.size(); ++i)
    for (size_t j = i; j < tokens.size(); ++j) {
      const auto lengths = stop_lengths(free_run, {tokens[i], tokens[j]});
      const size_t n = std::set<size_t>(lengths.begin(), lengths.end()).size();
      if (n > spread) {
        spread = n;
        best = i == j ? std::vector<int64_t>{tokens[i]} : std::vector<int64_t>{tokens[i], tokens[j]};
      }
    }
  return best;
}

class Continuous : public ::testing::TestWithParam<std::string> {};
class ContinuousNaturalStops : public ::testing::TestWithParam<std::string> {};

TEST_P(ContinuousNaturalStops, GreedyTokensEqualStaticBatchingWhenPromptsStopAtDifferentSteps) {
  const Model m = load_or_die(GetParam());
  const auto prompts = many_prompts(GetParam(), m.config().vocab_size);
  auto free_run = generate_greedy(m, prompts, no_eos(20));
  ASSERT_TRUE(free_run.is_ok()) << free_run.status().to_string();
  GenerateOptions opts = no_eos(20);
  opts.stop_token_ids = spreading_stop_tokens(*free_run);
  auto stat = generate_greedy(m, prompts, opts);
  ASSERT_TRUE(stat.is_ok());
  std::set<size_t> lengths;
  int64_t stopped = 0;
  for (const auto& g : *stat) {
    lengths.insert(g.tokens.size());
    stopped += g.finish == FinishReason::kStop;
  }
  ASSERT_GE(lengths.size(), 4u) << "the stop tokens should end prompts at different steps";
  ASSERT_GE(stopped, 2);
  for (int64_t slots : {1, 3, 64}) {
    ContinuousStats stats;
    auto cont = generate_continuous(m, prompts, opts, pool(slots), {}, &stats);
    ASSERT_TRUE(cont.is_ok()) << cont.status().to_string();
    expect_same(*stat, *cont, "slots " + std::to_string(slots));
    EXPECT_EQ(stats.slots, std::min<int64_t>(slots, static_cast<int64_t>(prompts.size())));
    EXPECT_EQ(stats.prefill_forwards >= 1, true);
  }
}

TEST_P(Continuous, StaticShapesAndLongerStopChecksGiveTheSameTokens) {
  const Model m = load_or_die(GetParam());
  const auto prompts = many_prompts(GetParam(), m.config().vocab_size);
  GenerateOptions opts = no_eos(12);
  opts.forced_stop_steps = {3, 0, 11, 5, 7, 1, 9, 2, 20, 6, 4, 8};
  opts.forced_stop_steps.resize(prompts.size(), -1);
  opts.stop_token_ids = {1};
  auto stat = generate_greedy(m, prompts, opts);
  ASSERT_TRUE(stat.is_ok());
  for (bool static_shapes : {false, true})
    for (int64_t interval : {1, 16}) {
      GenerateOptions o = opts;
      o.static_shapes = static_shapes;
      o.stop_check_interval = interval;
      auto cont = generate_continuous(m, prompts, o, pool(3));
      ASSERT_TRUE(cont.is_ok()) << cont.status().to_string();
      expect_same(*stat, *cont, "static " + std::to_string(static_shapes) + " interval " + std::to_string(interval));
    }
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s)
    if (c == '-') c = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(TinyModels, Continuous, ::testing::ValuesIn(testing::kTinyModels), param_name);
// qwen2-tiny repeats its prompt's last token forever, so a stop token it emits ends a prompt
// at once or never: the forced stops above cover it.
INSTANTIATE_TEST_SUITE_P(TinyModels, ContinuousNaturalStops,
                         ::testing::Values("qwen3-tiny", "qwen3-tiny-tied", "llama-tiny"), param_name);

TEST(Continuous, ForcedStopsEndEachPromptAtItsStepInBothEngines) {
  const Model m = load_or_die("qwen3-tiny");
  const auto prompts = many_prompts("qwen3-tiny", m.config().vocab_size);
  auto free_run = generate_greedy(m, prompts, no_eos(10));
  ASSERT_TRUE(free_run.is_ok());
  GenerateOptions opts = no_eos(10);
  opts.stop_token_ids = {255};
  for (size_t i = 0; i < prompts.size(); ++i) opts.forced_stop_steps.push_back(static_cast<int64_t>(i) - 1);
  auto stat = generate_greedy(m, prompts, opts);
  auto cont = generate_continuous(m, prompts, opts, pool(4));
  ASSERT_TRUE(stat.is_ok() && cont.is_ok());
  expect_same(*stat, *cont, "forced");
  for (size_t i = 0; i < prompts.size(); ++i) {
    const int64_t f = opts.forced_stop_steps[i];
    const auto& full = (*free_run)[i].tokens;
    if (f < 0 || f >= 10) {
      // No forced stop within the budget: the free run, unless it emits 255 itself.
      EXPECT_EQ((*cont)[i].finish == FinishReason::kLength,
                std::find(full.begin(), full.end(), 255) == full.end()) << i;
      continue;
    }
    const auto natural = std::find(full.begin(), full.begin() + f, 255);
    const size_t n = static_cast<size_t>(natural - full.begin());
    EXPECT_EQ((*cont)[i].tokens, std::vector<int64_t>(full.begin(), full.begin() + n)) << i;
    EXPECT_EQ((*cont)[i].finish, FinishReason::kStop) << i;
    EXPECT_EQ((*cont)[i].stop_token, 255) << i;
  }
}

TEST(Continuous, EachPromptKeepsItsOwnTokenBudget) {
  const Model m = load_or_die("qwen2-tiny");
  const auto prompts = many_prompts("qwen2-tiny", m.config().vocab_size);
  auto free_run = generate_greedy(m, prompts, no_eos(16));
  ASSERT_TRUE(free_run.is_ok());
  ContinuousOptions c = pool(3);
  for (size_t i = 0; i < prompts.size(); ++i) c.max_new_tokens.push_back(1 + static_cast<int64_t>((i * 5) % 16));
  ContinuousStats stats;
  auto cont = generate_continuous(m, prompts, no_eos(16), c, {}, &stats);
  ASSERT_TRUE(cont.is_ok()) << cont.status().to_string();
  int64_t total = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto& full = (*free_run)[i].tokens;
    EXPECT_EQ((*cont)[i].tokens, std::vector<int64_t>(full.begin(), full.begin() + c.max_new_tokens[i])) << i;
    EXPECT_EQ((*cont)[i].finish, FinishReason::kLength) << i;
    total += c.max_new_tokens[i];
  }
  // Every kept token took one row-step; rounds end at the earliest budget, so no row-step of a
  // budget-bound prompt is wasted: the pool was full until it drained.
  EXPECT_EQ(stats.used_row_steps, total);
  EXPECT_DOUBLE_EQ(stats.steady_occupancy(), 1.0);
  EXPECT_GT(stats.occupancy(), 0.5);
}

TEST(Continuous, CallbacksSeeEveryPromptOnceWithItsPrefillLogits) {
  const Model m = load_or_die("qwen3-tiny-tied");
  const auto prompts = many_prompts("qwen3-tiny-tied", m.config().vocab_size);
  GenerateOptions opts = no_eos(6);
  opts.forced_stop_steps = std::vector<int64_t>(prompts.size(), 2);
  opts.forced_stop_steps[0] = 5;
  opts.stop_token_ids = {3};
  at::Tensor all_logits;
  opts.prefill_logits = &all_logits;
  std::map<int64_t, Generation> finished;
  std::set<int64_t> prefilled;
  ContinuousCallbacks cb;
  cb.on_prefill = [&](const std::vector<int64_t>& ps, const at::Tensor& logits) {
    ASSERT_EQ(logits.size(0), static_cast<int64_t>(ps.size()));
    for (size_t k = 0; k < ps.size(); ++k) {
      EXPECT_TRUE(prefilled.insert(ps[k]).second) << ps[k];
      EXPECT_TRUE(logits[static_cast<int64_t>(k)].equal(all_logits[ps[k]])) << ps[k];
    }
  };
  cb.on_finished = [&](const std::vector<FinishedGeneration>& f) {
    for (const auto& g : f) {
      EXPECT_TRUE(prefilled.count(g.prompt)) << g.prompt;
      EXPECT_TRUE(finished.emplace(g.prompt, g.generation).second) << g.prompt;
    }
    return Status::ok();
  };
  auto cont = generate_continuous(m, prompts, opts, pool(2), cb);
  ASSERT_TRUE(cont.is_ok()) << cont.status().to_string();
  ASSERT_EQ(finished.size(), prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(finished[static_cast<int64_t>(i)].tokens, (*cont)[i].tokens);
  auto ref = last_logits(m, prompts);
  ASSERT_TRUE(ref.is_ok());
  EXPECT_LE((all_logits - *ref).abs().max().item<double>(), self_tol(*ref));
  // An error from a callback stops the run and comes back.
  cb.on_prefill = nullptr;
  cb.on_finished = [](const std::vector<FinishedGeneration>&) { return internal_error("disk full"); };
  auto failed = generate_continuous(m, prompts, opts, pool(2), cb);
  ASSERT_FALSE(failed.is_ok());
  EXPECT_EQ(failed.status().message(), "disk full");
}

// Prompts of two few-shot-like blocks (and one without), each block shared by several prompts.
std::vector<std::vector<int64_t>> prefixed_prompts() {
  at::manual_seed(9);
  auto rand_ids = [](int64_t n) {
    const at::Tensor r = at::randint(1, 250, {n}, at::kLong);
    return std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + n);
  };
  const auto header = rand_ids(4), block_a = rand_ids(30), block_b = rand_ids(22);
  std::vector<std::vector<int64_t>> prompts;
  for (int i = 0; i < 9; ++i) {
    std::vector<int64_t> p = header;
    const auto& block = i % 3 == 0 ? block_a : block_b;
    if (i != 4) p.insert(p.end(), block.begin(), block.end());
    const auto q = rand_ids(3 + i % 5);
    p.insert(p.end(), q.begin(), q.end());
    prompts.push_back(p);
  }
  return prompts;
}

TEST(Continuous, SharedPrefixesGiveTheSameTokensAsPrefillingEachPrompt) {
  for (const std::string name : {"qwen3-tiny", "llama-tiny"}) {
    const Model m = load_or_die(name);
    const auto prompts = prefixed_prompts();
    GenerateOptions opts = no_eos(10);
    opts.stop_token_ids = {7};
    opts.forced_stop_steps = {4, 9, 0, 2, 6, 1, 8, 3, 5};
    at::Tensor logits_static, logits_shared;
    opts.prefill_logits = &logits_static;
    auto stat = generate_greedy(m, prompts, opts);
    ASSERT_TRUE(stat.is_ok());
    opts.prefill_logits = &logits_shared;
    ContinuousStats stats;
    auto shared = generate_continuous(m, prompts, opts, pool(3, true), {}, &stats);
    ASSERT_TRUE(shared.is_ok()) << shared.status().to_string();
    expect_same(*stat, *shared, name + " shared");
    EXPECT_EQ(stats.prefixes, 2);  // block a (3 prompts), block b (5 prompts)
    EXPECT_EQ(stats.shared_tokens, 3 * 34 + 5 * 26);
    EXPECT_LE((logits_static - logits_shared).abs().max().item<double>(), self_tol(logits_static));
    auto unshared = generate_continuous(m, prompts, opts, pool(3, false), {}, &stats);
    ASSERT_TRUE(unshared.is_ok());
    expect_same(*stat, *unshared, name + " not shared");
    EXPECT_EQ(stats.prefixes, 0);
    EXPECT_EQ(stats.shared_tokens, 0);
  }
}

TEST(Continuous, RejectsBadInput) {
  const Model m = load_or_die("qwen3-tiny");
  EXPECT_EQ(generate_continuous(m, {}, no_eos(4), pool(2)).status().message(), "empty batch");
  EXPECT_EQ(generate_continuous(m, {{1}, {}}, no_eos(4), pool(2)).status().message(), "sequence 1 is empty");
  EXPECT_EQ(generate_continuous(m, {{1, 256}}, no_eos(4), pool(2)).status().message(),
            "sequence 0: id 256 at position 1 is outside the vocabulary [0, 256)");
  EXPECT_EQ(generate_continuous(m, {{1}}, no_eos(4), pool(0)).status().message(),
            "continuous batching needs at least one slot");
  EXPECT_EQ(generate_continuous(m, {{1}}, no_eos(0), pool(1)).status().message(),
            "sequence 0: max_new_tokens must be >= 1");
  ContinuousOptions c = pool(1);
  c.max_new_tokens = {1, 2};
  EXPECT_EQ(generate_continuous(m, {{1}}, no_eos(4), c).status().message(),
            "max_new_tokens has 2 entries for 1 prompts");
  GenerateOptions forced = no_eos(4);
  forced.forced_stop_steps = {1};
  EXPECT_EQ(generate_continuous(m, {{1}}, forced, pool(1)).status().message(),
            "forced_stop_steps needs a stop token to force");
  EXPECT_EQ(generate_greedy(m, {{1}}, forced).status().message(), "forced_stop_steps needs a stop token to force");
  forced.stop_token_ids = {2};
  forced.forced_stop_steps = {1, 2};
  EXPECT_EQ(generate_greedy(m, {{1}}, forced).status().message(), "forced_stop_steps has 2 entries for 1 prompts");
}

// ---- the KV cache's per-row slots ----

TEST(KvCacheRows, CopyRowsMovesSequencesAndInvalidatesTheRest) {
  const Model m = load_or_die("qwen3-tiny");
  KvCache pool_cache = m.new_cache(3, 10);
  pool_cache.set_row_slots(true);
  KvCache src = m.new_cache(2, 4);
  auto batch = left_pad({{5, 6, 7}, {8, 9, 10, 11}}, 256, at::kCPU);
  ASSERT_TRUE(batch.is_ok());
  (void)m.forward_hidden(batch->ids, batch->valid, &src);
  ASSERT_TRUE(pool_cache.copy_rows(src, {1, 0}, {2, 0}).is_ok());
  EXPECT_EQ(pool_cache.row_length(0), 4);
  EXPECT_EQ(pool_cache.row_length(1), 0);
  EXPECT_EQ(pool_cache.row_length(2), 4);
  EXPECT_FALSE(pool_cache.aligned());
  EXPECT_TRUE(pool_cache.slot().equal(at::tensor({4, 0, 4}, at::kLong)));
  EXPECT_TRUE(pool_cache.keys(1).select(0, 2).narrow(1, 0, 4).equal(src.keys(1).select(0, 1)));
  EXPECT_TRUE(pool_cache.key_valid().select(0, 0).narrow(0, 0, 5).equal(at::tensor({0, 1, 1, 1, 0}).to(at::kBool)));
  // A one-token step writes each row at its own slot.
  const at::Tensor one = at::ones({3, 1}, at::kBool);
  (void)m.forward_hidden(at::tensor({1, 2, 3}, at::kLong).unsqueeze(1), one, &pool_cache);
  EXPECT_TRUE(pool_cache.slot().equal(at::tensor({5, 1, 5}, at::kLong)));
  EXPECT_TRUE(pool_cache.key_valid().select(1, 4).equal(at::tensor({1, 0, 1}).to(at::kBool)));
  // A forward of several tokens needs aligned rows.
  EXPECT_THROW((void)m.forward_hidden(at::ones({3, 2}, at::kLong), at::ones({3, 2}, at::kBool), &pool_cache),
               c10::Error);
}

TEST(KvCacheRows, IdleRowsParkAtTheLastSlot) {
  const Model m = load_or_die("qwen3-tiny");
  KvCache c = m.new_cache(2, 3);
  c.set_row_slots(true);
  const at::Tensor one = at::ones({2, 1}, at::kBool);
  for (int i = 0; i < 5; ++i) (void)m.forward_hidden(at::ones({2, 1}, at::kLong), one, &c);
  EXPECT_TRUE(c.slot().equal(at::tensor({2, 2}, at::kLong)));
  EXPECT_EQ(c.length(), 2);
}

TEST(KvCacheRows, CopyRowsRejectsMismatchedCachesAndRows) {
  const Model m = load_or_die("qwen3-tiny");
  const Model other = load_or_die("llama-tiny");
  KvCache dst = m.new_cache(2, 4);
  KvCache src = m.new_cache(1, 6);
  (void)m.forward_hidden(at::ones({1, 6}, at::kLong), at::ones({1, 6}, at::kBool), &src);
  EXPECT_EQ(dst.copy_rows(src, {0}, {0}).message(), "KV cache copy: 6 slots do not fit a cache of 4");
  KvCache small = m.new_cache(1, 2);
  EXPECT_EQ(dst.copy_rows(small, {0}, {0, 1}).message(), "KV cache copy: 1 source rows for 2 destination rows");
  EXPECT_EQ(dst.copy_rows(small, {1}, {0}).message(), "KV cache copy: source row 1 is out of range");
  EXPECT_EQ(dst.copy_rows(small, {0, 0}, {1, 1}).message(),
            "KV cache copy: destination row 1 is out of range or given twice");
  KvCache foreign = other.new_cache(1, 2);
  if (other.config().num_layers != m.config().num_layers || other.config().head_dim != m.config().head_dim ||
      other.config().num_kv_heads != m.config().num_kv_heads) {
    EXPECT_EQ(dst.copy_rows(foreign, {0}, {0}).message(),
              "KV cache copy: the caches differ in layers, head shape, dtype or device");
  }
  KvCache half = KvCache::create(m.config(), 1, 2, at::kBFloat16, at::kCPU);
  EXPECT_EQ(dst.copy_rows(half, {0}, {0}).message(),
            "KV cache copy: the caches differ in layers, head shape, dtype or device");
}

// ---- log-likelihoods with shared contexts ----

// Expects the same log-probabilities (within `tol`) and greedy flags.
void expect_same_scores(const std::vector<ContinuationScore>& a, const std::vector<ContinuationScore>& b, double tol) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].token_logprobs.size(), b[i].token_logprobs.size()) << i;
    for (size_t k = 0; k < a[i].token_logprobs.size(); ++k)
      EXPECT_NEAR(a[i].token_logprobs[k], b[i].token_logprobs[k], tol) << i << " " << k;
    EXPECT_NEAR(a[i].logprob, b[i].logprob, tol * 4) << i;
    EXPECT_EQ(a[i].greedy, b[i].greedy) << i;
  }
}

TEST_P(Continuous, SharedContextScoresEqualScoringEachContinuationWhole) {
  const Model m = load_or_die(GetParam());
  const auto prompts = many_prompts(GetParam(), m.config().vocab_size);
  std::vector<ScoreRequest> reqs;
  for (size_t p = 0; p < 5; ++p)
    for (int64_t len : {1, 3, 1, 4})  // four choices of mixed lengths after each context
      reqs.push_back({prompts[p], std::vector<int64_t>(static_cast<size_t>(len), 10 + static_cast<int64_t>(p) + len)});
  reqs.push_back({prompts[7], {5, 6}});  // a context of its own
  auto whole = score_continuations(m, reqs);
  auto shared = score_continuations_shared(m, reqs);
  ASSERT_TRUE(whole.is_ok() && shared.is_ok()) << shared.status().to_string();
  expect_same_scores(*whole, *shared, 2e-5);
  // One-token continuations (MMLU's letters): no forward besides the contexts'.
  std::vector<ScoreRequest> letters;
  for (size_t p = 0; p < 4; ++p)
    for (int64_t id : {32, 33, 34, 35}) letters.push_back({prompts[p], {id}});
  whole = score_continuations(m, letters);
  shared = score_continuations_shared(m, letters);
  ASSERT_TRUE(whole.is_ok() && shared.is_ok());
  expect_same_scores(*whole, *shared, 2e-5);
}

TEST(Continuous, SharedContextScoringRejectsBadRequests) {
  const Model m = load_or_die("qwen3-tiny");
  EXPECT_EQ(score_continuations_shared(m, {}).status().message(), "no continuations to score");
  EXPECT_EQ(score_continuations_shared(m, {{{1}, {}}}).status().message(), "request 0: empty continuation");
  EXPECT_EQ(score_continuations_shared(m, {{{1}, {2}}, {{}, {2}}}).status().message(), "request 1: empty context");
  EXPECT_EQ(score_continuations_shared(m, {{{1}, {2, 999}}}).status().message(),
            "request 0: continuation id 999 is outside the vocabulary [0, 256)");
}

// ---- the shared-prefix plan ----

TEST(SharedPrefix, FewShotBlocksGroupBySubjectNotByTheCommonHeader) {
  // A 6-token header for all; subjects a, b, c with blocks of 40 tokens; questions of their own.
  std::vector<std::vector<int64_t>> prompts;
  std::vector<int64_t> subject;
  for (int s = 0; s < 3; ++s)
    for (int q = 0; q < 4; ++q) {
      std::vector<int64_t> p = {1, 2, 3, 4, 5, 6};
      for (int i = 0; i < 40; ++i) p.push_back(100 * (s + 1) + i);
      for (int i = 0; i <= q; ++i) p.push_back(1000 + 10 * q + i);
      prompts.push_back(p);
      subject.push_back(s);
    }
  const PrefixPlan plan = plan_shared_prefixes(prompts, 16);
  ASSERT_EQ(plan.length.size(), 3u);
  for (int64_t len : plan.length) EXPECT_EQ(len, 46);
  for (size_t i = 0; i < prompts.size(); ++i)
    for (size_t j = 0; j < prompts.size(); ++j)
      EXPECT_EQ(plan.group[i] == plan.group[j], subject[i] == subject[j]) << i << " " << j;
  for (size_t g = 0; g < plan.length.size(); ++g) EXPECT_EQ(plan.group[plan.leader[g]], static_cast<int64_t>(g));
  // The header alone is under min_length: with blocks shorter than it nothing is shared.
  EXPECT_TRUE(plan_shared_prefixes(prompts, 47).length.empty());
}

TEST(SharedPrefix, APrefixLeavesEveryPromptATokenOfItsOwn) {
  const std::vector<std::vector<int64_t>> prompts = {{1, 2, 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 4, 5}};
  const PrefixPlan plan = plan_shared_prefixes(prompts, 2);
  ASSERT_EQ(plan.length.size(), 1u);
  EXPECT_EQ(plan.length[0], 3);
  EXPECT_EQ(plan.group, (std::vector<int64_t>{0, 0, 0}));
}

TEST(SharedPrefix, NothingToShareGivesNoGroups) {
  EXPECT_TRUE(plan_shared_prefixes({}, 1).length.empty());
  EXPECT_EQ(plan_shared_prefixes({{1, 2, 3}}, 1).group, (std::vector<int64_t>{-1}));
  const PrefixPlan plan = plan_shared_prefixes({{1, 2, 3}, {2, 3, 4}, {1, 5, 6}}, 2);
  EXPECT_TRUE(plan.length.empty());
  EXPECT_EQ(plan.group, (std::vector<int64_t>{-1, -1, -1}));
}

TEST(SharedPrefix, ADeepPairInsideALargeGroupJoinsTheGroup) {
  // Ten prompts share 20 tokens; two of them share 25. 20·(1 − 1/10) = 18 > 25·(1 − 1/2) = 12.5.
  std::vector<std::vector<int64_t>> prompts;
  for (int i = 0; i < 10; ++i) {
    std::vector<int64_t> p(20, 7);
    const int64_t tail = i < 2 ? 50 : 60 + i;
    for (int k = 0; k < (i < 2 ? 5 : 1); ++k) p.push_back(tail);
    p.push_back(90 + i);
    prompts.push_back(p);
  }
  const PrefixPlan plan = plan_shared_prefixes(prompts, 4);
  ASSERT_EQ(plan.length.size(), 1u);
  EXPECT_EQ(plan.length[0], 20);
  for (int64_t g : plan.group) EXPECT_EQ(g, 0);
}

}  // namespace
}  // namespace qb::model

namespace qb::model {
namespace {

// On a GPU: the pool decoding through CUDA-graph replays (and, in bf16, the fused kernels with
// per-row slots) against static batching on the same device and dtype.
TEST(CudaContinuous, GraphPoolEqualsStaticBatchingOnTheGpu) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  for (const std::string name : {"qwen3-tiny", "llama-tiny", "qwen2-tiny"})
    for (at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
      SCOPED_TRACE(name + (dtype == at::kFloat ? " fp32" : " bf16"));
      LoadOptions lo;
      lo.device = at::Device(at::kCUDA, 0);
      lo.dtype = dtype;
      const Model m = load_or_die(name, lo);
      const auto prompts = many_prompts(name, m.config().vocab_size);
      GenerateOptions opts = no_eos(24);
      opts.stop_token_ids = {1};
      for (size_t i = 0; i < prompts.size(); ++i) opts.forced_stop_steps.push_back(static_cast<int64_t>((i * 7) % 26) - 1);
      opts.cuda_graph = true;
      auto stat = generate_greedy(m, prompts, opts);
      ASSERT_TRUE(stat.is_ok()) << stat.status().to_string();
      for (int64_t interval : {1, 4}) {
        opts.stop_check_interval = interval;
        ContinuousStats stats;
        auto cont = generate_continuous(m, prompts, opts, pool(5, true), {}, &stats);
        ASSERT_TRUE(cont.is_ok()) << cont.status().to_string();
        expect_same(*stat, *cont, "interval " + std::to_string(interval) + (m.fused_decode() ? " fused" : ""));
      }
    }
}

}  // namespace
}  // namespace qb::model
