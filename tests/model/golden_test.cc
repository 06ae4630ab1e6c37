// qb::model against transformers 5.17 (fp32, eager attention) on the tiny checkpoints of
// tests/golden/models/, and the runtime's own invariants on them: batched (left-padded) ==
// unbatched, KV-cache decoding == full recompute, SDPA == reference attention.
#include <gtest/gtest.h>

#include <iostream>

#include "steps/model/generate.h"
#include "steps/model/model.h"
#include "test_support.h"

namespace qb::model {
namespace {

using testing::json_ids;
using testing::json_tensor;
using testing::load_or_die;
using testing::max_abs_diff;
using testing::one_row;
using testing::reference;

constexpr double kGoldenTol = 1e-4;  // vs transformers (brief: logits max |Δ| <= 1e-4, fp32)

// Between two fp32 paths of this runtime (different GEMM shapes sum in different orders): a few
// dozen ulps of the largest logit (the tied fixtures' logits reach ~50).
double self_tol(const at::Tensor& reference) {
  return 4e-6 * std::max(1.0, reference.abs().max().item<double>());
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, LogitsAtEveryPositionMatchTransformers) {
  const Model m = load_or_die(GetParam());
  const auto ref = reference(GetParam());
  const auto prompts = json_ids(ref["prompts"]);
  auto [ids, valid] = one_row(prompts[0]);
  const at::Tensor logits = m.forward(ids, valid)[0];                 // [T, V]
  const at::Tensor expected = json_tensor(ref["logits_all"]);         // [T, V]
  ASSERT_EQ(logits.sizes(), expected.sizes());
  const double d = max_abs_diff(logits, expected);
  std::cout << GetParam() << ": logits max |diff| vs transformers " << d << "\n";
  EXPECT_LE(d, kGoldenTol);
}

TEST_P(Golden, LastLogitsOfEachPromptMatchTransformers) {
  const Model m = load_or_die(GetParam());
  const auto ref = reference(GetParam());
  const auto prompts = json_ids(ref["prompts"]);
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto logits = last_logits(m, {prompts[i]});
    ASSERT_TRUE(logits.is_ok()) << logits.status().to_string();
    EXPECT_LE(max_abs_diff((*logits)[0], json_tensor(ref["logits_last"][i])), kGoldenTol)
        << "prompt " << i;
  }
}

TEST_P(Golden, HiddenStatesMatchTransformersThroughTheTrace) {
  const Model m = load_or_die(GetParam());
  const auto ref = reference(GetParam());
  auto [ids, valid] = one_row(json_ids(ref["prompts"])[0]);
  // transformers' hidden_states: embeddings, the output of layers 0 .. L-2, the final norm.
  std::map<std::string, at::Tensor> seen;
  ForwardHooks hooks;
  hooks.trace = [&](const std::string& name, const at::Tensor& t) { seen[name] = t.clone(); };
  m.forward(ids, valid, nullptr, &hooks);
  std::vector<std::string> names = {"model.embed_tokens"};
  for (int64_t i = 0; i + 1 < m.num_layers(); ++i)
    names.push_back("model.layers." + std::to_string(i) + ".output");
  names.push_back("model.norm");
  ASSERT_EQ(names.size(), ref["hidden_states"].size());
  for (size_t k = 0; k < names.size(); ++k) {
    ASSERT_TRUE(seen.count(names[k])) << names[k];
    EXPECT_LE(max_abs_diff(seen[names[k]][0], json_tensor(ref["hidden_states"][k])), kGoldenTol)
        << names[k];
  }
}

TEST_P(Golden, GreedyContinuationsMatchTransformers) {
  const Model m = load_or_die(GetParam());
  const auto ref = reference(GetParam());
  const auto prompts = json_ids(ref["prompts"]);
  const auto expected = json_ids(ref["greedy"]);
  GenerateOptions opts;
  opts.max_new_tokens = static_cast<int64_t>(expected[0].size());
  opts.stop_at_eos = false;
  for (size_t i = 0; i < prompts.size(); ++i) {  // one prompt at a time
    auto gen = generate_greedy(m, {prompts[i]}, opts);
    ASSERT_TRUE(gen.is_ok()) << gen.status().to_string();
    EXPECT_EQ((*gen)[0].tokens, expected[i]) << "prompt " << i;
    EXPECT_EQ((*gen)[0].finish, FinishReason::kLength);
  }
  auto batched = generate_greedy(m, prompts, opts);  // all prompts, left-padded
  ASSERT_TRUE(batched.is_ok()) << batched.status().to_string();
  for (size_t i = 0; i < prompts.size(); ++i)
    EXPECT_EQ((*batched)[i].tokens, expected[i]) << "batched, prompt " << i;
}

TEST_P(Golden, BatchedLeftPaddedEqualsUnbatched) {
  const Model m = load_or_die(GetParam());
  const auto prompts = json_ids(reference(GetParam())["prompts"]);
  auto batch = left_pad(prompts, m.config().vocab_size, m.device());
  ASSERT_TRUE(batch.is_ok());
  const at::Tensor padded = m.forward(batch->ids, batch->valid);               // [B, T, V]
  const int64_t t = padded.size(1);
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto [ids, valid] = one_row(prompts[i]);
    const at::Tensor alone = m.forward(ids, valid)[0];                          // [n, V]
    const int64_t n = alone.size(0);
    EXPECT_LE(max_abs_diff(padded[i].narrow(0, t - n, n), alone), self_tol(alone))
        << "prompt " << i;
  }
}

