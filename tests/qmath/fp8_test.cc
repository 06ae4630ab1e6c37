// FP8 (e4m3) arithmetic against llm-compressor 0.14.0.1 / compressed-tensors 0.19.0 (fixtures:
// tests/golden/scripts/fp8_golden.py -> tests/golden/quant/fp8/qmath.*) and the runtime's
// vLLM-convention kernels against their definitions.
//
// Expected agreement: RTN codes and scales (tensor, channel, block; fp32, bf16, fp16 weights),
// static observer scales, KV-cache observer scales and compressed-tensors' dynamic fake
// quantization: bit for bit. GPTQ: the same operations, but the blocked products and the
// Cholesky kernels may sum in another order (see golden_test.cc): <= 1% of codes differ, in at
// most 2% of the rows (or one row), loss within 1e-3 relative. A code on a rounding boundary
// that flips changes the error GPTQ feeds forward, so the rest of that row may then differ by
// more than one e4m3 step: measured here, gptq_block128_actorder_fp32 has 97 of 32,768 codes
// differing, all in row 83 (the largest 0.34375 vs -2.25); the other five cases are identical.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "steps/model_io/safetensors.h"
#include "steps/qmath/fp8.h"
#include "steps/qmath/fp8_gemm.h"
#include "steps/qmath/gptq.h"
#include "steps/qmath/observer.h"
#include "golden_cases.h"
#include "test_util.h"

