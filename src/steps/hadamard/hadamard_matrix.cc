// Hadamard matrix constructions; see hadamard_matrix.h for the catalogue and its sources.
#include "steps/hadamard/hadamard_matrix.h"

#include <bit>
#include <string_view>

#include "steps/hadamard/finite_field.h"

namespace qb::hadamard {
namespace {

// First rows of the Williamson circulants A, B, C, D ('+' = 1, '-' = −1), keyed by t.
struct WilliamsonRows {
  int64_t t;
  std::string_view rows[4];
};
constexpr WilliamsonRows kWilliamson[] = {
    {23,
     {"++---+---+-++-+---+---+", "+-++-++--++++++--++-++-", "+++---++-+-++-+-++---++",
      "+++-+++-+------+-+++-++"}},
    {29,
     {"+++---++--+-+----+-+--++---++", "+-+---++--+-++++++-+--++---+-",
      "++++-++-+---++++++---+-++-+++", "++--+--+-+++-++++-+++-+--+--+"}},
    {39,
     {"+++--+-+-----+--++----++--+-----+-+--++", "+++--++-+---+-+--+----+--+-+---+-++--++",
      "++++---+--++----+-+--+-+----++--+---+++", "+---++-+-+-----+++-++-+++-----+-+-++---"}},
    {43,
     {"++---++++-+--+--++--------++--+--+-++++---+",
      "+++-+-++--+-+-++++-+----+-++++-+-+--++-+-++",
      "++-++++++----+-+--++-++-++--+-+----++++++-+",
      "+---++--++++-+-+++-++--++-+++-+-++++--++---"}},
};

const WilliamsonRows* williamson_rows(int64_t t) {
  for (const auto& w : kWilliamson)
    if (w.t == t) return &w;
  return nullptr;
}

// Paley I, order q + 1 (q ≡ 3 mod 4): H = I + S, S = [[0, 1ᵀ], [−1, Q]].
SignMatrix paley_one(const FiniteField& f) {
  const int64_t q = f.order();
  SignMatrix h(q + 1);
  for (int64_t i = 1; i <= q; ++i) h(i, 0) = -1;
  for (int64_t a = 0; a < q; ++a)
    for (int64_t b = 0; b < q; ++b)
      h(a + 1, b + 1) = static_cast<int8_t>(a == b ? 1 : f.chi(f.sub(a, b)));
  return h;
}

// Paley II, order 2(q + 1) (q ≡ 1 mod 4): C = [[0, 1ᵀ], [1, Q]] (symmetric conference matrix),
// each 0 → [[1, −1], [−1, −1]], each c = ±1 → c·[[1, 1], [1, −1]].
SignMatrix paley_two(const FiniteField& f) {
  const int64_t q = f.order(), m = q + 1;
  auto c = [&](int64_t i, int64_t j) -> int {
    if (i == j) return 0;
    if (i == 0 || j == 0) return 1;
    return f.chi(f.sub(i - 1, j - 1));
  };
  SignMatrix h(2 * m);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < m; ++j) {
      const int v = c(i, j);
      const int8_t e00 = static_cast<int8_t>(v == 0 ? 1 : v), e01 = static_cast<int8_t>(v == 0 ? -1 : v),
                   e10 = e01, e11 = static_cast<int8_t>(v == 0 ? -1 : -v);
      h(2 * i, 2 * j) = e00;
      h(2 * i, 2 * j + 1) = e01;
      h(2 * i + 1, 2 * j) = e10;
      h(2 * i + 1, 2 * j + 1) = e11;
    }
  return h;
}

SignMatrix williamson(const WilliamsonRows& w) {
  const int64_t t = w.t;
  // Block (r, c) of the array: which circulant and its sign.
  static constexpr int kWhich[4][4] = {{0, 1, 2, 3}, {1, 0, 3, 2}, {2, 3, 0, 1}, {3, 2, 1, 0}};
  static constexpr int kSign[4][4] = {{1, 1, 1, 1}, {-1, 1, -1, 1}, {-1, 1, 1, -1}, {-1, -1, 1, 1}};
  SignMatrix h(4 * t);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) {
      const std::string_view row = w.rows[kWhich[r][c]];
      for (int64_t i = 0; i < t; ++i)
        for (int64_t j = 0; j < t; ++j) {
          const int v = row[static_cast<size_t>(((j - i) % t + t) % t)] == '+' ? 1 : -1;
          h(r * t + i, c * t + j) = static_cast<int8_t>(kSign[r][c] * v);
        }
    }
  return h;
}

}  // namespace

const char* construction_name(Construction c) {
  switch (c) {
    case Construction::kSylvester: return "sylvester";
    case Construction::kPaleyI: return "paley-1";
    case Construction::kPaleyII: return "paley-2";
    case Construction::kWilliamson: return "williamson";
    case Construction::kDoubling: return "doubling";
  }
  return "?";
}

