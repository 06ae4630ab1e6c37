// Integer Hadamard matrices: every base order the library builds satisfies H·Hᵀ = k·I exactly,
// the constructions are the documented ones, every hidden / head / MLP size of the Qwen2, Qwen3
// and Llama families factorizes as expected, and unsupported orders fail with a useful message.
#include "steps/hadamard/hadamard_matrix.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace qb::hadamard {
namespace {

struct Base {
  int64_t k;
  Construction how;
  int64_t param;
};

// The bases the brief requires plus the ones the model families need (76, 68, 100, 148, 924).
const Base kBases[] = {
    {12, Construction::kPaleyI, 11},     {20, Construction::kPaleyI, 19},
    {28, Construction::kPaleyI, 27},     {36, Construction::kPaleyII, 17},
    {40, Construction::kDoubling, 20},   {44, Construction::kPaleyI, 43},
    {52, Construction::kPaleyII, 25},    {60, Construction::kPaleyI, 59},
    {68, Construction::kPaleyI, 67},     {76, Construction::kPaleyII, 37},
    {92, Construction::kWilliamson, 23}, {100, Construction::kPaleyII, 49},
    {108, Construction::kPaleyI, 107},   {116, Construction::kWilliamson, 29},
    {140, Construction::kPaleyI, 139},   {148, Construction::kPaleyII, 73},
    {156, Construction::kWilliamson, 39}, {164, Construction::kPaleyI, 163},
    {172, Construction::kWilliamson, 43}, {344, Construction::kPaleyI, 343},
    {924, Construction::kPaleyII, 461},
};

TEST(HadamardMatrix, NamedBasesUseTheDocumentedConstructionAndAreExactlyHadamard) {
  for (const auto& b : kBases) {
    SCOPED_TRACE("k = " + std::to_string(b.k));
    const auto c = find_construction(b.k);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->how, b.how) << construction_name(c->how);
    EXPECT_EQ(c->param, b.param);
    auto h = base_matrix(b.k);
    ASSERT_TRUE(h.is_ok()) << h.status().to_string();
    EXPECT_EQ(h->order(), b.k);
    EXPECT_TRUE(is_hadamard(*h));
  }
}

TEST(HadamardMatrix, EveryConstructibleBaseUpTo400IsExactlyHadamard) {
  int count = 0;
  for (int64_t k = 1; k <= 400; ++k) {
    if (!find_construction(k)) continue;
    auto h = base_matrix(k);
    ASSERT_TRUE(h.is_ok()) << k;
    EXPECT_TRUE(is_hadamard(*h)) << "k = " << k << " (" << construction_name(find_construction(k)->how) << ")";
    ++count;
  }
  EXPECT_EQ(count, 93);  // 1, 2, 4…256 and the multiples of 4 except 188 236 260 268 292 324 356 372 376
}

TEST(HadamardMatrix, OnlyOrdersDivisibleByFourOrPowersOfTwoHaveBases) {
  EXPECT_FALSE(find_construction(6));
  EXPECT_FALSE(find_construction(18));
  EXPECT_FALSE(find_construction(0));
  EXPECT_FALSE(find_construction(188));  // 4·47: none of Paley I/II, Williamson, doubling here
  EXPECT_EQ(find_construction(1)->how, Construction::kSylvester);
  EXPECT_EQ(find_construction(2)->how, Construction::kSylvester);
}

TEST(HadamardMatrix, SylvesterIsExactlyHadamardAndMatchesTheRecursiveDefinition) {
  for (int64_t p = 1; p <= 512; p *= 2) EXPECT_TRUE(is_hadamard(sylvester(p))) << p;
  // S_2p = [[S_p, S_p], [S_p, −S_p]] = S_2 ⊗ S_p, the ordering compressed-tensors uses.
  for (int64_t p = 1; p <= 256; p *= 2) EXPECT_EQ(sylvester(2 * p), kronecker(sylvester(2), sylvester(p))) << p;
}