namespace qb::qmath {
namespace {

using testing::exact_mismatch;

const std::string kDir = std::string(QB_SOURCE_DIR) + "/tests/golden/quant/fp8/";

// An e4m3 code's position on the number line (adjacent values differ by 1; ±0 are both 0).
at::Tensor ordinal(const at::Tensor& q) {
  auto b = q.contiguous().view(at::kByte).to(at::kInt);
  auto mag = at::bitwise_and(b, 0x7f);
  return at::where(at::bitwise_and(b, 0x80).ne(0), -mag, mag);
}

class Fp8Golden : public testing::GoldenCases<Fp8Golden> {
 public:
  static std::string dir() { return kDir; }
};

TEST_F(Fp8Golden, RtnCodesAndScalesAreBitIdentical) {
  auto cases = names("rtn");
  ASSERT_EQ(cases.size(), 9u);
  for (const auto& n : cases) {
    const auto a = args((*cases_)[n]["args"]);
    auto w = t(n + ".weight");
    auto r = fp8_rtn_quantize_weight(w, a);
    ASSERT_TRUE(r.is_ok()) << n << ": " << r.status().to_string();
    EXPECT_EQ(exact_mismatch(r->qparams.scale, t(n + ".scale")), "") << n;
    EXPECT_EQ(r->q.scalar_type(), at::kFloat8_e4m3fn) << n;
    EXPECT_EQ(exact_mismatch(r->q, t(n + ".q")), "") << n;
    if (reader_->find(n + ".q_eager")) {
      // The CPU compressor's arithmetic (division in the weight dtype) is reproduced too.
      EXPECT_EQ(exact_mismatch(fp8_quantize_eager(w, r->qparams.scale, a), t(n + ".q_eager")), "")
          << n;
    }
  }
}

TEST_F(Fp8Golden, AZeroRowGetsTheEpsilonScale) {
  const std::string n = "rtn_channel_zero_row_fp32";
  auto r = fp8_rtn_quantize_weight(t(n + ".weight"), args((*cases_)[n]["args"]));
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->qparams.scale[3][0].item<float>(), std::numeric_limits<float>::epsilon());
  EXPECT_EQ(r->q[3].to(at::kFloat).abs().sum().item<float>(), 0.0f);
}

TEST_F(Fp8Golden, StaticObserverScalesAreBitIdentical) {
  auto cases = names("act");
  ASSERT_EQ(cases.size(), 4u);
  for (const auto& n : cases) {
    const auto a = args((*cases_)[n]["args"]);
    auto xs = t((*cases_)[n]["batches"].get<std::string>());
    auto obs = Observer::create(a, Role::kInputActivation);
    ASSERT_TRUE(obs.is_ok()) << n << ": " << obs.status().to_string();
    for (int64_t b = 0; b < xs.size(0); ++b) obs->observe(xs.narrow(0, b, 1));
    auto qp = obs->qparams();
    ASSERT_TRUE(qp.is_ok());
    EXPECT_EQ(exact_mismatch(qp->scale, t(n + ".scale")), "") << n;
  }
}

TEST_F(Fp8Golden, KvCacheObserverScalesAreBitIdentical) {
  auto cases = names("kv");
  ASSERT_EQ(cases.size(), 4u);  // tensor and attn_head, minmax and static_minmax
  for (const auto& n : cases) {
    const auto a = args((*cases_)[n]["args"]);
    auto ks = t((*cases_)[n]["batches"].get<std::string>());  // [5, KVH, T, D]
    auto obs = Observer::create(a, Role::kInputActivation);
    ASSERT_TRUE(obs.is_ok()) << n << ": " << obs.status().to_string();
    for (int64_t b = 0; b < ks.size(0); ++b) obs->observe(ks.narrow(0, b, 1));
    auto qp = obs->qparams();
    ASSERT_TRUE(qp.is_ok());
    EXPECT_EQ(exact_mismatch(qp->scale, t(n + ".scale")), "") << n;
  }
}

TEST_F(Fp8Golden, DynamicFakeQuantIsBitIdentical) {
  auto cases = names("dyn");
  ASSERT_EQ(cases.size(), 4u);  // token and group-128, fp32 and bf16
  for (const auto& n : cases) {
    const auto a = args((*cases_)[n]["args"]);
    auto x = t((*cases_)[n]["x"].get<std::string>());
    EXPECT_EQ(exact_mismatch(fp8_fake_quantize_dynamic(x, a), t(n + ".y")), "") << n;
  }
}

TEST_F(Fp8Golden, GptqMatchesLlmCompressor) {
  auto cases = names("gptq");
  ASSERT_EQ(cases.size(), 6u);
  for (const auto& n : cases) {
    const auto& c = (*cases_)[n];
    const auto a = args(c["args"]);
    GptqOptions o;
    o.block_size = c["block_size"];
    o.dampening_frac = c["dampening_frac"];
    auto r = gptq_quantize(t(n + ".weight"), t(n + ".hessian"), a, o);
    ASSERT_TRUE(r.is_ok()) << n << ": " << r.status().to_string();
    EXPECT_EQ(exact_mismatch(r->qparams.scale, t(n + ".scale")), "") << n;
    auto ref_q = t(n + ".q");
    ASSERT_EQ(r->q.scalar_type(), at::kFloat8_e4m3fn) << n;
    auto steps = (ordinal(r->q) - ordinal(ref_q)).abs();
    const double frac = steps.gt(0).sum().item<double>() / steps.numel();
    EXPECT_LE(frac, 0.01) << n << ": " << exact_mismatch(r->q, ref_q);
    // A flipped code feeds a different error into the rest of its row (GPTQ's update), so a
    // divergence stays inside one row: bound the rows, not the size of the steps.
    const int64_t rows_differing = steps.gt(0).any(1).sum().item<int64_t>();
    EXPECT_LE(rows_differing, std::max<int64_t>(1, steps.size(0) / 50)) << n;
    EXPECT_NEAR(r->loss, c["loss"].get<double>(), 1e-3 * c["loss"].get<double>()) << n;
    EXPECT_EQ(r->rtn_fallback, c["rtn_fallback"].get<bool>()) << n;
    RecordProperty(n + "_code_mismatches", static_cast<int>(steps.gt(0).sum().item<int64_t>()));
    if (frac == 0) {
      EXPECT_EQ(exact_mismatch(r->dequantized, t(n + ".dequantized")), "") << n;
    }
  }
}

// ---- the runtime's kernels (vLLM's conventions) ----

TEST(Fp8Rounding, ClampsToTheLargestFiniteValueAndRoundsTiesToEven) {
  auto x = at::tensor({1000.0f, -1000.0f, 448.0f, 17.0f, 18.0f, 0.0f});
  auto q = round_to_fp8(x).to(at::kFloat);
  // 17 lies halfway between 16 and 18 (spacing 2 above 16): ties go to the even mantissa, 16.
  EXPECT_EQ(exact_mismatch(q, at::tensor({448.0f, -448.0f, 448.0f, 16.0f, 18.0f, 0.0f})), "");
}

TEST(Fp8Gemm, MatmulIsTheExactSumRoundedOnce) {
  auto a = (testing::randn({7, 300}, 1) * 40).to(at::kFloat8_e4m3fn);
  auto b = (testing::randn({5, 300}, 2) * 40).to(at::kFloat8_e4m3fn);
  EXPECT_EQ(exact_mismatch(fp8_matmul(a, b), reference_fp8_matmul(a, b)), "");
}

TEST(Fp8Gemm, PerTokenScalesAreAbsmaxOver448WithVllmsLowerBound) {
  auto x = at::tensor({0.0f, 0.0f, 0.0f, 1.0f, -896.0f, 3.0f}).reshape({2, 3});
  auto q = fp8_quantize_per_token_dynamic(x);
  EXPECT_FLOAT_EQ(q.scale[0][0].item<float>(), static_cast<float>(kFp8MinScalingFactor));
  EXPECT_FLOAT_EQ(q.scale[1][0].item<float>(), 2.0f);
  EXPECT_EQ(exact_mismatch(q.q.to(at::kFloat), at::tensor({0.0f, 0.0f, 0.0f, 0.5f, -448.0f, 1.5f}).reshape({2, 3})), "");
}

TEST(Fp8Gemm, PerGroupScalesCoverEachGroupOfColumns) {
  auto x = testing::randn({3, 256}, 3);
  auto q = fp8_quantize_per_group_dynamic(x, 128);
  ASSERT_EQ(q.scale.sizes(), at::IntArrayRef({3, 2}));
  auto expect = at::amax(x.abs().view({3, 2, 128}), {-1}) / 448.0f;
  EXPECT_EQ(exact_mismatch(q.scale, expect), "");
  // Every code is within ±448 and its group's largest magnitude maps to ±448.
  auto codes = q.q.to(at::kFloat).view({3, 2, 128});
  EXPECT_EQ(exact_mismatch(at::amax(codes.abs(), {-1}), at::full({3, 2}, 448.0f)), "");
}

TEST(Fp8Gemm, ScaledMmIsTheDequantizedProduct) {
  auto a = fp8_quantize_per_token_dynamic(testing::randn({4, 64}, 4));
  auto w = fp8_rtn_quantize_weight(testing::randn({6, 64}, 5) * 0.1, [] {
    QuantArgs w;
    w.type = QuantType::kFloat;
    w.strategy = Strategy::kChannel;
    return w;
  }());
  ASSERT_TRUE(w.is_ok());
  auto y = fp8_scaled_mm(a.q, a.scale, w->q, w->qparams.scale, at::Tensor(), at::kDouble);
  auto ref = at::mm(a.q.to(at::kDouble) * a.scale.to(at::kDouble),
                    (w->q.to(at::kDouble) * w->qparams.scale.to(at::kDouble)).t());
  EXPECT_LT(testing::max_abs_diff(y, ref), 1e-5 * ref.abs().max().item<double>());
}

TEST(Fp8Gemm, BlockScaledMmSumsBlocksWithTheirScales) {
  QuantArgs wa;
  wa.type = QuantType::kFloat;
  wa.strategy = Strategy::kBlock;
  wa.block_structure = {32, 32};
  auto w = fp8_rtn_quantize_weight(testing::randn({64, 96}, 6) * 0.1, wa);
  ASSERT_TRUE(w.is_ok()) << w.status().to_string();
  ASSERT_EQ(w->qparams.scale.sizes(), at::IntArrayRef({2, 3}));
  auto a = fp8_quantize_per_group_dynamic(testing::randn({5, 96}, 7), 32);
  auto y = fp8_block_scaled_mm(a.q, a.scale, w->q, w->qparams.scale, 32, 32, at::Tensor(), at::kDouble);
  // Dequantized operands (each element times its group's / block's scale), multiplied in fp64.
  auto ad = a.q.to(at::kDouble) * a.scale.to(at::kDouble).repeat_interleave(32, 1);
  auto wd = fp8_dequantize(w->q, w->qparams.scale.to(at::kDouble), wa);
  auto ref = at::mm(ad, wd.t());
  EXPECT_LT(testing::max_abs_diff(y, ref), 1e-5 * ref.abs().max().item<double>());
}

TEST(Fp8Kv, FakeQuantizeRoundsKeysThroughE4m3PerHead) {
  auto k = testing::randn({1, 2, 3, 4}, 8);
  auto scale = at::tensor({0.01f, 0.002f}).reshape({2, 1, 1});
  auto y = fp8_kv_fake_quantize(k, scale);
  auto expect = (k / scale).clamp(-448, 448).to(at::kFloat8_e4m3fn).to(at::kFloat) * scale;
  EXPECT_EQ(exact_mismatch(y, expect), "");
  EXPECT_GT(testing::max_abs_diff(y, k), 0.0);  // it does round
}

TEST(Fp8Args, RtnRejectsABlockThatDoesNotDivideTheWeight) {
  QuantArgs wa;
  wa.type = QuantType::kFloat;
  wa.strategy = Strategy::kBlock;
  wa.block_structure = {128, 128};
  auto r = fp8_rtn_quantize_weight(testing::randn({64, 128}, 9), wa);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("does not divide the weight [64, 128]"), std::string::npos)
      << r.status().message();
}

