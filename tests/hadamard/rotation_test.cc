// Rotations: the three types are orthogonal and deterministic, match the golden values of an
// independent Python implementation of the seeded rules, round-trip through stored weights, and
// reject sizes they cannot build with messages that name the alternatives.
#include "steps/hadamard/rotation.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "steps/hadamard/random.h"
#include "util/fs.h"

namespace qb::hadamard {
namespace {

nlohmann::json golden() {
  auto text = fs::read_file(std::string(QB_SOURCE_DIR) + "/tests/golden/transforms/hadamard_random.json");
  EXPECT_TRUE(text.is_ok()) << text.status().to_string();
  return nlohmann::json::parse(text.value_or("{}"));
}

double max_abs(const at::Tensor& a) { return a.abs().max().item<double>(); }

TEST(Random, MatchesTheIndependentPythonImplementation) {
  const auto g = golden();
  for (const auto& [seed_str, outs] : g["splitmix64"].items()) {
    SplitMix64 r(std::stoull(seed_str));
    for (const auto& o : outs) EXPECT_EQ(r.next(), std::stoull(o.get<std::string>())) << seed_str;
  }
  for (const auto& [seed_str, signs] : g["signs"].items())
    EXPECT_EQ(random_signs(std::stoull(seed_str), 64), signs.get<std::vector<int8_t>>()) << seed_str;
  for (const auto& [seed_str, values] : g["gaussians"].items()) {
    const auto v = random_gaussians(std::stoull(seed_str), 3, 3);
    const auto want = values.get<std::vector<double>>();
    for (size_t i = 0; i < want.size(); ++i) EXPECT_DOUBLE_EQ(v[i], want[i]) << seed_str << "[" << i << "]";
  }
  const auto& o = g["orthogonal"];
  const auto want = o["q"].get<std::vector<std::vector<double>>>();
  const auto q = random_orthogonal(o["seed"].get<uint64_t>(), o["b"].get<int64_t>());
  for (size_t i = 0; i < want.size(); ++i)
    for (size_t j = 0; j < want.size(); ++j)
      EXPECT_NEAR(q[static_cast<int64_t>(i)][static_cast<int64_t>(j)].item<double>(), want[i][j], 1e-12);
}

TEST(Random, SplitMix64FirstOutputForSeedZeroIsTheReferenceValue) {
  EXPECT_EQ(SplitMix64(0).next(), 0xE220A8397B1DCDAFull);  // the published test vector
}

TEST(Random, DerivedSeedsDifferPerPurpose) {
  EXPECT_NE(derive_seed(0, "R1"), derive_seed(0, "R2"));
  EXPECT_NE(derive_seed(0, "R1"), derive_seed(1, "R1"));
  EXPECT_EQ(derive_seed(5, "R4"), derive_seed(5, "R4"));
}

struct TypeCase {
  RotationType type;
  int64_t n, block;
};

class RotationTypes : public ::testing::TestWithParam<TypeCase> {};

TEST_P(RotationTypes, IsOrthogonalAndApplyIsMultiplicationByQ) {
  const auto c = GetParam();
  auto r = Rotation::create({c.type, c.n, c.block, 123});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const int64_t b = c.block ? c.block : c.n;
  auto qb = r->block_matrix();
  EXPECT_LE(max_abs(at::matmul(qb, qb.t()) - at::eye(b, at::kDouble)), 1e-13);
  std::vector<at::Tensor> blocks(static_cast<size_t>(c.n / b), qb);
  auto q = at::block_diag(blocks);
  auto x = at::randn({4, c.n}, at::kDouble);
  EXPECT_LE(max_abs(r->apply(x) - at::matmul(x, q)), 1e-12);
  EXPECT_LE(max_abs(r->apply_inverse(x) - at::matmul(x, q.t())), 1e-12);
  // Same seed, same matrix; another seed, another matrix (except deterministic hadamard).
  auto again = *Rotation::create({c.type, c.n, c.block, 123});
  EXPECT_EQ(max_abs(again.block_matrix() - qb), 0.0);
  auto other = *Rotation::create({c.type, c.n, c.block, 124});
  if (c.type == RotationType::kHadamard)
    EXPECT_EQ(max_abs(other.block_matrix() - qb), 0.0);
  else
    EXPECT_GT(max_abs(other.block_matrix() - qb), 0.1);
}

INSTANTIATE_TEST_SUITE_P(
    All, RotationTypes,
    ::testing::Values(TypeCase{RotationType::kHadamard, 64, 0}, TypeCase{RotationType::kHadamard, 96, 32},
                      TypeCase{RotationType::kRandomHadamard, 96, 0},
                      TypeCase{RotationType::kRandomHadamard, 160, 40},
                      TypeCase{RotationType::kRandomMatrix, 48, 0},
                      TypeCase{RotationType::kRandomMatrix, 96, 24}));

TEST(Rotation, RandomHadamardIsDiagonalSignsTimesTransposedHadamard) {
  auto r = *Rotation::create({RotationType::kRandomHadamard, 12, 0, 9});
  const auto s = random_signs(9, 12);
  auto h = r.weight();  // √b·Q_b = D·H_12ᵀ, exactly ±1
  auto spec = *HadamardSpec::create(12);
  auto ht = spec.block_matrix(false);  // H_12ᵀ
  for (int i = 0; i < 12; ++i)
    for (int j = 0; j < 12; ++j) EXPECT_EQ(h[i][j].item<double>(), s[static_cast<size_t>(i)] * ht[i][j].item<double>());
}

TEST(Rotation, TypeNamesRoundTripAndUnknownNamesFail) {
  for (auto t : {RotationType::kHadamard, RotationType::kRandomHadamard, RotationType::kRandomMatrix})
    EXPECT_EQ(*parse_rotation_type(rotation_type_name(t)), t);
  EXPECT_EQ(parse_rotation_type("walsh").status().message(),
            "unknown transform_type 'walsh' (expected hadamard, random-hadamard or random-matrix)");
}

TEST(Rotation, UnbuildableSizesNameTheAlternatives) {
  EXPECT_EQ(Rotation::create({RotationType::kHadamard, 12288}).status().message(),
            "hadamard rotation needs a power-of-two size (Sylvester), got size 12288; set "
            "transform_block_size to a power of two dividing 12288 (the largest is 4096), or use "
            "transform_type random-hadamard (orders k·2^m) or random-matrix");
  EXPECT_EQ(Rotation::create({RotationType::kHadamard, 96, 48}).status().message(),
            "hadamard rotation needs a power-of-two size (Sylvester), got block size 48 (of size 96); "
            "set transform_block_size to a power of two dividing 96 (the largest is 32), or use "
            "transform_type random-hadamard (orders k·2^m) or random-matrix");
  EXPECT_EQ(Rotation::create({RotationType::kRandomHadamard, 376}).status().message(),
            "random-hadamard rotation of size 376: no Hadamard matrix of order 376 here: 376 = 47·2^3 "
            "and no order 47·2^j (j ≤ 3) has a Paley I/II, Williamson or doubling construction of "
            "order at most 2048; the largest divisor of 376 that has one is 8; set "
            "transform_block_size to a divisor of 376 that has one (the largest is 8) or use "
            "transform_type random-matrix");
  EXPECT_EQ(Rotation::create({RotationType::kRandomMatrix, 64, 48}).status().message(),
            "transform_block_size 48 does not divide the rotated size 64");
  EXPECT_TRUE(Rotation::create({RotationType::kRandomMatrix, 376}).is_ok());
}

TEST(Rotation, StoredWeightsRoundTripToTheSameRotation) {
  for (const auto& [type, n, b] : {std::tuple{RotationType::kHadamard, 256, 64},
                                   std::tuple{RotationType::kRandomHadamard, 96, 0},
                                   std::tuple{RotationType::kRandomMatrix, 64, 32}}) {
    auto r = *Rotation::create({type, n, b, 77});
    auto w = r.weight().to(at::kFloat);  // stored as fp32 in checkpoints
    auto back = Rotation::from_weight(type, w, n);
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(back->block_size(), b ? b : n);
    EXPECT_EQ(back->hadamard_spec() != nullptr, type != RotationType::kRandomMatrix) << rotation_type_name(type);
    auto x = at::randn({3, n}, at::kDouble);
    EXPECT_LE(max_abs(back->apply(x) - r.apply(x)), type == RotationType::kRandomMatrix ? 1e-6 : 1e-13);
  }
}

TEST(Rotation, FromWeightUsesTheRequestedBackend) {
  auto w = Rotation::create({RotationType::kRandomHadamard, 96, 0, 4})->weight();
  auto r = Rotation::from_weight(RotationType::kRandomHadamard, w, 96, Backend::kButterfly);
  ASSERT_TRUE(r.is_ok() && r->hadamard_spec());
  EXPECT_EQ(r->hadamard_spec()->backend(), Backend::kButterfly);
  EXPECT_EQ(Rotation::from_weight(RotationType::kRandomHadamard, w, 96)->hadamard_spec()->backend(), Backend::kGemm);
}

TEST(Rotation, ForeignRandomHadamardWeightsAreAppliedDensely) {
  // A valid Hadamard matrix that is not D·H_bᵀ for this library's H_b (rows permuted).
  auto w = Rotation::create({RotationType::kRandomHadamard, 12, 0, 1})->weight();
  auto perm = at::tensor(std::vector<int64_t>{1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  auto foreign = w.index_select(0, perm);
  auto r = Rotation::from_weight(RotationType::kRandomHadamard, foreign, 24);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->hadamard_spec(), nullptr);
  auto x = at::randn({2, 24}, at::kDouble);
  auto want = at::matmul(x.reshape({2, 2, 12}), foreign / std::sqrt(12.0)).reshape({2, 24});
  EXPECT_LE(max_abs(r->apply(x) - want), 1e-13);
}

TEST(Rotation, FromWeightRejectsBadWeights) {
  EXPECT_EQ(Rotation::from_weight(RotationType::kHadamard, at::ones({4, 3}), 12).status().message(),
            "transform weight: need a square floating-point matrix, got [4, 3]");
  EXPECT_EQ(Rotation::from_weight(RotationType::kHadamard, at::ones({8, 8}), 12).status().message(),
            "transform weight [8, 8] does not divide the transformed size 12");
  auto h = Rotation::create({RotationType::kRandomHadamard, 8, 0, 3})->weight();
  EXPECT_EQ(Rotation::from_weight(RotationType::kHadamard, h, 8).status().message(),
            "hadamard transform weight [8, 8] is not the Sylvester Hadamard matrix (vLLM would apply Sylvester)");
  EXPECT_EQ(Rotation::from_weight(RotationType::kRandomMatrix, at::ones({2, 2}, at::kDouble), 2).status().message(),
            "transform weight [2, 2] is not orthogonal: max |T·Tᵀ/2 - I| = 1.000000");
}

}  // namespace
}  // namespace qb::hadamard
