// Integer (±1) Hadamard matrices: H·Hᵀ = n·I.
//
// Order n = k·2^m is built as H_k ⊗ S_{2^m} (Kronecker product; S = Sylvester in natural order,
// S[i][j] = (−1)^popcount(i & j)), with the base H_k from, in order of preference:
//   Sylvester   k a power of two (k = 1 when n is one)
//   Paley I     k = q + 1, q ≡ 3 (mod 4) a prime power: I + [[0, 1ᵀ], [−1, Q]], Q_ab = χ(a − b)
//   Paley II    k = 2(q + 1), q ≡ 1 (mod 4) a prime power: [[0, 1ᵀ], [1, Q]] with each 0 replaced
//               by [[1, −1], [−1, −1]] and each ±1 by ±[[1, 1], [1, −1]]
//   Williamson  k = 4t for t ∈ {23, 29, 39, 43}: the array [[A, B, C, D], [−B, A, −D, C],
//               [−C, D, A, −B], [−D, −C, B, A]] of symmetric circulants, first rows as published
//               (t = 23, 29, 43: M. Hall, Combinatorial Theory, 2nd ed., 1983; t = 39: S. London,
//               "Constructing new Turyn type sequences, T-sequences and Hadamard matrices", PhD
//               thesis, 2013; both as tabulated in SageMath's hadamard_matrix.py)
//   doubling    k = 2j: [[H_j, H_j], [H_j, −H_j]] (e.g. 40 = 2·20)
// For n, the smallest base k with n/k a power of two is used (cheapest transform). Every base
// this file can build is checked exactly (integer H·Hᵀ = k·I) by tests/hadamard.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace qb::hadamard {

// A square ±1 matrix, row-major.
class SignMatrix {
 public:
  SignMatrix() = default;
  explicit SignMatrix(int64_t n) : n_(n), data_(static_cast<size_t>(n * n), 1) {}
  int64_t order() const { return n_; }
  int8_t operator()(int64_t i, int64_t j) const { return data_[static_cast<size_t>(i * n_ + j)]; }
  int8_t& operator()(int64_t i, int64_t j) { return data_[static_cast<size_t>(i * n_ + j)]; }
  const std::vector<int8_t>& data() const { return data_; }
  bool operator==(const SignMatrix&) const = default;

 private:
  int64_t n_ = 0;
  std::vector<int8_t> data_;
};

enum class Construction { kSylvester, kPaleyI, kPaleyII, kWilliamson, kDoubling };
const char* construction_name(Construction c);  // "sylvester", "paley-1", …

struct BaseConstruction {
  int64_t order = 0;
  Construction how = Construction::kSylvester;
  int64_t param = 0;  // Paley: q; Williamson: t = order/4; doubling: order/2; Sylvester: order
};

inline bool is_power_of_two(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

// Largest base order this library builds (a dense k×k GEMM runs per transform).
inline constexpr int64_t kMaxBaseOrder = 2048;

// How order k is built as a base, or nullopt when no construction here applies.
std::optional<BaseConstruction> find_construction(int64_t k);

// n = base · pow2 with pow2 a power of two and base the smallest order find_construction()
// accepts. Errors (invalid_argument) explain why and name a divisor of n that works.
struct Factorization {
  int64_t base = 1;
  int64_t pow2 = 1;
};
Result<Factorization> factorize(int64_t n);

// The largest divisor of n that factorize() accepts (at least 1).
int64_t largest_supported_divisor(int64_t n);

SignMatrix sylvester(int64_t p);                      // p a power of two
Result<SignMatrix> base_matrix(int64_t k);            // find_construction(k), materialized
Result<SignMatrix> hadamard_matrix(int64_t n);        // H_base ⊗ S_pow2 per factorize(n)
SignMatrix kronecker(const SignMatrix& a, const SignMatrix& b);
SignMatrix transpose(const SignMatrix& a);

// Exact check H·Hᵀ == n·I in integer arithmetic (O(n³); for tests and small n).
bool is_hadamard(const SignMatrix& h);

}  // namespace qb::hadamard