// ---- on a GPU (skipped without one; scripts/gpu/fp8.sh runs them) ----

// torch._scaled_mm (the CUDA backend of fp8_scaled_mm) against the exact emulation on the same
// e4m3 operands, for each scale layout the runtime uses: per-tensor × per-tensor (TensorWise),
// per-token × per-channel and per-tensor × per-channel (RowWise), per-group-128 × 128x128
// blocks. The layouts are what is tested: a wrong one is off by the output's magnitude. What
// the hardware adds: Hopper's FP8 tensor cores accumulate with ~14 significant bits, not fp32's
// 24 (DeepSeek-V3 report, section 3.3.2; cuBLASLt promotes to fp32 only between K chunks), which
// on an H100 (2026-12-06, bench/RESULTS.md) measured 2.3e-4 of the output's magnitude for
// K = 512 in all four layouts alike. Bound: 1e-3 of the magnitude in fp32; in bf16 one bf16
// rounding (2^-8 relative) of the exact value on top of it.
TEST(Fp8Cuda, ScaledMmMatchesTheExactGemm) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const at::Device cuda("cuda:0");
  const int64_t M = 48, K = 512, N = 384;
  const auto x = testing::randn({M, K}, 11) * 3;
  const auto w = testing::randn({N, K}, 12) * 0.05;
  QuantArgs channel, tensor, block;
  channel.type = tensor.type = block.type = QuantType::kFloat;
  channel.strategy = Strategy::kChannel;
  block.strategy = Strategy::kBlock;
  block.block_structure = {128, 128};
  struct Case {
    const char* name;
    Fp8Quantized a;
    QuantizedWeight wq;
    bool block;
  };
  std::vector<Case> cases;
  cases.push_back({"per-token x per-channel", fp8_quantize_per_token_dynamic(x),
                   *fp8_rtn_quantize_weight(w, channel), false});
  cases.push_back({"per-tensor x per-tensor", fp8_quantize_static(x, at::tensor({0.02f})),
                   *fp8_rtn_quantize_weight(w, tensor), false});
  cases.push_back({"per-tensor x per-channel", fp8_quantize_static(x, at::tensor({0.02f})),
                   *fp8_rtn_quantize_weight(w, channel), false});
  cases.push_back({"per-group-128 x block 128x128", fp8_quantize_per_group_dynamic(x, 128),
                   *fp8_rtn_quantize_weight(w, block), true});
  for (const auto& c : cases) {
    ASSERT_EQ(fp8_gemm_backend(cuda, K, N, c.block ? 128 : 0, c.block ? 128 : 0),
              Fp8GemmBackend::kScaledMm);
    for (const auto dtype : {at::kFloat, at::kBFloat16}) {
      const auto& s = c.wq.qparams.scale;
      const at::Tensor exact =
          c.block ? fp8_block_scaled_mm_exact(c.a.q, c.a.scale, c.wq.q, s, 128, 128, {}, at::kFloat)
                  : fp8_scaled_mm_exact(c.a.q, c.a.scale, c.wq.q, s, {}, at::kFloat);
      const at::Tensor got =
          (c.block ? fp8_block_scaled_mm(c.a.q.to(cuda), c.a.scale.to(cuda), c.wq.q.to(cuda),
                                         s.to(cuda), 128, 128, {}, dtype)
                   : fp8_scaled_mm(c.a.q.to(cuda), c.a.scale.to(cuda), c.wq.q.to(cuda),
                                   s.to(cuda), {}, dtype))
              .cpu()
              .to(at::kFloat);
      const double mag = exact.abs().max().item<double>();
      const double err = (got - exact).abs().max().item<double>();
      std::cout << c.name << " " << c10::toString(dtype) << ": max |Δ| " << err << " of " << mag
                << "\n";
      const double accumulation = 1e-3 * mag;
      if (dtype == at::kFloat) {
        EXPECT_LE(err, accumulation) << c.name;
      } else {
        EXPECT_TRUE(((got - exact).abs() <= exact.abs() * (1.0 / 256) + accumulation).all().item<bool>())
            << c.name;
      }
    }
  }
}

