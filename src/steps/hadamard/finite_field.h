// The finite field GF(q), q = p^e (p an odd prime), as much of it as the Paley constructions
// need: element subtraction and the quadratic character χ.
//
// Elements are the integers 0..q-1, read as polynomials over GF(p) in base p (digit i is the
// coefficient of xⁱ). Multiplication is modulo the first monic irreducible polynomial of degree e
// in the order "constant term fastest" (x² + 1, x² + 2, …, x² + x + 1, … for e = 2), so the
// field, and every Paley matrix built from it, is the same on every platform.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "util/status.h"

namespace qb::hadamard {

// (p, e) with q = p^e, p prime; nullopt when q < 2 or q is not a prime power.
struct PrimePower {
  int64_t p = 0;
  int e = 0;
};
std::optional<PrimePower> as_prime_power(int64_t q);

class FiniteField {
 public:
  // Errors: invalid_argument when q is not an odd prime power or q > 1'000'000.
  static Result<FiniteField> create(int64_t q);

  int64_t order() const { return q_; }
  int64_t characteristic() const { return p_; }
  int64_t sub(int64_t a, int64_t b) const;   // a − b
  int64_t mul(int64_t a, int64_t b) const;   // a · b
  // χ(a): 0 for a = 0, +1 for a non-zero square, −1 otherwise.
  int chi(int64_t a) const { return chi_[static_cast<size_t>(a)]; }
  // The modulus, lowest coefficient first (size e + 1, last = 1); {0, 1} (x) when e = 1.
  const std::vector<int64_t>& modulus() const { return modulus_; }

 private:
  int64_t q_ = 0, p_ = 0;
  int e_ = 0;
  std::vector<int64_t> modulus_;
  std::vector<int8_t> chi_;
};

}  // namespace qb::hadamard
