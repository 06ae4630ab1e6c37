// Scale / zero-point conventions and RTN: fast tensor code against the loop reference, bit for
// bit, for every strategy, symmetric and asymmetric, 8 and 4 bits, fp32 / bf16 / fp16 weights.
#include "steps/qmath/qparams.h"

#include <gtest/gtest.h>

#include <cmath>

#include "steps/qmath/reference.h"
#include "test_util.h"

namespace qb::qmath {
namespace {

using testing::exact_mismatch;
using testing::randn;

QuantArgs channel8() {
  QuantArgs a;
  a.strategy = Strategy::kChannel;
  return a;
}

TEST(QParams, SymmetricInt8ScaleIsAbsmaxOver127_5) {
  auto mn = at::tensor({-2.55f, -1.0f, 0.5f});
  auto mx = at::tensor({1.0f, 2.55f, 0.75f});
  auto qp = calculate_qparams(mn, mx, channel8());
  // max(|min|, |max|) / 127.5; the third row's min is clamped to 0 first.
  EXPECT_FLOAT_EQ(qp.scale[0].item<float>(), 2.55f / 127.5f);
  EXPECT_FLOAT_EQ(qp.scale[1].item<float>(), 2.55f / 127.5f);
  EXPECT_FLOAT_EQ(qp.scale[2].item<float>(), 0.75f / 127.5f);
  EXPECT_EQ(qp.zero_point.scalar_type(), at::kChar);
  EXPECT_EQ(qp.zero_point.abs().sum().item<int64_t>(), 0);
}

TEST(QParams, ZeroRangeGetsDtypeEpsilon) {
  auto z = at::zeros({2, 1});
  EXPECT_FLOAT_EQ(calculate_qparams(z, z, channel8()).scale[0][0].item<float>(),
                  std::numeric_limits<float>::epsilon());
  auto zb = at::zeros({1}, at::kBFloat16);
  EXPECT_EQ(calculate_qparams(zb, zb, channel8()).scale[0].item<float>(), 0.0078125f);
}

TEST(QParams, AsymmetricScaleAndZeroPoint) {
  QuantArgs a = channel8();
  a.symmetric = false;
  auto qp = calculate_qparams(at::tensor({-1.0f}), at::tensor({3.0f}), a);
  const float scale = 4.0f / 255.0f;
  EXPECT_FLOAT_EQ(qp.scale[0].item<float>(), scale);
  // zp = round(-128 - (-1 / scale)) = round(-64.25) = -64
  EXPECT_EQ(qp.zero_point[0].item<int>(), -64);
}

TEST(QParams, ScaleIsInTheObservedDtype) {
  auto w = randn({4, 16}, 1, at::kBFloat16);
  auto r = rtn_quantize_weight(w, channel8());
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->qparams.scale.scalar_type(), at::kBFloat16);
  EXPECT_EQ(r->qparams.scale.sizes(), (std::vector<int64_t>{4, 1}));
}

TEST(Quantize, RoundsHalfToEvenAndClamps) {
  QuantArgs a;  // tensor
  auto x = at::tensor({0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 300.0f, -300.0f, 126.5f});
  auto q = quantize(x, at::tensor({1.0f}), at::Tensor(), a);
  auto expect = at::tensor({0, 2, 2, 0, -2, 127, -128, 126}, at::kChar);
  EXPECT_EQ(exact_mismatch(q, expect), "");
}

TEST(Quantize, DequantizeIsCodeTimesScaleInScaleDtype) {
  QuantArgs a = channel8();
  auto q = at::tensor({3, -7}, at::kChar).reshape({2, 1});
  auto s = at::tensor({0.5f, 0.25f}).reshape({2, 1}).to(at::kBFloat16);
  auto d = dequantize(q, s, at::Tensor(), a);
  EXPECT_EQ(d.scalar_type(), at::kBFloat16);
  EXPECT_FLOAT_EQ(d[0][0].item<float>(), 1.5f);
  EXPECT_FLOAT_EQ(d[1][0].item<float>(), -1.75f);
}

TEST(Quantize, FakeQuantizeEqualsDequantizeOfQuantize) {
  for (auto strategy : {Strategy::kTensor, Strategy::kChannel, Strategy::kGroup}) {
    QuantArgs a;
    a.strategy = strategy;
    if (strategy == Strategy::kGroup) a.group_size = 8;
    auto w = randn({6, 32}, 7);
    auto r = rtn_quantize_weight(w, a);
    ASSERT_TRUE(r.is_ok());
    auto fq = fake_quantize(w, r->qparams.scale, r->qparams.zero_point, a);
    auto dq = dequantize(r->q, r->qparams.scale, r->qparams.zero_point, a);
    EXPECT_EQ(exact_mismatch(fq, dq), "") << strategy_name(strategy);
  }
}

TEST(Quantize, EagerVariantEqualsFp32DivisionForFp32Weights) {
  QuantArgs a = channel8();
  auto w = randn({32, 64}, 9);
  auto r = rtn_quantize_weight(w, a);
  EXPECT_EQ(exact_mismatch(quantize_eager(w, r->qparams.scale, r->qparams.zero_point, a), r->q),
            "");
}

TEST(Quantize, Bf16CodesRoundTripThroughDequantize) {
  // 101 * s in bf16, divided by s in bf16, lands on 100.5 and rounds to 100 in the eager path;
  // quantize() divides in fp32 and gets 101 back.
  QuantArgs a = channel8();
  auto q = at::arange(-128, 128, at::kChar).reshape({1, 256}).repeat({64, 1});
  auto s = (at::rand({64, 1}) * 0.01 + 1e-4).to(at::kBFloat16);
  auto w = dequantize(q, s, at::Tensor(), a);  // bf16
  EXPECT_EQ(exact_mismatch(quantize(w, s, at::Tensor(), a), q), "");
}

struct RtnCase {
  Strategy strategy;
  bool symmetric;
  int bits;
  at::ScalarType dtype;
};

class RtnVsReference : public ::testing::TestWithParam<RtnCase> {};

TEST_P(RtnVsReference, CodesAndScalesAreBitIdentical) {
  const auto c = GetParam();
  QuantArgs a;
  a.strategy = c.strategy;
  a.symmetric = c.symmetric;
  a.num_bits = c.bits;
  if (c.strategy == Strategy::kGroup) a.group_size = 16;
  // Heavy-tailed rows so that some rows have outliers and the rounding sees many fractions.
  auto w = (randn({24, 64}, 11) * at::exp(randn({24, 1}, 12))).to(c.dtype);
  auto fast = rtn_quantize_weight(w, a);
  auto ref = reference_rtn(w, a);
  ASSERT_TRUE(fast.is_ok()) << fast.status().to_string();
  ASSERT_TRUE(ref.is_ok()) << ref.status().to_string();
  EXPECT_EQ(exact_mismatch(fast->q, ref->q), "");
  EXPECT_EQ(exact_mismatch(fast->qparams.scale, ref->qparams.scale), "");
  if (!c.symmetric) EXPECT_EQ(exact_mismatch(fast->qparams.zero_point, ref->qparams.zero_point), "");
}

std::vector<RtnCase> rtn_cases() {
  std::vector<RtnCase> v;
  for (auto s : {Strategy::kTensor, Strategy::kChannel, Strategy::kGroup})
    for (bool sym : {true, false})
      for (int bits : {8, 4})
        for (auto dt : {at::kFloat, at::kBFloat16, at::kHalf}) v.push_back({s, sym, bits, dt});
  return v;
}

INSTANTIATE_TEST_SUITE_P(AllStrategies, RtnVsReference, ::testing::ValuesIn(rtn_cases()),
                         [](const ::testing::TestParamInfo<RtnCase>& i) {
                           return std::string(strategy_name(i.param.strategy)) +
                                  (i.param.symmetric ? "_sym_" : "_asym_") + "w" +
                                  std::to_string(i.param.bits) + "_" +
                                  std::string(c10::toString(i.param.dtype));
                         });

TEST(Rtn, RejectsBadInputs) {
  QuantArgs g;
  g.strategy = Strategy::kGroup;
  g.group_size = 5;
  EXPECT_EQ(rtn_quantize_weight(at::zeros({2, 8}), g).status().message(),
            "rtn: weight columns 8 are not divisible by group_size 5");
  QuantArgs t;
  t.strategy = Strategy::kToken;
  t.dynamic = true;
  EXPECT_EQ(rtn_quantize_weight(at::zeros({2, 8}), t).status().message(),
            "rtn: token strategy cannot be applied to weights");
  EXPECT_EQ(rtn_quantize_weight(at::zeros({8}), channel8()).status().message(),
            "rtn: weight must be a 2-D floating tensor");
  QuantArgs b = channel8();
  b.num_bits = 9;
  EXPECT_EQ(rtn_quantize_weight(at::zeros({2, 8}), b).status().message(),
            "quantization args: num_bits 9 is out of range [1, 8]");
  QuantArgs f = channel8();
  f.type = QuantType::kFloat;
  EXPECT_EQ(rtn_quantize_weight(at::zeros({2, 8}), f).status().message(),
            "quantization args: expected type int, got float (fp8 has its own functions: "
            "qmath/fp8.h)");
}

TEST(DynamicFakeQuant, PerTokenUsesAbsmaxOver127_5) {
  QuantArgs a;
  a.strategy = Strategy::kToken;
  a.dynamic = true;
  auto x = at::tensor({1.0f, -2.55f, 0.3f, 0.0f, 0.5f, 0.25f}).reshape({2, 3});
  auto y = fake_quantize_dynamic(x, a);
  const float s0 = 2.55f / 127.5f, s1 = 0.5f / 127.5f;
  // -2.55 / s0 = -127.5 exactly: half to even gives -128, the clamp keeps it.
  EXPECT_FLOAT_EQ(y[0][1].item<float>(), std::nearbyint(-2.55f / s0) * s0);
  EXPECT_FLOAT_EQ(y[1][1].item<float>(), std::nearbyint(0.5f / s1) * s1);
  EXPECT_FLOAT_EQ(y[1][2].item<float>(), std::nearbyint(0.25f / s1) * s1);
}

}  // namespace
}  // namespace qb::qmath
