// GPTQ: the Hessian accumulation rule, fast blocked code against the unblocked loop reference,
// dead columns, the Cholesky fallback to RTN, activation ordering, and that GPTQ lowers the
// Hessian-weighted error compared with RTN.
#include "steps/qmath/gptq.h"

#include <gtest/gtest.h>

#include "steps/qmath/reference.h"
#include "test_util.h"

namespace qb::qmath {
namespace {

using testing::exact_mismatch;
using testing::max_abs_diff;
using testing::randn;

// A realistic Hessian: inputs with a few strong directions and per-feature scales.
at::Tensor make_hessian(int64_t n, int64_t tokens, uint64_t seed) {
  auto x = randn({tokens, n}, seed) * at::exp(randn({1, n}, seed + 1) * 0.7);
  x = x + randn({tokens, 1}, seed + 2) * randn({1, n}, seed + 3);
  HessianAccumulator acc(n);
  EXPECT_TRUE(acc.add(x.unsqueeze(0)).is_ok());
  return *acc.finalize();
}

// tr((W - Q) H (W - Q)ᵀ): the output error GPTQ minimises, summed over rows.
double proxy_loss(const at::Tensor& w, const at::Tensor& q, const at::Tensor& h) {
  auto d = (w.to(at::kDouble) - q.to(at::kDouble));
  return at::sum(at::matmul(d, h.to(at::kDouble)) * d).item<double>();
}

TEST(Hessian, IsTwoXtXOverNumberOfSequences) {
  auto x = randn({3, 5, 4}, 21);  // 3 sequences of 5 tokens
  HessianAccumulator acc(4);
  ASSERT_TRUE(acc.add(x.narrow(0, 0, 2)).is_ok());
  ASSERT_TRUE(acc.add(x.narrow(0, 2, 1)).is_ok());
  EXPECT_EQ(acc.num_samples(), 3);
  auto flat = x.reshape({-1, 4}).to(at::kDouble);
  auto expect = 2.0 * at::matmul(flat.t(), flat) / 3.0;
  EXPECT_LT(max_abs_diff(*acc.finalize(), expect), 1e-5);
}

TEST(Hessian, TwoDimensionalInputCountsAsOneSample) {
  HessianAccumulator acc(4);
  ASSERT_TRUE(acc.add(randn({7, 4}, 1)).is_ok());
  EXPECT_EQ(acc.num_samples(), 1);
}

TEST(Hessian, Errors) {
  HessianAccumulator acc(4);
  EXPECT_EQ(acc.finalize().status().message(),
            "hessian: no calibration samples reached this Linear");
  EXPECT_EQ(acc.add(randn({2, 5}, 1)).message(),
            "hessian: input has 5 features, the Linear has 4");
  EXPECT_EQ(acc.add(randn({5}, 1)).message(), "hessian: input must be [T, in] or [B, T, in], got 1-D");
}

struct GptqCase {
  const char* name;
  Strategy strategy;
  bool symmetric;
  int bits;
  ActOrder actorder;
  int64_t block;
  at::ScalarType dtype;
};

class GptqVsReference : public ::testing::TestWithParam<GptqCase> {};

// The fast path (blocked, fp32 tensor ops) and the reference (unblocked loops, H⁻¹ factor in
// float64) differ only by floating-point rounding; a rounding difference can flip a code that
// sits on a .5 boundary, which then propagates. Accept: ≤ 0.5% of codes differ, by at most one
// step, and the losses agree to 1e-3 relative.
TEST_P(GptqVsReference, AgreesWithinRounding) {
  const auto c = GetParam();
  QuantArgs a;
  a.strategy = c.strategy;
  a.symmetric = c.symmetric;
  a.num_bits = c.bits;
  a.actorder = c.actorder;
  if (c.strategy == Strategy::kGroup) a.group_size = 32;
  const int64_t n = 96;
  auto w = (randn({40, n}, 31) * 0.05).to(c.dtype);
  auto h = make_hessian(n, 512, 41);
  GptqOptions o;
  o.block_size = c.block;
  auto fast = gptq_quantize(w, h, a, o);
  auto ref = reference_gptq(w, h, a, o);
  ASSERT_TRUE(fast.is_ok()) << fast.status().to_string();
  ASSERT_TRUE(ref.is_ok()) << ref.status().to_string();
  EXPECT_EQ(exact_mismatch(fast->qparams.scale, ref->qparams.scale), "");
  auto code_diff = (fast->q.to(at::kInt) - ref->q.to(at::kInt)).abs();
  const double frac = code_diff.gt(0).sum().item<double>() / code_diff.numel();
  EXPECT_LE(frac, 0.005) << c.name;
  EXPECT_LE(code_diff.max().item<int>(), 1) << c.name;
  EXPECT_NEAR(fast->loss, ref->loss, 1e-3 * ref->loss) << c.name;
  EXPECT_FALSE(fast->rtn_fallback);
  // The stored codes dequantize to the returned dense weight (quantize() divides in fp32, so
  // the codes of a bf16 fake-quantized weight round-trip).
  EXPECT_EQ(exact_mismatch(dequantize(fast->q, fast->qparams.scale, fast->qparams.zero_point, a)
                               .to(c.dtype),
                           fast->dequantized),
            "")
      << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GptqVsReference,
    ::testing::Values(
        GptqCase{"channel_w8", Strategy::kChannel, true, 8, ActOrder::kNone, 128, at::kFloat},
        GptqCase{"channel_w8_actorder", Strategy::kChannel, true, 8, ActOrder::kWeight, 32, at::kFloat},
        GptqCase{"channel_w8_bf16", Strategy::kChannel, true, 8, ActOrder::kWeight, 32, at::kBFloat16},
        GptqCase{"tensor_w8", Strategy::kTensor, true, 8, ActOrder::kNone, 16, at::kFloat},
        GptqCase{"group_w4", Strategy::kGroup, true, 4, ActOrder::kNone, 32, at::kFloat},
        GptqCase{"group_w4_actorder", Strategy::kGroup, true, 4, ActOrder::kWeight, 64, at::kBFloat16},
        GptqCase{"group_w4_asym", Strategy::kGroup, false, 4, ActOrder::kWeight, 32, at::kFloat},
        GptqCase{"channel_w4_asym_odd_block", Strategy::kChannel, false, 4, ActOrder::kNone, 40, at::kFloat}),
    [](const ::testing::TestParamInfo<GptqCase>& i) { return std::string(i.param.name); });

TEST(Gptq, LowersHessianWeightedErrorVersusRtn) {
  QuantArgs a;
  a.strategy = Strategy::kChannel;
  a.num_bits = 4;
  a.actorder = ActOrder::kWeight;
  auto w = randn({64, 128}, 51) * 0.05;
  auto h = make_hessian(128, 1024, 52);
  auto g = gptq_quantize(w, h, a);
  auto r = rtn_quantize_weight(w, a);
  ASSERT_TRUE(g.is_ok() && r.is_ok());
  auto rtn_dq = dequantize(r->q, r->qparams.scale, r->qparams.zero_point, a);
  const double lg = proxy_loss(w, g->dequantized, h), lr = proxy_loss(w, rtn_dq, h);
  EXPECT_LT(lg, 0.8 * lr) << "gptq " << lg << " rtn " << lr;
}

TEST(Gptq, DeadColumnsAreZeroed) {
  QuantArgs a;
  a.strategy = Strategy::kChannel;
  auto w = randn({8, 16}, 61);
  auto x = randn({64, 16}, 62);
  x.select(1, 3).zero_();
  x.select(1, 9).zero_();
  HessianAccumulator acc(16);
  ASSERT_TRUE(acc.add(x).is_ok());
  auto g = gptq_quantize(w, *acc.finalize(), a);
  ASSERT_TRUE(g.is_ok());
  EXPECT_EQ(g->q.select(1, 3).abs().sum().item<int64_t>(), 0);
  EXPECT_EQ(g->q.select(1, 9).abs().sum().item<int64_t>(), 0);
  auto ref = reference_gptq(w, *acc.finalize(), a);
  EXPECT_LE((g->q.to(at::kInt) - ref->q.to(at::kInt)).abs().max().item<int>(), 1);
}

TEST(Gptq, NonPositiveDefiniteHessianFallsBackToRtn) {
  QuantArgs a;
  a.strategy = Strategy::kChannel;
  auto w = randn({8, 16}, 71);
  auto h = -at::eye(16);  // diag < 0: not dead, not positive definite even after damping
  auto g = gptq_quantize(w, h, a);
  ASSERT_TRUE(g.is_ok());
  EXPECT_TRUE(g->rtn_fallback);
  auto r = rtn_quantize_weight(w, a);
  EXPECT_EQ(exact_mismatch(g->q, r->q), "");
  auto ref = reference_gptq(w, h, a);
  EXPECT_TRUE(ref->rtn_fallback);
  EXPECT_EQ(exact_mismatch(ref->q, r->q), "");
}

TEST(Gptq, Errors) {
  QuantArgs a;
  a.strategy = Strategy::kChannel;
  EXPECT_EQ(gptq_quantize(at::zeros({4, 8}), at::eye(6), a).status().message(),
            "gptq: hessian must be [8, 8] for a weight with 8 columns");
  GptqOptions o;
  o.block_size = 0;
  EXPECT_EQ(gptq_quantize(at::zeros({4, 8}), at::eye(8), a, o).status().message(),
            "gptq: block_size must be >= 1, got 0");
  QuantArgs g;
  g.strategy = Strategy::kGroup;
  g.group_size = 3;
  EXPECT_EQ(gptq_quantize(at::zeros({4, 8}), at::eye(8), g).status().message(),
            "gptq: weight columns 8 are not divisible by group_size 3");
}

}  // namespace
}  // namespace qb::qmath
