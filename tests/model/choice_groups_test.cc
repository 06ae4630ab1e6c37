// The shared-context multiple-choice path (score_choice_groups: one prefill per context, the
// continuations batched over copies of its KV cache) against one forward per choice
// (score_continuations), and score_continuations' options (lm-eval truncation, top-k, compare
// ids) against a plain full forward. CPU, tiny golden models.
#include <gtest/gtest.h>

#include "steps/model/generate.h"
#include "test_support.h"

namespace qb::model {
namespace {

Model load_tiny(const std::string& name, at::Device device = at::kCPU) {
  LoadOptions lo;
  lo.dtype = at::kFloat;
  lo.device = device;
  auto m = Model::load(testing::model_dir(name), lo);
  EXPECT_TRUE(m.is_ok()) << m.status().to_string();
  return std::move(m.value());
}

// Groups of different context lengths and continuation counts/lengths (left and right padding).
std::vector<ChoiceGroup> groups() {
  return {{{1, 17, 30, 44, 5}, {{5}, {6, 7, 8}, {9, 10}, {11}}},
          {{3, 9}, {{12, 13}, {14}}},
          {{200, 201, 202, 203, 204, 205, 206, 207, 208}, {{1, 2, 3, 4}, {4, 3, 2, 1}, {0}}}};
}

// The same requests one (context, continuation) pair each.
std::vector<ScoreRequest> per_choice(const std::vector<ChoiceGroup>& gs) {
  std::vector<ScoreRequest> reqs;
  for (const auto& g : gs)
    for (const auto& c : g.continuations) reqs.push_back({g.context, c});
  return reqs;
}

TEST(ChoiceGroups, SharedPrefillEqualsOneForwardPerChoice) {
  for (const std::string name : {"qwen3-tiny", "llama-tiny"}) {
    const Model m = load_tiny(name);
    const auto gs = groups();
    auto grouped = score_choice_groups(m, gs);
    ASSERT_TRUE(grouped.is_ok()) << grouped.status().to_string();
    auto single = score_continuations(m, per_choice(gs));
    ASSERT_TRUE(single.is_ok()) << single.status().to_string();
    size_t r = 0;
    for (size_t g = 0; g < gs.size(); ++g) {
      ASSERT_EQ((*grouped)[g].size(), gs[g].continuations.size());
      for (size_t c = 0; c < gs[g].continuations.size(); ++c, ++r) {
        const auto& a = (*grouped)[g][c];
        const auto& b = (*single)[r];
        ASSERT_EQ(a.token_logprobs.size(), b.token_logprobs.size());
        for (size_t i = 0; i < a.token_logprobs.size(); ++i)
          EXPECT_NEAR(a.token_logprobs[i], b.token_logprobs[i], 1e-5) << name << " group " << g << " choice " << c;
        EXPECT_NEAR(a.logprob, b.logprob, 1e-5) << name << " group " << g << " choice " << c;
        EXPECT_EQ(a.greedy, b.greedy);
      }
    }
  }
}

TEST(ChoiceGroups, RejectsEmptyInputs) {
  const Model m = load_tiny("qwen3-tiny");
  EXPECT_FALSE(score_choice_groups(m, {}).is_ok());
  EXPECT_FALSE(score_choice_groups(m, {{{1, 2}, {}}}).is_ok());
  EXPECT_FALSE(score_choice_groups(m, {{{}, {{1}}}}).is_ok());
  EXPECT_FALSE(score_choice_groups(m, {{{1}, {{}}}}).is_ok());
  EXPECT_FALSE(score_choice_groups(m, {{{1}, {{100000}}}}).is_ok());
}

// A full forward over `seq`'s first len-1 tokens: log-softmax rows [T-1, V].
at::Tensor full_logprobs(const Model& m, const std::vector<int64_t>& seq) {
  std::vector<int64_t> in(seq.begin(), seq.end() - 1);
  at::Tensor ids = at::tensor(in, at::kLong).unsqueeze(0);
  at::Tensor valid = at::ones_like(ids, at::kBool);
  return at::log_softmax(m.forward(ids, valid)[0], -1);
}

TEST(ScoreOptions, MaxLengthTruncatesFromTheLeftAsLmEval) {
  const Model m = load_tiny("qwen3-tiny");
  const std::vector<int64_t> ctx = {1, 2, 3, 4, 5, 6, 7, 8}, cont = {9, 10, 11};
  ScoreOptions o;
  o.max_length = 6;  // the model sees (ctx + cont)[-7:][:-1] = [5, 6, 7, 8, 9, 10]
  auto s = score_continuations(m, {{ctx, cont}}, o);
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  const std::vector<int64_t> kept = {5, 6, 7, 8, 9, 10, 11};  // the last max_length + 1 tokens
  const at::Tensor lp = full_logprobs(m, kept);                // [6, V]
  for (size_t i = 0; i < cont.size(); ++i)
    EXPECT_NEAR((*s)[0].token_logprobs[i], lp[3 + i][cont[i]].item<double>(), 1e-5);
  o.max_length = 2;  // a continuation of 3 no longer fits
  EXPECT_FALSE(score_continuations(m, {{ctx, cont}}, o).is_ok());
}

TEST(ScoreOptions, TopKAndCompareIdsAreTheFullDistributions) {
  const Model m = load_tiny("qwen3-tiny");
  const std::vector<int64_t> ctx = {3, 1, 4, 1, 5}, cont = {9, 2, 6};
  ScoreOptions o;
  o.top_k = 4;
  o.position_chunk = 2;  // several chunks
  o.compare_ids = {at::arange(8, at::kLong).view({1, 8}).repeat({2, 1})};
  ASSERT_FALSE(score_continuations(m, {{ctx, cont}}, o).is_ok());  // [2, 8] for 3 tokens
  o.compare_ids = {at::arange(8, at::kLong).view({1, 8}).repeat({3, 1})};
  auto s = score_continuations(m, {{ctx, cont}}, o);
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  std::vector<int64_t> seq = ctx;
  seq.insert(seq.end(), cont.begin(), cont.end());
  const at::Tensor lp = full_logprobs(m, seq).narrow(0, static_cast<int64_t>(ctx.size()) - 1, 3);  // [3, V]
  auto [v, idx] = lp.topk(4, -1);
  EXPECT_TRUE(at::equal((*s)[0].top_ids, idx));
  EXPECT_TRUE(at::allclose((*s)[0].top_logprobs, v, 1e-5, 1e-5));
  EXPECT_TRUE(at::allclose((*s)[0].compare_logprobs, lp.narrow(1, 0, 8), 1e-5, 1e-5));
  EXPECT_TRUE(at::equal((*s)[0].argmax, lp.argmax(-1)));
}

// The shared-context path on the GPU (scripts/gpu/ppl.sh): the same log-likelihoods as on the
// CPU, and the per-choice path agrees with it there too.
TEST(ChoiceGroups, OnCudaEqualsTheCpu) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const auto gs = groups();
  for (const std::string name : {"qwen3-tiny", "llama-tiny"}) {
    auto cpu = score_choice_groups(load_tiny(name), gs);
    const Model gpu_model = load_tiny(name, at::Device(at::kCUDA, 0));
    auto gpu = score_choice_groups(gpu_model, gs);
    ASSERT_TRUE(cpu.is_ok() && gpu.is_ok()) << gpu.status().to_string();
    auto single = score_continuations(gpu_model, per_choice(gs));
    ASSERT_TRUE(single.is_ok()) << single.status().to_string();
    size_t r = 0;
    for (size_t g = 0; g < gs.size(); ++g)
      for (size_t c = 0; c < gs[g].continuations.size(); ++c, ++r) {
        EXPECT_NEAR((*gpu)[g][c].logprob, (*cpu)[g][c].logprob, 1e-4) << name << " group " << g << " choice " << c;
        EXPECT_NEAR((*gpu)[g][c].logprob, (*single)[r].logprob, 1e-4) << name << " group " << g << " choice " << c;
      }
  }
}

}  // namespace
}  // namespace qb::model
