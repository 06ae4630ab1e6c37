// The fast (normalized, optionally sign-randomized, optionally block-diagonal) Hadamard
// transform along the last dimension, on any device, and its dense float64 reference.
//
// For a spec of size n, block b (b | n, b = k·2^m, H_b = H_k ⊗ S_{2^m} from hadamard_matrix.h)
// and signs s ∈ {±1}^b (all +1 unless given), the transform is
//     hadamard_transform(x) = x @ Q,   Q = blockdiag(D·H_bᵀ, …, D·H_bᵀ) / √b,   D = diag(s)
// i.e. each length-b block v of a row becomes H_b·(s ∘ v)/√b. Q is orthogonal, so
// hadamard_transform_inverse(x) = x @ Qᵀ undoes it. With b a power of two and no signs, Q is the
// symmetric Sylvester-Walsh matrix that compressed-tensors calls "hadamard".
//
// Two implementations of the 2^m part, chosen per spec (the k part is always a small GEMM):
//   kButterfly  m passes of (a + b, a − b) on pairs (the classic FWHT)
//   kGemm       S_{2^m} = S_{f1} ⊗ S_{f2} ⊗ … with factors of at most 2^7 (or kGemmMaxFactor),
//               each applied as one (batched) GEMM on a reshaped view — tensor-core friendly
// Both compute in float32 (float64 for float64 input) and return x's dtype.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "util/status.h"

namespace qb::hadamard {

enum class Backend { kButterfly, kGemm };
const char* backend_name(Backend b);  // "butterfly" / "gemm"

class HadamardSpec {
 public:
  // size n > 0; block_size 0 means n. Errors (invalid_argument): block_size not dividing n, no
  // Hadamard matrix of order block_size (the message names the usable alternatives), signs of the
  // wrong length or not ±1.
  static Result<HadamardSpec> create(int64_t size, int64_t block_size = 0,
                                     std::vector<int8_t> signs = {},
                                     Backend backend = Backend::kGemm);

  int64_t size() const { return size_; }
  int64_t block_size() const { return block_; }
  int64_t base_order() const { return base_; }  // k
  int64_t pow2() const { return pow2_; }        // 2^m
  bool has_signs() const { return !signs_.empty(); }
  const std::vector<int8_t>& signs() const { return signs_; }
  Backend backend() const { return backend_; }
  HadamardSpec with_backend(Backend b) const;

  // Q's diagonal block D·H_bᵀ/√b ([b, b], float64, CPU; without the 1/√b when !normalized, so
  // the entries are exactly ±1) and the whole Q ([n, n]), built from the materialized integer
  // matrix (independently of the fast path; for references, tests and stored weights).
  at::Tensor block_matrix(bool normalized = true) const;
  at::Tensor matrix() const;

  // Factor matrices used by the fast path, cached per (device, dtype). Internal.
  struct Cache;

 private:
  int64_t size_ = 0, block_ = 0, base_ = 1, pow2_ = 1;
  std::vector<int8_t> base_signs_;  // H_k, row-major (empty when k = 1)
  std::vector<int8_t> signs_;
  Backend backend_ = Backend::kGemm;
  std::shared_ptr<Cache> cache_;
  friend at::Tensor apply_hadamard(const at::Tensor&, const HadamardSpec&, bool);
};

// Largest Sylvester factor the kGemm backend multiplies by as one dense matrix.
inline constexpr int64_t kGemmMaxFactor = 128;

// x @ Q along the last dimension (x: [..., n], any floating dtype, any device). Returns a new
// tensor of x's shape and dtype. May throw c10::Error when x's last dimension is not n or x is
// not floating point.
at::Tensor hadamard_transform(const at::Tensor& x, const HadamardSpec& spec);
// x @ Qᵀ (the inverse). Same contract.
at::Tensor hadamard_transform_inverse(const at::Tensor& x, const HadamardSpec& spec);

// The dense reference: x.double() @ Q (block by block), float64, on x's device. May throw
// c10::Error like hadamard_transform.
at::Tensor hadamard_transform_reference(const at::Tensor& x, const HadamardSpec& spec);

}  // namespace qb::hadamard