// Activation quantization on the GPU (the one-launch kernels where the build has them, else the
// same ATen ops) gives the CPU's codes and scales bit for bit: per token, per group of 128 and
// static, from fp32, bf16 and fp16 inputs (a zero row takes the lower bound on the scale).
TEST(Fp8Cuda, ActivationQuantizationOnTheGpuIsBitIdenticalToTheCpu) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const at::Device cuda("cuda:0");
  auto x = testing::randn({37, 1024}, 21) * 5;
  x[3].zero_();
  for (const auto dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
    const at::Tensor xd = x.to(dtype);
    auto same = [&](const Fp8Quantized& cpu, const Fp8Quantized& gpu, const char* what) {
      EXPECT_TRUE(at::equal(cpu.q.view(at::kByte), gpu.q.cpu().view(at::kByte))) << what << " " << dtype;
      EXPECT_EQ(exact_mismatch(cpu.scale, gpu.scale.cpu()), "") << what << " " << dtype;
    };
    same(fp8_quantize_per_token_dynamic(xd), fp8_quantize_per_token_dynamic(xd.to(cuda)), "per token");
    same(fp8_quantize_per_group_dynamic(xd, 128), fp8_quantize_per_group_dynamic(xd.to(cuda), 128),
         "per group");
    const auto s = at::tensor({0.0173f});
    same(fp8_quantize_static(xd, s), fp8_quantize_static(xd.to(cuda), s.to(cuda)), "static");
  }
}

}  // namespace
}  // namespace qb::qmath