TEST_P(Golden, KvCacheDecodingEqualsFullRecompute) {
  const Model m = load_or_die(GetParam());
  const auto prompts = json_ids(reference(GetParam())["prompts"]);
  // Every prompt of the batch is fed as: the first 3 columns at once, then one column per step.
  auto batch = left_pad(prompts, m.config().vocab_size, m.device());
  ASSERT_TRUE(batch.is_ok());
  const at::Tensor full = m.forward(batch->ids, batch->valid);                  // [B, T, V]
  const int64_t t = full.size(1);
  KvCache cache = m.new_cache(batch->ids.size(0), t);
  std::vector<at::Tensor> pieces = {
      m.forward(batch->ids.narrow(1, 0, 3), batch->valid.narrow(1, 0, 3), &cache)};
  for (int64_t j = 3; j < t; ++j)
    pieces.push_back(m.forward(batch->ids.narrow(1, j, 1), batch->valid.narrow(1, j, 1), &cache));
  EXPECT_EQ(cache.length(), t);
  const at::Tensor stepwise = at::cat(pieces, 1);                               // [B, T, V]
  // Compare at valid positions only (a padding query attends to itself alone in both, but the
  // cached path sees it through different slots).
  const at::Tensor mask = batch->valid.unsqueeze(-1);
  EXPECT_LE(max_abs_diff(stepwise * mask, full * mask), self_tol(full * mask));
}

TEST_P(Golden, SdpaAgreesWithReferenceAttention) {
  Model m = load_or_die(GetParam());
  const auto prompts = json_ids(reference(GetParam())["prompts"]);
  auto batch = left_pad(prompts, m.config().vocab_size, m.device());
  ASSERT_TRUE(batch.is_ok());
  const at::Tensor sdpa = m.forward(batch->ids, batch->valid);
  m.set_attention_impl(AttentionImpl::kReference);
  const at::Tensor ref = m.forward(batch->ids, batch->valid);
  const at::Tensor mask = batch->valid.unsqueeze(-1);
  EXPECT_LE(max_abs_diff(sdpa * mask, ref * mask), self_tol(ref * mask));
  // Decoding with the reference attention gives the same tokens.
  GenerateOptions opts;
  opts.max_new_tokens = 8;
  opts.stop_at_eos = false;
  auto a = generate_greedy(m, prompts, opts);
  m.set_attention_impl(AttentionImpl::kSdpa);
  auto b = generate_greedy(m, prompts, opts);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ((*a)[i].tokens, (*b)[i].tokens);
}

// The eager layer path (transformers' modules op for op; what calibration uses) on every fixture
// family (Qwen3 q/k norms, Qwen2 biases, Llama 3 rope): transformers' logits, the fast path's
// logits on a left-padded batch, and the same greedy tokens through the KV cache. Bit-identity
// with transformers is shown where it matters, on calibration (tests/quant, EagerGolden).
TEST_P(Golden, EagerLayerPathMatchesTransformersAndTheFastPath) {
  Model m = load_or_die(GetParam());
  const auto ref = reference(GetParam());
  const auto prompts = json_ids(ref["prompts"]);
  auto batch = left_pad(prompts, m.config().vocab_size, m.device());
  ASSERT_TRUE(batch.is_ok());
  const at::Tensor fast = m.forward(batch->ids, batch->valid);
  GenerateOptions opts;
  opts.max_new_tokens = 8;
  opts.stop_at_eos = false;
  auto fast_tokens = generate_greedy(m, prompts, opts);
  m.set_layer_path(LayerPath::kEager);
  EXPECT_FALSE(m.fused_decode());
  auto [ids, valid] = one_row(prompts[0]);
  EXPECT_LE(max_abs_diff(m.forward(ids, valid)[0], json_tensor(ref["logits_all"])), kGoldenTol);
  const at::Tensor eager = m.forward(batch->ids, batch->valid);
  const at::Tensor mask = batch->valid.unsqueeze(-1);
  EXPECT_LE(max_abs_diff(fast * mask, eager * mask), self_tol(eager * mask));
  auto eager_tokens = generate_greedy(m, prompts, opts);
  ASSERT_TRUE(fast_tokens.is_ok() && eager_tokens.is_ok());
  for (size_t i = 0; i < prompts.size(); ++i)
    EXPECT_EQ((*fast_tokens)[i].tokens, (*eager_tokens)[i].tokens);
  // Back to the fast path: the same logits as before.
  m.set_layer_path(LayerPath::kFast);
  EXPECT_TRUE(at::equal(m.forward(batch->ids, batch->valid), fast));
}

TEST_P(Golden, StaticCacheShapesGiveTheSameTokens) {
  const Model m = load_or_die(GetParam());
  const auto ref = reference(GetParam());
  GenerateOptions opts;
  opts.max_new_tokens = 16;
  opts.stop_at_eos = false;
  opts.static_shapes = true;
  opts.stop_check_interval = 4;
  auto gen = generate_greedy(m, json_ids(ref["prompts"]), opts);
  ASSERT_TRUE(gen.is_ok());
  const auto expected = json_ids(ref["greedy"]);
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ((*gen)[i].tokens, expected[i]);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, Golden, ::testing::ValuesIn(testing::kTinyModels),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace qb::model
