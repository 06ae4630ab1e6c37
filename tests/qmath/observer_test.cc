// Observers: the update rule of each kind, the weight observer's single observation, MSE's
// shrink search, and the defaults llm-compressor 0.14 picks per role.
#include "steps/qmath/observer.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace qb::qmath {
namespace {

using testing::randn;

QuantArgs static_tensor(ObserverKind kind) {
  QuantArgs a;  // int8 symmetric per-tensor static
  a.observer = kind;
  return a;
}

TEST(Observer, DefaultsPerRole) {
  QuantArgs a;
  EXPECT_EQ(effective_observer(a, Role::kWeight), ObserverKind::kMemorylessMinMax);
  EXPECT_EQ(effective_observer(a, Role::kInputActivation), ObserverKind::kMinMax);
  a.observer = ObserverKind::kStaticMinMax;
  EXPECT_EQ(effective_observer(a, Role::kWeight), ObserverKind::kMemorylessMinMax);
  EXPECT_EQ(effective_observer(a, Role::kInputActivation), ObserverKind::kStaticMinMax);
  a.observer = ObserverKind::kMse;
  EXPECT_EQ(effective_observer(a, Role::kWeight), ObserverKind::kMemorylessMse);
  a.dynamic = true;
  EXPECT_EQ(effective_observer(a, Role::kInputActivation), std::nullopt);
}

TEST(Observer, StaticMinMaxKeepsGlobalExtremes) {
  auto obs = Observer::create(static_tensor(ObserverKind::kStaticMinMax), Role::kInputActivation);
  ASSERT_TRUE(obs.is_ok());
  obs->observe(at::tensor({-1.0f, 2.0f}).reshape({1, 1, 2}));
  obs->observe(at::tensor({-3.0f, 0.5f}).reshape({1, 1, 2}));
  obs->observe(at::tensor({-0.1f, 0.1f}).reshape({1, 1, 2}));
  EXPECT_FLOAT_EQ(obs->min_vals()[0].item<float>(), -3.0f);
  EXPECT_FLOAT_EQ(obs->max_vals()[0].item<float>(), 2.0f);
  auto qp = obs->qparams();
  ASSERT_TRUE(qp.is_ok());
  EXPECT_FLOAT_EQ(qp->scale[0].item<float>(), 3.0f / 127.5f);
}

TEST(Observer, MemorylessKeepsLastBatch) {
  auto obs = Observer::create(static_tensor(ObserverKind::kMemorylessMinMax),
                              Role::kInputActivation);
  obs->observe(at::tensor({-5.0f, 5.0f}).reshape({1, 2}));
  obs->observe(at::tensor({-1.0f, 0.5f}).reshape({1, 2}));
  EXPECT_FLOAT_EQ(obs->min_vals()[0].item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(obs->max_vals()[0].item<float>(), 0.5f);
}

TEST(Observer, MinMaxIsMovingAverageStartingFromFirstBatch) {
  auto obs = Observer::create(static_tensor(ObserverKind::kMinMax), Role::kInputActivation);
  obs->observe(at::tensor({-1.0f, 2.0f}).reshape({1, 2}));
  EXPECT_FLOAT_EQ(obs->max_vals()[0].item<float>(), 2.0f);  // first batch taken as is
  obs->observe(at::tensor({-3.0f, 4.0f}).reshape({1, 2}));
  // (1 - 0.01) * old + 0.01 * new
  EXPECT_FLOAT_EQ(obs->max_vals()[0].item<float>(), 2.0f * 0.99f + 4.0f * 0.01f);
  EXPECT_FLOAT_EQ(obs->min_vals()[0].item<float>(), -1.0f * 0.99f + -3.0f * 0.01f);
}

TEST(Observer, WeightObserverKeepsFirstObservation) {
  QuantArgs a;
  a.strategy = Strategy::kChannel;
  auto obs = Observer::create(a, Role::kWeight);
  obs->observe(at::ones({2, 3}));
  obs->observe(at::ones({2, 3}) * 10);
  EXPECT_FLOAT_EQ(obs->max_vals()[1][0].item<float>(), 1.0f);
  EXPECT_EQ(obs->num_batches(), 1);
}

TEST(Observer, EmptyBatchIsIgnoredAndNoStatisticsIsAnError) {
  auto obs = Observer::create(static_tensor(ObserverKind::kStaticMinMax), Role::kInputActivation);
  obs->observe(at::zeros({0, 4}));
  EXPECT_FALSE(obs->has_statistics());
  EXPECT_EQ(obs->qparams().status().message(),
            "observer has no statistics (no calibration batch reached it)");
}

TEST(Observer, RejectsDynamicAndNonTensorActivations) {
  QuantArgs d;
  d.strategy = Strategy::kToken;
  d.dynamic = true;
  EXPECT_EQ(Observer::create(d, Role::kInputActivation).status().message(),
            "observer: dynamic activations have no observer");
  QuantArgs c;
  c.strategy = Strategy::kChannel;
  EXPECT_EQ(Observer::create(c, Role::kInputActivation).status().message(),
            "observer: static input activations support only the tensor strategy, got channel");
}

TEST(Mse, ShrinksGaussianRowsAt4Bits) {
  // For Gaussian rows of 4096 values the max is ~3.5 sigma; with 16 levels, clipping lower
  // (~2.9 sigma) lowers Σ|err|^2.4, so the search picks p < 1 for (almost) every row.
  auto w = randn({8, 4096}, 3);
  QuantArgs a;
  a.strategy = Strategy::kChannel;
  a.num_bits = 4;
  auto [mn, mx] = mse_search(w, a, Role::kWeight);
  auto ratio = mx / at::amax(w, {1}, true);
  EXPECT_LT(ratio.mean().item<float>(), 0.97f);
  // Never below 1 - (maxshrink·grid - 1)/grid = 0.81 of the range.
  EXPECT_GE(ratio.min().item<float>(), 0.81f - 1e-6f);
}

TEST(Mse, EveryCandidateIsAGridPoint) {
  auto w = randn({4, 64}, 5);
  QuantArgs a;
  a.strategy = Strategy::kChannel;
  auto [mn, mx] = mse_search(w, a, Role::kWeight);
  auto ratio = (mx / at::amax(w, {1}, true)).flatten();
  for (int64_t i = 0; i < ratio.numel(); ++i) {
    const double r = ratio[i].item<double>();
    const double steps = (1.0 - r) * 100.0;
    EXPECT_NEAR(steps, std::round(steps), 1e-4) << r;
  }
}

}  // namespace
}  // namespace qb::qmath
