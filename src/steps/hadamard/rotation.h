// Orthogonal rotations Q for SpinQuant-style transforms: the three transform types of
// llm-compressor's SpinQuantModifier, optionally block-diagonal, all deterministic given a seed.
//
//   hadamard         Q_b = S_bᵀ/√b = S_b/√b, Sylvester, b a power of two (what compressed-tensors'
//                    "hadamard" and vLLM's hadacore kernel compute)
//   random-hadamard  Q_b = D·H_bᵀ/√b, b = k·2^m (hadamard_matrix.h), D = diag(random_signs(seed, b))
//   random-matrix    Q_b = the Q of the QR of a b×b matrix of random_gaussians(seed, b, b),
//                    computed in float64 on the CPU (LAPACK), columns flipped so diag(R) > 0
// Q = blockdiag(Q_b, …, Q_b) (n/b blocks). apply(x) = x @ Q along the last dimension.
//
// Storage convention (compressed-tensors TransformBase.weight): T = √b·Q_b, applied online as
// x ↦ x @ T / √b per block; from_weight() rebuilds a Rotation from such a T.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string_view>

#include "steps/hadamard/hadamard_transform.h"
#include "spec/spinquant.h"
#include "util/status.h"

namespace qb::hadamard {

// The rotation types are the spec layer's (src/spec/spinquant.h).
using spec::parse_rotation_type;
using spec::RotationType;
using spec::rotation_type_name;

struct RotationOptions {
  RotationType type = RotationType::kHadamard;
  int64_t size = 0;        // n, the dimension rotated
  int64_t block_size = 0;  // b; 0 means n
  uint64_t seed = 0;       // random-hadamard and random-matrix only
  Backend backend = Backend::kGemm;
};

class Rotation {
 public:
  // Errors (invalid_argument): size ≤ 0, block not dividing size, a size the type cannot build
  // (the message names transform_block_size and the other types as alternatives).
  static Result<Rotation> create(const RotationOptions& opts);

  // From a stored weight T ([b, b], any floating dtype) of a transform of `type` over `size`.
  // hadamard: T must be exactly the Sylvester matrix; random-hadamard: T is recognized as
  // D·H_bᵀ (fast path, `backend`) when it is one, else used densely; random-matrix: dense. Errors: shape,
  // b not dividing size, hadamard weight that is not Sylvester, T·Tᵀ ≠ b·I (rel. 1e-4).
  static Result<Rotation> from_weight(RotationType type, const at::Tensor& weight, int64_t size,
                                      Backend backend = Backend::kGemm);

  RotationType type() const { return type_; }
  int64_t size() const { return size_; }
  int64_t block_size() const { return block_; }

  // x @ Q and x @ Qᵀ along the last dimension; x's dtype and device kept (float32 compute for
  // reduced precision, float64 for float64). May throw c10::Error for a wrong last dimension.
  at::Tensor apply(const at::Tensor& x) const;
  at::Tensor apply_inverse(const at::Tensor& x) const;

  at::Tensor block_matrix() const;  // Q_b, [b, b] float64 CPU
  at::Tensor weight() const;        // T = √b·Q_b, [b, b] float64 CPU (what a checkpoint stores)
  // The fast Hadamard spec behind apply(), or nullptr for a dense rotation.
  const HadamardSpec* hadamard_spec() const { return spec_ ? &*spec_ : nullptr; }

 private:
  at::Tensor apply_dense(const at::Tensor& x, bool inverse) const;

  RotationType type_ = RotationType::kHadamard;
  int64_t size_ = 0, block_ = 0;
  std::optional<HadamardSpec> spec_;
  at::Tensor dense_;  // Q_b, float64 CPU, when spec_ is empty
  struct DenseCache;
  std::shared_ptr<DenseCache> cache_;
};

// A b×b Haar-random orthogonal matrix (float64, CPU) per the random-matrix rule above.
at::Tensor random_orthogonal(uint64_t seed, int64_t b);

}  // namespace qb::hadamard
