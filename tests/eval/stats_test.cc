// Statistics against values computed by hand (the arithmetic is in the comments).
#include "steps/eval/stats.h"

#include <cmath>

#include <gtest/gtest.h>

namespace qb::eval {
namespace {

TEST(Stats, AccuracyAndStandardError) {
  // 435 / 512 = 0.849609375; sqrt(0.849609375 * 0.150390625 / 512) = sqrt(0.000249558...) = 0.0157974...
  Accuracy a = accuracy(435, 512);
  EXPECT_DOUBLE_EQ(a.acc, 0.849609375);
  EXPECT_NEAR(a.stderr_, std::sqrt(0.849609375 * 0.150390625 / 512), 1e-15);
  EXPECT_NEAR(a.stderr_, 0.0157974, 1e-6);
  // 3 / 4: sqrt(0.75 * 0.25 / 4) = sqrt(0.046875) = 0.21650635...
  EXPECT_NEAR(accuracy(3, 4).stderr_, 0.2165063509, 1e-9);
  EXPECT_EQ(accuracy(0, 0).acc, 0);
  EXPECT_EQ(accuracy(5, 5).stderr_, 0);  // acc 1: no spread
}

TEST(Stats, SeedAccuracyByHand) {
  // Questions 10, 11 under seeds 5 and 9 (items interleaved): seed 5 gets 2/2, seed 9 gets 0/2.
  // mean 0.5, std sqrt((0.5² + 0.5²) / 1) = 0.7071..., each question's fraction 1/2 = the mean,
  // so the stderr over questions is 0 (the binomial stderr of 2/4 pooled would be 0.25).
  auto s = seed_accuracy({5, 9, 9, 5}, {10, 10, 11, 11}, {true, false, false, true});
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  EXPECT_EQ(s->seeds, (std::vector<int64_t>{5, 9}));
  EXPECT_EQ(s->questions, 2);
  EXPECT_DOUBLE_EQ(s->per_seed[0].acc, 1.0);
  EXPECT_DOUBLE_EQ(s->per_seed[1].acc, 0.0);
  EXPECT_DOUBLE_EQ(s->mean, 0.5);
  EXPECT_NEAR(s->std, std::sqrt(0.5), 1e-15);
  EXPECT_DOUBLE_EQ(s->min, 0.0);
  EXPECT_DOUBLE_EQ(s->max, 1.0);
  EXPECT_DOUBLE_EQ(s->stderr_, 0.0);
  // One seed: the binomial stderr of accuracy(), no std.
  auto one = seed_accuracy({3, 3, 3, 3}, {0, 1, 2, 3}, {true, true, true, false});
  ASSERT_TRUE(one.is_ok());
  EXPECT_NEAR(one->stderr_, accuracy(3, 4).stderr_, 1e-15);
  EXPECT_TRUE(std::isnan(one->std));
  // A question asked twice with one seed.
  auto twice = seed_accuracy({1, 1}, {4, 4}, {true, true});
  ASSERT_FALSE(twice.is_ok());
  EXPECT_EQ(twice.status().message(), "question 4 has two items with shuffle seed 1");
}

TEST(Stats, KlOfIdenticalLogitsIsZero) {
  std::vector<float> x = {1, 2, 3, 0.5f, -1, 4};
  auto s = kl_divergence(x, x, 3);
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(s->positions, 2);
  EXPECT_NEAR(s->mean_kl, 0, 1e-15);
  EXPECT_EQ(s->top1_agreement, 1.0);
}

TEST(Stats, KlByHand) {
  // Row 1: base logits (0, ln 3) -> p = (1/4, 3/4); test logits (0, 0) -> q = (1/2, 1/2).
  //   KL = 1/4 ln(1/2) + 3/4 ln(3/2) = -0.1732868 + 0.3040988 = 0.1308120
  //   argmax: base 1, test 0 (tie -> first index) -> disagree.
  // Row 2: base (0, 0, 0), test (ln 2, 0, 0) + 100 (a shift changes nothing) -> q = (1/2, 1/4, 1/4).
  //   KL = 1/3 ln((1/3)/(1/2)) + 2 · 1/3 ln((1/3)/(1/4)) = 1/3 (-0.4054651) + 2/3 (0.2876821) = 0.0566330
  //   argmax: base 0 (tie), test 0 -> agree.
  // Rows are padded to vocab 3 with a very negative logit in row 1 (probability ~0 on both sides).
  const float ln3 = std::log(3.0f), ln2 = std::log(2.0f);
  std::vector<float> base = {0, ln3, -1e4f, 0, 0, 0};
  std::vector<float> test = {0, 0, -1e4f, ln2 + 100, 100, 100};
  auto s = kl_divergence(base, test, 3);
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  const double kl1 = 0.25 * std::log(0.5) + 0.75 * std::log(1.5);
  const double kl2 = (std::log(2.0 / 3.0) + 2 * std::log(4.0 / 3.0)) / 3.0;
  EXPECT_NEAR(kl1, 0.1308120, 1e-7);
  EXPECT_NEAR(kl2, 0.0566330, 1e-7);
  EXPECT_NEAR(s->mean_kl, (kl1 + kl2) / 2, 1e-6);  // float logits: ln3 is rounded to float
  EXPECT_NEAR(s->max_kl, kl1, 1e-6);
  EXPECT_EQ(s->top1_agreement, 0.5);
  EXPECT_NEAR(s->stderr_top1, std::sqrt(0.25 / 2), 1e-15);
  // stderr of the mean of two values = |kl1 - kl2| / 2
  EXPECT_NEAR(s->stderr_kl, std::fabs(kl1 - kl2) / 2, 1e-6);
}

TEST(Stats, KlIsStableForHugeLogits) {
  std::vector<float> base = {1e30f, 0, -1e30f};
  std::vector<float> test = {1e30f, 0, -1e30f};
  auto s = kl_divergence(base, test, 3);
  ASSERT_TRUE(s.is_ok());
  EXPECT_TRUE(std::isfinite(s->mean_kl));
  EXPECT_NEAR(s->mean_kl, 0, 1e-12);
}

TEST(Stats, KlRejectsBadShapes) {
  using V = std::vector<float>;
  EXPECT_EQ(kl_divergence(V{1, 2, 3}, V{1, 2}, 3).status().message(), "kl_divergence: logits differ in size (3 vs 2)");
  EXPECT_EQ(kl_divergence(V{1, 2, 3}, V{1, 2, 3}, 2).status().message(),
            "kl_divergence: 3 logits are not a whole number of rows of 2");
  EXPECT_EQ(kl_divergence(V{1, NAN}, V{1, 2}, 2).status().message(),
            "kl_divergence: non-finite logit at position 0, token 1");
}

TEST(Stats, McNemarByHand) {
  // b = 1, c = 5: n = 6, P[X <= 1] = (C(6,0) + C(6,1)) / 2^6 = 7/64; p = 14/64 = 0.21875
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(1, 5), 14.0 / 64.0);
  // b = 0, c = 6: P[X <= 0] = 1/64; p = 2/64 = 0.03125
  EXPECT_NEAR(mcnemar_exact_p(0, 6), 0.03125, 1e-15);
  // b = c = 3: P[X <= 3] = (1+6+15+20)/64 = 42/64 > 1/2 -> p = min(1, 84/64) = 1
  EXPECT_EQ(mcnemar_exact_p(3, 3), 1.0);
  EXPECT_EQ(mcnemar_exact_p(0, 0), 1.0);
  // b = 2, c = 10: n = 12, P[X <= 2] = (1 + 12 + 66) / 4096 = 79/4096; p = 158/4096 = 0.0385742...
  EXPECT_NEAR(mcnemar_exact_p(2, 10), 158.0 / 4096.0, 1e-14);
  // Large counts stay accurate: b = 40, c = 60: 2 · Σ_{i<=40} C(100, i) / 2^100 = 0.0568879336 (exact
  // integer arithmetic in Python: 2*sum(comb(100,i) for i in range(41))/2**100).
  EXPECT_NEAR(mcnemar_exact_p(40, 60), 0.05688793364098079, 1e-12);
  // Past n = 1000 the log-space path: b = 480, c = 560: 2 · Σ_{i<=480} C(1040, i) / 2^1040 = 0.0142590791
  // (exact rational arithmetic in Python, then rounded).
  EXPECT_NEAR(mcnemar_exact_p(480, 560), 0.014259079095386026, 1e-10);
}

TEST(Stats, McNemarCountsDiscordantPairs) {
  // A right on q0, q1, q3; B right on q1, q2, q3, q4: only A: q0 (b = 1); only B: q2, q4 (c = 2).
  auto m = mcnemar_exact({true, true, false, true, false}, {false, true, true, true, true});
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(m->n, 5);
  EXPECT_EQ(m->only_a, 1);
  EXPECT_EQ(m->only_b, 2);
  // n = 3, P[X <= 1] = (1 + 3)/8 = 1/2 -> p = 1
  EXPECT_EQ(m->p_value, 1.0);
  EXPECT_EQ(mcnemar_exact({true}, {true, false}).status().message(),
            "mcnemar: 1 vs 2 paired outcomes (must be the same questions)");
}

}  // namespace
}  // namespace qb::eval
