// The fast Hadamard transform (both backends) against the dense float64 reference, its inverse,
// dtypes, block-diagonal specs, orthogonality at every model-family size, and the error contract.
#include "steps/hadamard/hadamard_transform.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "steps/hadamard/hadamard_matrix.h"
#include "steps/hadamard/random.h"

namespace qb::hadamard {
namespace {

double max_abs(const at::Tensor& a) { return a.abs().max().item<double>(); }

// max |fast − ref| / max |ref|, with the first mismatching index printed on failure.
void expect_close(const at::Tensor& fast, const at::Tensor& ref, double tol, const std::string& what) {
  ASSERT_EQ(fast.sizes(), ref.sizes()) << what;
  const auto diff = (fast.to(at::kDouble) - ref).abs();
  const double err = diff.max().item<double>() / std::max(max_abs(ref), 1e-300);
  if (!(err <= tol)) {
    const int64_t i = diff.reshape(-1).argmax().item<int64_t>();
    ADD_FAILURE() << what << ": relative max error " << err << " > " << tol << " at flat index " << i
                  << " (fast " << fast.reshape(-1)[i].item<double>() << ", ref "
                  << ref.reshape(-1)[i].item<double>() << ")";
  }
}

struct Case {
  int64_t n, block;
  bool signs;
};

class FastVsReference : public ::testing::TestWithParam<std::tuple<Case, Backend>> {};

TEST_P(FastVsReference, Float64MatchesTheDenseReference) {
  const auto [c, backend] = GetParam();
  const int64_t b = c.block ? c.block : c.n;
  auto spec = HadamardSpec::create(c.n, c.block, c.signs ? random_signs(7, b) : std::vector<int8_t>{}, backend);
  ASSERT_TRUE(spec.is_ok()) << spec.status().to_string();
  auto x = at::randn({3, 2, c.n}, at::kDouble);
  const std::string what = "n=" + std::to_string(c.n) + " b=" + std::to_string(b) + " " + backend_name(backend);
  expect_close(hadamard_transform(x, *spec), hadamard_transform_reference(x, *spec), 1e-13, what);
  expect_close(hadamard_transform_inverse(x, *spec), at::matmul(x, spec->matrix().t()), 1e-13,
               what + " inverse");
  expect_close(hadamard_transform_inverse(hadamard_transform(x, *spec), *spec), x, 1e-13, what + " round trip");
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, FastVsReference,
    ::testing::Combine(::testing::Values(Case{1, 0, false}, Case{2, 0, true}, Case{8, 0, false},
                                         Case{12, 0, true}, Case{20, 0, false}, Case{28, 0, true},
                                         Case{40, 0, false}, Case{96, 0, true}, Case{128, 0, false},
                                         Case{128, 16, true}, Case{156, 0, false}, Case{172, 0, true},
                                         Case{768, 0, true}, Case{1024, 0, false}, Case{2560, 0, true},
                                         Case{1536, 512, true}, Case{1536, 96, false}),
                       ::testing::Values(Backend::kButterfly, Backend::kGemm)));

TEST(HadamardTransform, ReducedPrecisionComputesInFloat32AndKeepsTheDtype) {
  auto spec = *HadamardSpec::create(384, 0, random_signs(3, 384));
  auto x = at::randn({5, 384}, at::kFloat);
  auto ref = hadamard_transform_reference(x, spec);
  auto y32 = hadamard_transform(x, spec);
  EXPECT_EQ(y32.scalar_type(), at::kFloat);
  expect_close(y32, ref, 2e-6, "float32");
  auto ybf = hadamard_transform(x.to(at::kBFloat16), spec);
  EXPECT_EQ(ybf.scalar_type(), at::kBFloat16);
  expect_close(ybf, ref, 2e-2, "bfloat16");
}

TEST(HadamardTransform, PreservesNormsAtEveryModelFamilySize) {
  // Orthogonality of the fast path at the full sizes (dense references would not fit): norms
  // are kept and the inverse undoes the transform, in float64, for both backends.
  for (int64_t n : {896, 2560, 3584, 4864, 5120, 8960, 9728, 11008, 12288, 13824, 14336, 17408,
                    18944, 25600, 27648, 29568}) {
    for (Backend backend : {Backend::kButterfly, Backend::kGemm}) {
      auto spec = HadamardSpec::create(n, 0, random_signs(n, n), backend);
      ASSERT_TRUE(spec.is_ok()) << n;
      auto x = at::randn({2, n}, at::kDouble);
      auto y = hadamard_transform(x, *spec);
      EXPECT_NEAR(y.norm().item<double>() / x.norm().item<double>(), 1.0, 1e-13) << n;
      EXPECT_LE(max_abs(hadamard_transform_inverse(y, *spec) - x), 1e-12) << n;
    }
  }
}

TEST(HadamardTransform, SampledColumnsOfLargeSizesMatchTheIntegerMatrix) {
  // Column j of Q is s_j·(row j of H_k ⊗ S_p)/√n, read off the integer base matrix and the
  // popcount formula of Sylvester, independently of both fast paths.
  for (int64_t n : {11008, 12288, 18944, 29568}) {
    const auto f = *factorize(n);
    const auto hk = *base_matrix(f.base);
    const auto signs = random_signs(11, n);
    auto spec = *HadamardSpec::create(n, 0, signs);
    auto x = at::randn({4, n}, at::kDouble);
    auto y = hadamard_transform(x, spec);
    for (int64_t j : {int64_t{0}, int64_t{1}, n / 3, n / 2 + 5, n - 1}) {
      auto col = at::empty({n}, at::kDouble);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t a = j / f.pow2, c = j % f.pow2, a2 = i / f.pow2, c2 = i % f.pow2;
        const int syl = __builtin_popcountll(static_cast<uint64_t>(c & c2)) % 2 ? -1 : 1;
        col[i] = signs[static_cast<size_t>(i)] * hk(a, a2) * syl / std::sqrt(static_cast<double>(n));
      }
      expect_close(y.select(1, j), at::matmul(x, col), 1e-12, "n=" + std::to_string(n) + " col " + std::to_string(j));
    }
  }
}

TEST(HadamardTransform, BackendsAgree) {
  auto a = *HadamardSpec::create(12288, 0, random_signs(5, 12288), Backend::kButterfly);
  auto b = a.with_backend(Backend::kGemm);
  auto x = at::randn({3, 12288}, at::kFloat);
  expect_close(hadamard_transform(x, a), hadamard_transform(x, b).to(at::kDouble), 1e-5, "butterfly vs gemm");
}

TEST(HadamardTransform, UnsignedPowerOfTwoIsTheSymmetricSylvesterMatrix) {
  auto spec = *HadamardSpec::create(64);
  auto q = spec.matrix();
  EXPECT_EQ(max_abs(q - q.t()), 0.0);
  EXPECT_EQ(max_abs(q * 8.0 - q.sign()), 0.0);  // entries exactly ±1/8
}

TEST(HadamardSpec, RejectsBadArguments) {
  EXPECT_EQ(HadamardSpec::create(0).status().message(), "Hadamard transform size 0 must be positive");
  EXPECT_EQ(HadamardSpec::create(96, 36).status().message(),
            "Hadamard block size 36 does not divide the transform size 96");
  EXPECT_EQ(HadamardSpec::create(8, 0, {1, -1}).status().message(), "Hadamard signs: 2 values for block size 8");
  EXPECT_EQ(HadamardSpec::create(2, 0, {1, 0}).status().message(), "Hadamard signs must be +1 or -1, got 0");
  EXPECT_EQ(HadamardSpec::create(376).status().code(), Code::kInvalidArgument);
}

TEST(HadamardTransform, WrongLastDimensionThrows) {
  auto spec = *HadamardSpec::create(16);
  EXPECT_THROW(hadamard_transform(at::zeros({2, 8}), spec), c10::Error);
  EXPECT_THROW(hadamard_transform(at::zeros({2, 16}, at::kInt), spec), c10::Error);
}

}  // namespace
}  // namespace qb::hadamard
