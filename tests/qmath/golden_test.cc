// Golden comparisons with llm-compressor 0.14.0.1 / compressed-tensors 0.19.0: fixtures made by
// tests/golden/scripts/quant_golden.py (tests/golden/quant/qmath.*). RTN codes and scales,
// observer scales, packing: bit for bit. GPTQ: the same algorithm in the same precision, but
// matmul/Cholesky kernels may sum in a different order — see GptqMatchesLlmCompressor.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "steps/model_io/safetensors.h"
#include "steps/qmath/gptq.h"
#include "steps/qmath/observer.h"
#include "steps/qmath/pack.h"
#include "steps/qmath/qparams.h"
#include "golden_cases.h"
#include "test_util.h"

namespace qb::qmath {
namespace {

using testing::exact_mismatch;

const std::string kDir = std::string(QB_SOURCE_DIR) + "/tests/golden/quant/";

class Golden : public testing::GoldenCases<Golden> {
 public:
  static std::string dir() { return kDir; }
};

TEST_F(Golden, RtnCodesAndScalesAreBitIdentical) {
  auto cases = names("rtn");
  ASSERT_EQ(cases.size(), 8u);
  for (const auto& n : cases) {
    const auto a = args((*cases_)[n]["args"]);
    auto w = t(n + ".weight");
    auto r = rtn_quantize_weight(w, a);
    ASSERT_TRUE(r.is_ok()) << n << ": " << r.status().to_string();
    EXPECT_EQ(exact_mismatch(r->qparams.scale, t(n + ".scale")), "") << n;
    EXPECT_EQ(exact_mismatch(r->qparams.zero_point, t(n + ".zero_point")), "") << n;
    EXPECT_EQ(exact_mismatch(r->q, t(n + ".q")), "") << n;
    if (reader_->find(n + ".q_eager")) {
      // The CPU compressor's arithmetic (bf16 division) is reproduced too.
      EXPECT_EQ(exact_mismatch(quantize_eager(w, r->qparams.scale, r->qparams.zero_point, a),
                               t(n + ".q_eager")),
                "")
          << n;
    }
  }
}

TEST_F(Golden, ActivationObserverScalesAreBitIdentical) {
  auto cases = names("act");
  ASSERT_EQ(cases.size(), 8u);
  for (const auto& n : cases) {
    const auto a = args((*cases_)[n]["args"]);
    auto xs = t((*cases_)[n]["batches"].get<std::string>());
    auto obs = Observer::create(a, Role::kInputActivation);
    ASSERT_TRUE(obs.is_ok()) << n;
    for (int64_t b = 0; b < xs.size(0); ++b) obs->observe(xs.narrow(0, b, 1));
    auto qp = obs->qparams();
    ASSERT_TRUE(qp.is_ok());
    EXPECT_EQ(exact_mismatch(qp->scale, t(n + ".scale")), "") << n;
  }
}

TEST_F(Golden, DynamicPerTokenFakeQuantIsBitIdentical) {
  const auto a = args((*cases_)["dyn_token"]["args"]);
  EXPECT_EQ(exact_mismatch(fake_quantize_dynamic(t("dyn_token.x"), a), t("dyn_token.y")), "");
}

TEST_F(Golden, PackingIsBitIdentical) {
  for (const auto& n : names("pack")) {
    const int bits = (*cases_)[n]["num_bits"];
    auto p = pack_int_to_int32(t(n + ".q"), bits);
    ASSERT_TRUE(p.is_ok()) << n;
    EXPECT_EQ(exact_mismatch(*p, t(n + ".packed")), "") << n;
  }
}

TEST_F(Golden, HessianMatchesAccumulateHessian) {
  const std::string n = "gptq_channel_w8_actorder";
  auto xs = t(n + ".batches");
  HessianAccumulator acc(xs.size(2));
  for (int64_t b = 0; b < xs.size(0); ++b) ASSERT_TRUE(acc.add(xs.narrow(0, b, 1)).is_ok());
  EXPECT_EQ(acc.num_samples(), (*cases_)[n]["num_samples"].get<int64_t>());
  auto ref = t(n + ".hessian");
  // Same fp32 products and sums; only the GEMM's internal summation order may differ.
  const double rel = testing::max_abs_diff(*acc.finalize(), ref) / ref.abs().max().item<double>();
  EXPECT_LT(rel, 1e-6);
}

// GPTQ from the same weight and Hessian. Both sides run identical fp32 element operations;
// differences can only come from the blocked products (Err·Hinv) and the Cholesky / inverse
// kernels summing in another order, and a code on a rounding boundary may then flip by one
// step and feed a slightly different error forward. Measured on these fixtures (libtorch 2.13,
// the same build as the oracle): identical codes; the bound below allows for other BLAS builds.
TEST_F(Golden, GptqMatchesLlmCompressor) {
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
    auto diff = (r->q.to(at::kInt) - ref_q.to(at::kInt)).abs();
    const double frac = diff.gt(0).sum().item<double>() / diff.numel();
    EXPECT_LE(frac, 0.01) << n << ": " << exact_mismatch(r->q, ref_q);
    EXPECT_LE(diff.max().item<int>(), 1) << n;
    EXPECT_NEAR(r->loss, c["loss"].get<double>(), 1e-3 * c["loss"].get<double>()) << n;
    EXPECT_EQ(r->rtn_fallback, c["rtn_fallback"].get<bool>()) << n;
    RecordProperty(n + "_code_mismatches", static_cast<int>(diff.gt(0).sum().item<int64_t>()));
    if (frac == 0) {
      EXPECT_EQ(exact_mismatch(r->dequantized, t(n + ".dequantized")), "") << n;
    }
  }
}

}  // namespace
}  // namespace qb::qmath
