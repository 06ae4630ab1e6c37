// Int8 kernels: vLLM's per-token convention, exact int8 GEMM against a triple loop (shapes
// that need _int_mm's padding on CUDA included), and the scaled epilogue.
#include "steps/qmath/int8_gemm.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace qb::qmath {
namespace {

using testing::exact_mismatch;

TEST(PerToken, VllmConventionAbsmaxOver127) {
  auto x = at::tensor({1.27f, -0.635f, 0.005f, 0.0f, 0.0f, 0.0f, -2.54f, 1.0f, 0.01f})
               .reshape({3, 3});
  auto r = quantize_per_token_dynamic(x);
  EXPECT_FLOAT_EQ(r.scale[0][0].item<float>(), 1.27f / 127.0f);
  EXPECT_EQ(r.q[0][0].item<int8_t>(), 127);
  EXPECT_EQ(r.q[0][1].item<int8_t>(), static_cast<int8_t>(std::nearbyint(-0.635f * (127.0f / 1.27f))));
  // A zero row: scale 0, codes 0 (no NaN).
  EXPECT_EQ(r.scale[1][0].item<float>(), 0.0f);
  EXPECT_EQ(r.q[1].abs().sum().item<int64_t>(), 0);
  EXPECT_EQ(r.q[2][0].item<int8_t>(), -127);
  EXPECT_EQ(r.q.scalar_type(), at::kChar);
}

TEST(PerToken, RoundsHalfToEven) {
  // absmax 127 -> multiplier 1: 2.5 -> 2, 3.5 -> 4, -0.5 -> 0.
  auto x = at::tensor({127.0f, 2.5f, 3.5f, -0.5f}).reshape({1, 4});
  auto r = quantize_per_token_dynamic(x);
  EXPECT_EQ(exact_mismatch(r.q, at::tensor({127, 2, 4, 0}, at::kChar).reshape({1, 4})), "");
}

TEST(Int8Matmul, MatchesTripleLoopForAwkwardShapes) {
  for (auto [M, K, N] : std::vector<std::tuple<int, int, int>>{
           {1, 1, 1}, {3, 7, 5}, {16, 8, 8}, {17, 16, 24}, {33, 130, 9}, {64, 256, 64}}) {
    auto g = testing::gen(M * 1000 + K * 10 + N);
    auto a = at::randint(-128, 128, {M, K}, g, at::TensorOptions().dtype(at::kChar));
    auto b = at::randint(-128, 128, {N, K}, g, at::TensorOptions().dtype(at::kChar));
    auto fast = int8_matmul(a, b);
    auto ref = reference_int8_matmul(a, b);
    EXPECT_EQ(exact_mismatch(fast, ref), "") << M << "x" << K << "x" << N;
  }
}

TEST(Int8Matmul, ExtremeValuesAreExact) {
  // Every product is 16384 (-128 * -128): a K = 4096 sum of them, far beyond fp32's exact range.
  auto a = at::full({2, 4096}, -128, at::kChar);
  auto b = at::full({3, 4096}, -128, at::kChar);
  auto out = int8_matmul(a, b);
  EXPECT_EQ(out.scalar_type(), at::kInt);
  EXPECT_EQ(out[1][2].item<int32_t>(), 4096 * 16384);
}

TEST(ScaledLinear, AppliesRowAndColumnScales) {
  auto a = at::tensor({1, 2, 3, 4}, at::kChar).reshape({2, 2});
  auto w = at::tensor({1, 0, 0, 1, 1, 1}, at::kChar).reshape({3, 2});
  auto y = scaled_int8_linear(a, at::tensor({0.5f, 2.0f}).reshape({2, 1}), w,
                              at::tensor({1.0f, 10.0f, 100.0f}).reshape({3, 1}),
                              at::tensor({0.0f, 0.0f, 1.0f}), at::kFloat);
  // row 1: a=[3,4] -> [3, 4, 7] * 2 * [1, 10, 100] + bias
  EXPECT_FLOAT_EQ(y[1][0].item<float>(), 6.0f);
  EXPECT_FLOAT_EQ(y[1][1].item<float>(), 80.0f);
  EXPECT_FLOAT_EQ(y[1][2].item<float>(), 1401.0f);
}

}  // namespace
}  // namespace qb::qmath
