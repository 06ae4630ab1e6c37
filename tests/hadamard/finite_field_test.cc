// GF(q) arithmetic behind the Paley constructions: prime-power detection, field axioms on small
// fields (prime and extension), the quadratic character, and the error for a non-field order.
#include "steps/hadamard/finite_field.h"

#include <gtest/gtest.h>

namespace qb::hadamard {
namespace {

TEST(PrimePower, RecognizesPrimePowersOnly) {
  EXPECT_EQ(as_prime_power(27)->p, 3);
  EXPECT_EQ(as_prime_power(27)->e, 3);
  EXPECT_EQ(as_prime_power(343)->p, 7);
  EXPECT_EQ(as_prime_power(343)->e, 3);
  EXPECT_EQ(as_prime_power(461)->e, 1);
  EXPECT_EQ(as_prime_power(2)->p, 2);
  EXPECT_FALSE(as_prime_power(1));
  EXPECT_FALSE(as_prime_power(15));
  EXPECT_FALSE(as_prime_power(99));
}

class FieldAxioms : public ::testing::TestWithParam<int> {};

TEST_P(FieldAxioms, MultiplicationIsAFieldAndChiIsTheQuadraticCharacter) {
  auto f = FiniteField::create(GetParam());
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  const int64_t q = f->order();
  int squares = 0;
  for (int64_t a = 0; a < q; ++a) {
    squares += f->chi(a) == 1;
    EXPECT_EQ(f->sub(a, a), 0);
    EXPECT_EQ(f->mul(a, 1), a);
    bool has_inverse = a == 0;
    for (int64_t b = 0; b < q; ++b) {
      EXPECT_EQ(f->mul(a, b), f->mul(b, a));
      EXPECT_EQ(f->chi(f->mul(a, b)), f->chi(a) * f->chi(b)) << a << "*" << b;
      has_inverse = has_inverse || f->mul(a, b) == 1;
    }
    EXPECT_TRUE(has_inverse) << a << " has no inverse in GF(" << q << ")";
  }
  EXPECT_EQ(squares, (q - 1) / 2);
  // χ(−1) = +1 exactly when q ≡ 1 (mod 4): what makes Paley II's Q symmetric, Paley I's skew.
  EXPECT_EQ(f->chi(f->sub(0, 1)), q % 4 == 1 ? 1 : -1);
}

INSTANTIATE_TEST_SUITE_P(SmallFields, FieldAxioms, ::testing::Values(3, 5, 7, 9, 11, 25, 27, 49, 81));

TEST(FiniteField, ExtensionModulusIsTheFirstIrreducible) {
  // x² + 1 is irreducible over GF(3) (−1 is not a square mod 3); over GF(5) it is not (2² = −1),
  // and the first irreducible monic quadratic there is x² + 2.
  EXPECT_EQ(FiniteField::create(9)->modulus(), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(FiniteField::create(25)->modulus(), (std::vector<int64_t>{2, 0, 1}));
}

TEST(FiniteField, RejectsNonFieldOrders) {
  EXPECT_EQ(FiniteField::create(15).status().message(), "GF(15): need an odd prime power of at most 1000000");
  EXPECT_EQ(FiniteField::create(8).status().message(), "GF(8): need an odd prime power of at most 1000000");
}

}  // namespace
}  // namespace qb::hadamard
