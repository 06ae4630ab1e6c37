// score_continuations' options (lm-eval truncation, top-k, compare ids) against a plain full
// forward, and the shared-context multiple-choice path (score_continuations_shared, tested on the
// CPU in continuous_batching_test.cc) on CUDA against the CPU and one forward per choice. Tiny
// golden models.
#include <gtest/gtest.h>

#include "steps/model/generate.h"
#include "steps/model/shared_context_scoring.h"
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

// Three questions of different context lengths and choice counts/lengths (left padding of the
// contexts, one- and many-token continuations), one request per choice; choices of a question
// share its context.
std::vector<ScoreRequest> choices() {
  const std::vector<std::pair<std::vector<int64_t>, std::vector<std::vector<int64_t>>>> questions = {
      {{1, 17, 30, 44, 5}, {{5}, {6, 7, 8}, {9, 10}, {11}}},
      {{3, 9}, {{12, 13}, {14}}},
      {{200, 201, 202, 203, 204, 205, 206, 207, 208}, {{1, 2, 3, 4}, {4, 3, 2, 1}, {0}}}};
  std::vector<ScoreRequest> reqs;
  for (const auto& [ctx, conts] : questions)
    for (const auto& c : conts) reqs.push_back({ctx, c});
  return reqs;
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
  const auto reqs = choices();
  for (const std::string name : {"qwen3-tiny", "llama-tiny"}) {
    auto cpu = score_continuations_shared(load_tiny(name), reqs);
    const Model gpu_model = load_tiny(name, at::Device(at::kCUDA, 0));
    auto gpu = score_continuations_shared(gpu_model, reqs);
    ASSERT_TRUE(cpu.is_ok() && gpu.is_ok()) << gpu.status().to_string();
    auto single = score_continuations(gpu_model, reqs);
    ASSERT_TRUE(single.is_ok()) << single.status().to_string();
    for (size_t r = 0; r < reqs.size(); ++r) {
      EXPECT_NEAR((*gpu)[r].logprob, (*cpu)[r].logprob, 1e-4) << name << " request " << r;
      EXPECT_NEAR((*gpu)[r].logprob, (*single)[r].logprob, 1e-4) << name << " request " << r;
    }
  }
}

}  // namespace
}  // namespace qb::model
