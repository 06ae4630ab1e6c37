// The same arithmetic on CUDA as on the CPU: skipped when no GPU is visible (CI); run on a GPU
// machine to check the device paths (at::_int_mm with its padding, GPTQ's Cholesky and blocked
// updates in cuBLAS/cuSOLVER, RTN, observers, packing).
#include <gtest/gtest.h>

#include "steps/qmath/gptq.h"
#include "steps/qmath/int8_gemm.h"
#include "steps/qmath/observer.h"
#include "steps/qmath/pack.h"
#include "steps/qmath/qparams.h"
#include "test_util.h"

namespace qb::qmath {
namespace {

using testing::exact_mismatch;
using testing::randn;

#define REQUIRE_CUDA() \
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device"

const at::Device kCuda("cuda:0");

TEST(Cuda, Int8MatmulMatchesTripleLoopIncludingPaddedShapes) {
  REQUIRE_CUDA();
  for (auto [M, K, N] : std::vector<std::tuple<int, int, int>>{
           {1, 1, 1}, {3, 7, 5}, {16, 8, 8}, {17, 16, 24}, {33, 130, 9}, {300, 4096, 1032}}) {
    auto g = testing::gen(M + K + N);
    auto a = at::randint(-128, 128, {M, K}, g, at::TensorOptions().dtype(at::kChar));
    auto b = at::randint(-128, 128, {N, K}, g, at::TensorOptions().dtype(at::kChar));
    auto gpu = int8_matmul(a.to(kCuda), b.to(kCuda)).cpu();
    EXPECT_EQ(exact_mismatch(gpu, reference_int8_matmul(a, b)), "") << M << "x" << K << "x" << N;
  }
}

TEST(Cuda, PerTokenQuantizationEqualsCpu) {
  REQUIRE_CUDA();
  auto x = randn({64, 512}, 3, at::kBFloat16);
  x[5].zero_();
  auto c = quantize_per_token_dynamic(x), g = quantize_per_token_dynamic(x.to(kCuda));
  EXPECT_EQ(exact_mismatch(g.q.cpu(), c.q), "");
  EXPECT_EQ(exact_mismatch(g.scale.cpu(), c.scale), "");
}

TEST(Cuda, RtnEqualsCpuBitForBit) {
  REQUIRE_CUDA();
  for (auto strategy : {Strategy::kTensor, Strategy::kChannel, Strategy::kGroup}) {
    for (auto dtype : {at::kFloat, at::kBFloat16}) {
      QuantArgs a;
      a.strategy = strategy;
      if (strategy == Strategy::kGroup) {
        a.group_size = 64;
        a.num_bits = 4;
      }
      auto w = randn({96, 256}, 5, dtype);
      auto c = rtn_quantize_weight(w, a), g = rtn_quantize_weight(w.to(kCuda), a);
      ASSERT_TRUE(c.is_ok() && g.is_ok());
      EXPECT_EQ(exact_mismatch(g->q.cpu(), c->q), "") << strategy_name(strategy);
      EXPECT_EQ(exact_mismatch(g->qparams.scale.cpu(), c->qparams.scale), "");
    }
  }
}

TEST(Cuda, ObserversEqualCpu) {
  REQUIRE_CUDA();
  for (auto kind : {ObserverKind::kStaticMinMax, ObserverKind::kMinMax, ObserverKind::kMse}) {
    QuantArgs a;
    a.observer = kind;
    auto oc = *Observer::create(a, Role::kInputActivation);
    auto og = *Observer::create(a, Role::kInputActivation);
    for (int b = 0; b < 4; ++b) {
      auto x = randn({1, 32, 128}, 10 + b);
      oc.observe(x);
      og.observe(x.to(kCuda));
    }
    EXPECT_EQ(exact_mismatch(og.qparams()->scale.cpu(), oc.qparams()->scale), "")
        << observer_name(kind);
  }
}

TEST(Cuda, PackingEqualsCpu) {
  REQUIRE_CUDA();
  auto g = testing::gen(1);
  auto q = at::randint(-8, 8, {16, 100}, g, at::TensorOptions().dtype(at::kChar));
  auto pc = *pack_int_to_int32(q, 4), pg = *pack_int_to_int32(q.to(kCuda), 4);
  EXPECT_EQ(exact_mismatch(pg.cpu(), pc), "");
  EXPECT_EQ(exact_mismatch(unpack_int32(pg, 4, 100)->cpu(), q), "");
}

// Different BLAS / cuSOLVER summation orders: like the CPU-vs-reference comparison, a few codes
// may flip by one step.
TEST(Cuda, GptqAgreesWithCpu) {
  REQUIRE_CUDA();
  for (bool group : {false, true}) {
    QuantArgs a;
    a.actorder = ActOrder::kWeight;
    if (group) {
      a.strategy = Strategy::kGroup;
      a.group_size = 64;
      a.num_bits = 4;
    } else {
      a.strategy = Strategy::kChannel;
    }
    auto w = randn({128, 256}, 21, at::kBFloat16) * 0.05;
    auto x = randn({1, 1024, 256}, 22) * at::exp(randn({1, 1, 256}, 23));
    HessianAccumulator hc(256), hg(256);
    ASSERT_TRUE(hc.add(x).is_ok());
    ASSERT_TRUE(hg.add(x.to(kCuda)).is_ok());
    auto Hc = *hc.finalize(), Hg = *hg.finalize();
    EXPECT_LT(testing::max_abs_diff(Hg.cpu(), Hc) / Hc.abs().max().item<double>(), 1e-5);
    auto c = gptq_quantize(w, Hc, a), g = gptq_quantize(w.to(kCuda), Hc.to(kCuda), a);
    ASSERT_TRUE(c.is_ok() && g.is_ok());
    auto d = (g->q.cpu().to(at::kInt) - c->q.to(at::kInt)).abs();
    EXPECT_LE(d.max().item<int>(), 1);
    EXPECT_LE(d.gt(0).sum().item<double>() / d.numel(), 0.005);
    EXPECT_NEAR(g->loss, c->loss, 1e-3 * c->loss);
    EXPECT_EQ(exact_mismatch(g->qparams.scale.cpu(), c->qparams.scale), "");
  }
}

// The CUDA-graph replay of GPTQ's column loop runs the eager loop's kernels: identical results
// (codes, dequantized weights, loss), for a weight whose last block is partial (eager) too.
TEST(Cuda, GptqGraphReplayEqualsTheEagerLoop) {
  REQUIRE_CUDA();
  for (bool symmetric : {true, false}) {
    QuantArgs a;
    a.strategy = Strategy::kChannel;
    a.symmetric = symmetric;
    auto w = (randn({96, 320}, 31, at::kBFloat16) * 0.05).to(kCuda);
    auto x = (randn({1, 512, 320}, 32) * at::exp(randn({1, 1, 320}, 33))).to(kCuda);
    HessianAccumulator h(320);
    ASSERT_TRUE(h.add(x).is_ok());
    GptqOptions eager, graph;
    eager.cuda_graph = false;
    for (int run = 0; run < 2; ++run) {  // the second run replays the cached graph
      auto e = gptq_quantize(w, *h.finalize(), a, eager), g = gptq_quantize(w, *h.finalize(), a, graph);
      ASSERT_TRUE(e.is_ok() && g.is_ok());
      EXPECT_EQ(exact_mismatch(g->q.cpu(), e->q.cpu()), "");
      EXPECT_EQ(exact_mismatch(g->dequantized.cpu(), e->dequantized.cpu()), "");
      EXPECT_EQ(g->loss, e->loss);
    }
  }
}

// bf16 inputs on CUDA use a bf16 GEMM with fp32 output: the products are exact, so the Hessian
// matches the CPU's fp32 one to accumulation order.
TEST(Cuda, Bf16HessianMatchesFp32) {
  REQUIRE_CUDA();
  auto x = (randn({2, 1024, 256}, 41) * at::exp(randn({1, 1, 256}, 42))).to(at::kBFloat16);
  HessianAccumulator hc(256), hg(256);
  ASSERT_TRUE(hc.add(x.to(at::kFloat)).is_ok());
  ASSERT_TRUE(hg.add(x.to(kCuda)).is_ok());
  auto Hc = *hc.finalize(), Hg = *hg.finalize();
  EXPECT_LT(testing::max_abs_diff(Hg.cpu(), Hc) / Hc.abs().max().item<double>(), 1e-5);
}

}  // namespace
}  // namespace qb::qmath