std::optional<BaseConstruction> find_construction(int64_t k) {
  if (k < 1 || k > kMaxBaseOrder) return std::nullopt;
  if (is_power_of_two(k)) return BaseConstruction{k, Construction::kSylvester, k};
  if (k % 4 != 0) return std::nullopt;
  if (auto pp = as_prime_power(k - 1); pp && pp->p != 2 && (k - 1) % 4 == 3)
    return BaseConstruction{k, Construction::kPaleyI, k - 1};
  if (auto pp = as_prime_power(k / 2 - 1); pp && pp->p != 2 && (k / 2 - 1) % 4 == 1)
    return BaseConstruction{k, Construction::kPaleyII, k / 2 - 1};
  if (williamson_rows(k / 4)) return BaseConstruction{k, Construction::kWilliamson, k / 4};
  if (k % 8 == 0 && find_construction(k / 2))
    return BaseConstruction{k, Construction::kDoubling, k / 2};
  return std::nullopt;
}

Result<Factorization> factorize(int64_t n) {
  if (n < 1) return invalid_argument("Hadamard order " + std::to_string(n) + " must be positive");
  const int twos = std::countr_zero(static_cast<uint64_t>(n));
  const int64_t odd = n >> twos;
  for (int j = 0; j <= twos; ++j) {
    const int64_t k = odd << j;  // odd == 1: k = 1, the pure Sylvester case
    if (find_construction(k)) return Factorization{k, n / k};
  }
  return invalid_argument(
      "no Hadamard matrix of order " + std::to_string(n) + " here: " + std::to_string(n) + " = " +
      std::to_string(odd) + "·2^" + std::to_string(twos) + " and no order " + std::to_string(odd) +
      "·2^j (j ≤ " + std::to_string(twos) +
      ") has a Paley I/II, Williamson or doubling construction of order at most " +
      std::to_string(kMaxBaseOrder) + "; the largest divisor of " + std::to_string(n) +
      " that has one is " + std::to_string(largest_supported_divisor(n)));
}

int64_t largest_supported_divisor(int64_t n) {
  for (int64_t d = n; d > 1; --d) {
    if (n % d != 0) continue;
    const int twos = std::countr_zero(static_cast<uint64_t>(d));
    const int64_t odd = d >> twos;
    for (int j = 0; j <= twos; ++j)
      if (find_construction(odd << j)) return d;
  }
  return 1;
}

SignMatrix sylvester(int64_t p) {
  SignMatrix h(p);
  for (int64_t i = 0; i < p; ++i)
    for (int64_t j = 0; j < p; ++j)
      h(i, j) = static_cast<int8_t>(std::popcount(static_cast<uint64_t>(i & j)) % 2 ? -1 : 1);
  return h;
}

Result<SignMatrix> base_matrix(int64_t k) {
  const auto c = find_construction(k);
  if (!c) return invalid_argument("no Hadamard base construction of order " + std::to_string(k));
  switch (c->how) {
    case Construction::kSylvester: return sylvester(k);
    case Construction::kPaleyI: {
      QB_ASSIGN_OR_RETURN(FiniteField f, FiniteField::create(c->param));
      return paley_one(f);
    }
    case Construction::kPaleyII: {
      QB_ASSIGN_OR_RETURN(FiniteField f, FiniteField::create(c->param));
      return paley_two(f);
    }
    case Construction::kWilliamson: return williamson(*williamson_rows(c->param));
    case Construction::kDoubling: {
      QB_ASSIGN_OR_RETURN(SignMatrix half, base_matrix(c->param));
      return kronecker(sylvester(2), half);
    }
  }
  return internal_error("base_matrix: unknown construction");
}

Result<SignMatrix> hadamard_matrix(int64_t n) {
  QB_ASSIGN_OR_RETURN(Factorization f, factorize(n));
  QB_ASSIGN_OR_RETURN(SignMatrix base, base_matrix(f.base));
  return kronecker(base, sylvester(f.pow2));
}

SignMatrix kronecker(const SignMatrix& a, const SignMatrix& b) {
  const int64_t na = a.order(), nb = b.order();
  SignMatrix h(na * nb);
  for (int64_t i = 0; i < na; ++i)
    for (int64_t j = 0; j < na; ++j)
      for (int64_t r = 0; r < nb; ++r)
        for (int64_t c = 0; c < nb; ++c)
          h(i * nb + r, j * nb + c) = static_cast<int8_t>(a(i, j) * b(r, c));
  return h;
}

SignMatrix transpose(const SignMatrix& a) {
  SignMatrix t(a.order());
  for (int64_t i = 0; i < a.order(); ++i)
    for (int64_t j = 0; j < a.order(); ++j) t(j, i) = a(i, j);
  return t;
}

bool is_hadamard(const SignMatrix& h) {
  const int64_t n = h.order();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j) {
      int64_t dot = 0;
      const int8_t* ri = h.data().data() + i * n;
      const int8_t* rj = h.data().data() + j * n;
      for (int64_t c = 0; c < n; ++c) dot += ri[c] * rj[c];
      if (dot != (i == j ? n : 0)) return false;
    }
  return true;
}

}  // namespace qb::hadamard
