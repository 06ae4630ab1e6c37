// The equivalence metrics: identical logits give zeros, known differences give the expected
// relative error, KL and top-1 agreement; the default prompts are fixed; bad prompts are named.
#include "steps/transforms/equivalence.h"

#include <gtest/gtest.h>

#include <cmath>

namespace qb::transforms {
namespace {

TEST(CompareLogits, IdenticalLogitsHaveNoDeviation) {
  std::vector<at::Tensor> a = {at::randn({4, 10}), at::randn({2, 10})};
  auto m = compare_logits(a, a);
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(m->max_rel_error, 0.0);
  EXPECT_EQ(m->max_abs_logit_diff, 0.0);
  EXPECT_NEAR(m->mean_kl, 0.0, 1e-15);
  EXPECT_EQ(m->top1_agreement, 1.0);
  EXPECT_EQ(m->num_prompts, 2);
  EXPECT_EQ(m->num_tokens, 6);
}

TEST(CompareLogits, KnownDifferences) {
  // Two positions, vocabulary 2: reference [[1, 0], [1, 0]], candidate [[1, 0], [1, ln 2]].
  const double l2 = std::log(2.0), e = std::exp(1.0);
  auto ref = at::tensor({1.0, 0.0, 1.0, 0.0}, at::kDouble).view({2, 2});
  auto got = at::tensor({1.0, 0.0, 1.0, l2}, at::kDouble).view({2, 2});
  auto m = *compare_logits({ref}, {got});
  EXPECT_NEAR(m.max_abs_logit_diff, l2, 1e-15);
  EXPECT_NEAR(m.max_rel_error, l2 / std::sqrt(2.0), 1e-15);
  // Position 1: p = (e, 1)/(e + 1), q = (e, 2)/(e + 2); position 0 contributes 0.
  const double p0 = e / (e + 1), p1 = 1 / (e + 1), q0 = e / (e + 2), q1 = 2 / (e + 2);
  EXPECT_NEAR(m.mean_kl, (p0 * std::log(p0 / q0) + p1 * std::log(p1 / q1)) / 2, 1e-15);
  EXPECT_EQ(m.top1_agreement, 1.0);
  auto flip = *compare_logits({at::tensor({1.0f, 0.0f}).unsqueeze(0)}, {at::tensor({0.0f, 1.0f}).unsqueeze(0)});
  EXPECT_EQ(flip.top1_agreement, 0.0);
}

TEST(CompareLogits, RejectsMismatchedInputs) {
  EXPECT_EQ(compare_logits({at::zeros({1, 2})}, {}).status().message(),
            "compare_logits: 1 reference prompts, 0 candidate prompts");
  EXPECT_EQ(compare_logits({at::zeros({1, 2})}, {at::zeros({1, 3})}).status().message(),
            "compare_logits: prompt 0 logits have different shapes");
}

TEST(DefaultPrompts, AreFixedAndInsideTheVocabulary) {
  auto a = default_prompt_ids(256), b = default_prompt_ids(256);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[3].size(), 48u);
  for (const auto& p : a)
    for (auto id : p) EXPECT_TRUE(id >= 0 && id < 256);
  EXPECT_NE(default_prompt_ids(151936)[0], a[0]);
}

TEST(EquivalenceMetrics, SummaryAndJson) {
  EquivalenceMetrics m;
  m.max_rel_error = 2.5e-6;
  m.max_abs_logit_diff = 1e-4;
  m.mean_kl = 3e-12;
  m.top1_agreement = 1;
  m.num_prompts = 4;
  m.num_tokens = 120;
  EXPECT_EQ(m.summary(),
            "max relative logit error 2.5e-06, max |Δlogit| 0.0001, mean KL 3e-12, top-1 agreement 1 over 4 "
            "prompts, 120 tokens");
  EXPECT_EQ(m.to_json()["num_tokens"], 120);
}

}  // namespace
}  // namespace qb::transforms
