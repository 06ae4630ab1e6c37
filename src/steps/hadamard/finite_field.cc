// GF(p^e) by polynomial arithmetic over GF(p); see finite_field.h.
#include "steps/hadamard/finite_field.h"

#include <string>

namespace qb::hadamard {
namespace {

using Poly = std::vector<int64_t>;  // coefficients, lowest first, over GF(p)

Poly digits(int64_t a, int64_t p, int e) {
  Poly d(static_cast<size_t>(e));
  for (int i = 0; i < e; ++i, a /= p) d[static_cast<size_t>(i)] = a % p;
  return d;
}

int64_t from_digits(const Poly& d, int64_t p) {
  int64_t a = 0;
  for (size_t i = d.size(); i-- > 0;) a = a * p + d[i];
  return a;
}

// Remainder of a modulo the monic polynomial m, over GF(p); degree < deg(m).
Poly poly_mod(Poly a, const Poly& m, int64_t p) {
  const size_t dm = m.size() - 1;
  for (size_t i = a.size(); i-- > dm;) {
    const int64_t c = a[i] % p;
    if (c == 0) continue;
    for (size_t j = 0; j <= dm; ++j) a[i - dm + j] = ((a[i - dm + j] - c * m[j]) % p + p) % p;
  }
  a.resize(dm);
  return a;
}

bool divides(const Poly& f, const Poly& g, int64_t p) {  // f monic
  for (int64_t c : poly_mod(g, f, p))
    if (c != 0) return false;
  return true;
}

// Every monic polynomial of degree d over GF(p), constant term varying fastest.
Poly monic_from_index(int64_t index, int64_t p, int d) {
  Poly f = digits(index, p, d);
  f.push_back(1);
  return f;
}

int64_t ipow(int64_t b, int e) {
  int64_t r = 1;
  while (e-- > 0) r *= b;
  return r;
}

bool irreducible(const Poly& f, int64_t p) {
  const int deg = static_cast<int>(f.size()) - 1;
  for (int d = 1; 2 * d <= deg; ++d)
    for (int64_t i = 0; i < ipow(p, d); ++i)
      if (divides(monic_from_index(i, p, d), f, p)) return false;
  return true;
}

}  // namespace

std::optional<PrimePower> as_prime_power(int64_t q) {
  if (q < 2) return std::nullopt;
  int64_t p = 0;
  for (int64_t d = 2; d * d <= q; ++d)
    if (q % d == 0) {
      p = d;
      break;
    }
  if (p == 0) return PrimePower{q, 1};
  int e = 0;
  while (q % p == 0) q /= p, ++e;
  if (q != 1) return std::nullopt;
  return PrimePower{p, e};
}

Result<FiniteField> FiniteField::create(int64_t q) {
  const auto pp = as_prime_power(q);
  if (!pp || pp->p == 2 || q > 1'000'000)
    return invalid_argument("GF(" + std::to_string(q) +
                            "): need an odd prime power of at most 1000000");
  FiniteField f;
  f.q_ = q;
  f.p_ = pp->p;
  f.e_ = pp->e;
  if (f.e_ == 1) {
    f.modulus_ = {0, 1};
  } else {
    for (int64_t i = 0;; ++i) {
      Poly m = monic_from_index(i, f.p_, f.e_);
      if (irreducible(m, f.p_)) {
        f.modulus_ = std::move(m);
        break;
      }
    }
  }
  f.chi_.assign(static_cast<size_t>(q), -1);
  f.chi_[0] = 0;
  for (int64_t a = 1; a < q; ++a) f.chi_[static_cast<size_t>(f.mul(a, a))] = 1;
  return f;
}

int64_t FiniteField::sub(int64_t a, int64_t b) const {
  if (e_ == 1) return ((a - b) % p_ + p_) % p_;
  int64_t r = 0, scale = 1;
  for (int i = 0; i < e_; ++i, a /= p_, b /= p_, scale *= p_)
    r += ((a % p_ - b % p_ + p_) % p_) * scale;
  return r;
}

int64_t FiniteField::mul(int64_t a, int64_t b) const {
  if (e_ == 1) return (a * b) % p_;
  const Poly x = digits(a, p_, e_), y = digits(b, p_, e_);
  Poly prod(static_cast<size_t>(2 * e_ - 1), 0);
  for (size_t i = 0; i < x.size(); ++i)
    for (size_t j = 0; j < y.size(); ++j) prod[i + j] = (prod[i + j] + x[i] * y[j]) % p_;
  return from_digits(poly_mod(std::move(prod), modulus_, p_), p_);
}

}  // namespace qb::hadamard