TEST(HadamardMatrix, PaleyFirstRowsAndColumnsAreNormalized) {
  // Paley I: first row all +1, first column −1 below the corner; Paley II from a symmetric
  // conference matrix: the 2×2 corner block is [[1, −1], [−1, −1]].
  auto h12 = *base_matrix(12);
  for (int j = 0; j < 12; ++j) EXPECT_EQ(h12(0, j), 1);
  for (int i = 1; i < 12; ++i) EXPECT_EQ(h12(i, 0), -1);
  auto h36 = *base_matrix(36);
  EXPECT_EQ(h36(0, 0), 1);
  EXPECT_EQ(h36(0, 1), -1);
  EXPECT_EQ(h36(1, 0), -1);
  EXPECT_EQ(h36(1, 1), -1);
}

struct Size {
  int64_t n, base, pow2;
};

// Hidden sizes, head dims and MLP sizes of Qwen2/2.5, Qwen3 and Llama 2/3 models.
const Size kModelSizes[] = {
    {64, 1, 64},        {128, 1, 128},      {896, 28, 32},       {1024, 1, 1024},
    {1536, 12, 128},    {2048, 1, 2048},    {2560, 20, 128},     {3072, 12, 256},
    {3584, 28, 128},    {4096, 1, 4096},    {4864, 76, 64},      {5120, 20, 256},
    {6144, 12, 512},    {8192, 1, 8192},    {8960, 140, 64},     {9728, 76, 128},
    {11008, 172, 64},   {12288, 12, 1024},  {13824, 108, 128},   {14336, 28, 512},
    {17408, 68, 256},   {18944, 148, 128},  {25600, 100, 256},   {27648, 108, 256},
    {28672, 28, 1024},  {29568, 924, 32},   {53248, 52, 1024},
};

TEST(HadamardMatrix, ModelFamilySizesFactorizeWithTheSmallestBase) {
  for (const auto& s : kModelSizes) {
    auto f = factorize(s.n);
    ASSERT_TRUE(f.is_ok()) << s.n << ": " << f.status().to_string();
    EXPECT_EQ(f->base, s.base) << s.n;
    EXPECT_EQ(f->pow2, s.pow2) << s.n;
    EXPECT_TRUE(is_hadamard(*base_matrix(f->base))) << s.n;  // k·2^m: H_k ⊗ S exact by the above
  }
}

TEST(HadamardMatrix, ComposedMatricesAreTheKroneckerProductAndExactlyHadamard) {
  for (int64_t n : {24, 48, 96, 112, 160, 224, 312, 344, 688, 896}) {
    auto h = hadamard_matrix(n);
    ASSERT_TRUE(h.is_ok()) << n;
    const auto f = *factorize(n);
    EXPECT_EQ(*h, kronecker(*base_matrix(f.base), sylvester(f.pow2))) << n;
    EXPECT_TRUE(is_hadamard(*h)) << n;
  }
}

TEST(HadamardMatrix, UnsupportedOrdersExplainAndNameAUsableDivisor) {
  EXPECT_EQ(factorize(18).status().message(),
            "no Hadamard matrix of order 18 here: 18 = 9·2^1 and no order 9·2^j (j ≤ 1) has a "
            "Paley I/II, Williamson or doubling construction of order at most 2048; the largest "
            "divisor of 18 that has one is 2");
  EXPECT_EQ(factorize(376).status().message(),
            "no Hadamard matrix of order 376 here: 376 = 47·2^3 and no order 47·2^j (j ≤ 3) has a "
            "Paley I/II, Williamson or doubling construction of order at most 2048; the largest "
            "divisor of 376 that has one is 8");
  EXPECT_EQ(factorize(752)->base, 752);  // 47·16: Paley I over GF(751)
  EXPECT_EQ(factorize(0).status().message(), "Hadamard order 0 must be positive");
  EXPECT_EQ(largest_supported_divisor(12288), 12288);
  EXPECT_EQ(largest_supported_divisor(7), 1);
}

}  // namespace
}  // namespace qb::hadamard
