// Rotation: hadamard / random-hadamard / random-matrix, block-diagonal; see rotation.h.
#include "steps/hadamard/rotation.h"

#include <cmath>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "steps/hadamard/hadamard_matrix.h"
#include "steps/hadamard/random.h"

namespace qb::hadamard {

struct Rotation::DenseCache {
  std::mutex mu;
  std::map<std::tuple<int, int, int, bool>, at::Tensor> tensors;  // (device, index, dtype, transposed)
};

namespace {

int64_t largest_pow2_divisor(int64_t n) { return n & -n; }

std::string size_phrase(int64_t size, int64_t block) {
  return block == size ? "size " + std::to_string(size)
                       : "block size " + std::to_string(block) + " (of size " + std::to_string(size) + ")";
}

std::string shape_string(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

}  // namespace

at::Tensor random_orthogonal(uint64_t seed, int64_t b) {
  std::vector<double> g = random_gaussians(seed, b, b);
  auto a = at::from_blob(g.data(), {b, b}, at::kDouble).clone();
  auto [q, r] = at::linalg_qr(a);
  auto d = at::sign(at::diagonal(r));
  d = at::where(d == 0, at::ones_like(d), d);
  return (q * d.unsqueeze(0)).contiguous();  // Q·diag(d): R's diagonal becomes positive
}

Result<Rotation> Rotation::create(const RotationOptions& o) {
  const int64_t n = o.size, b = o.block_size == 0 ? o.size : o.block_size;
  if (n <= 0) return invalid_argument("rotation size " + std::to_string(n) + " must be positive");
  if (b <= 0 || n % b != 0)
    return invalid_argument("transform_block_size " + std::to_string(b) +
                            " does not divide the rotated size " + std::to_string(n));
  Rotation r;
  r.type_ = o.type;
  r.size_ = n;
  r.block_ = b;
  r.cache_ = std::make_shared<DenseCache>();
  switch (o.type) {
    case RotationType::kHadamard: {
      if (!is_power_of_two(b))
        return invalid_argument(
            "hadamard rotation needs a power-of-two size (Sylvester), got " + size_phrase(n, b) +
            "; set transform_block_size to a power of two dividing " + std::to_string(n) +
            " (the largest is " + std::to_string(largest_pow2_divisor(n)) +
            "), or use transform_type random-hadamard (orders k·2^m) or random-matrix");
      QB_ASSIGN_OR_RETURN(r.spec_, HadamardSpec::create(n, b, {}, o.backend));
      break;
    }
    case RotationType::kRandomHadamard: {
      if (auto f = factorize(b); !f)
        return invalid_argument("random-hadamard rotation of " + size_phrase(n, b) + ": " +
                                f.status().message() + "; set transform_block_size to a divisor of " +
                                std::to_string(n) + " that has one (the largest is " +
                                std::to_string(largest_supported_divisor(n)) +
                                ") or use transform_type random-matrix");
      QB_ASSIGN_OR_RETURN(r.spec_, HadamardSpec::create(n, b, random_signs(o.seed, b), o.backend));
      break;
    }
    case RotationType::kRandomMatrix:
      r.dense_ = random_orthogonal(o.seed, b);
      break;
  }
  return r;
}

Result<Rotation> Rotation::from_weight(RotationType type, const at::Tensor& weight, int64_t size,
                                       Backend backend) {
  if (weight.dim() != 2 || weight.size(0) != weight.size(1) || !weight.is_floating_point())
    return invalid_argument("transform weight: need a square floating-point matrix, got " +
                            shape_string(weight));
  const int64_t b = weight.size(0);
  if (b == 0 || size % b != 0)
    return invalid_argument("transform weight " + shape_string(weight) +
                            " does not divide the transformed size " + std::to_string(size));
  const auto t = weight.to(at::kCPU, at::kDouble).contiguous();
  const double* tp = t.data_ptr<double>();
  Rotation r;
  r.type_ = type;
  r.size_ = size;
  r.block_ = b;
  r.cache_ = std::make_shared<DenseCache>();

  if (type == RotationType::kHadamard) {
    const bool sylv = is_power_of_two(b) && [&] {
      const SignMatrix s = sylvester(b);
      for (int64_t i = 0; i < b * b; ++i)
        if (tp[i] != s.data()[static_cast<size_t>(i)]) return false;
      return true;
    }();
    if (!sylv)
      return invalid_argument("hadamard transform weight " + shape_string(weight) +
                              " is not the Sylvester Hadamard matrix (vLLM would apply Sylvester)");
    QB_ASSIGN_OR_RETURN(r.spec_, HadamardSpec::create(size, b, {}, backend));
    return r;
  }
  if (type == RotationType::kRandomHadamard) {
    if (auto h = hadamard_matrix(b); h.is_ok()) {
      // T = D·H_bᵀ  ⇔  T[i][j] = s_i·H_b[j][i].
      std::vector<int8_t> s(static_cast<size_t>(b));
      bool ok = true;
      for (int64_t i = 0; i < b && ok; ++i) {
        const double si = tp[i * b] * (*h)(0, i);
        ok = si == 1.0 || si == -1.0;
        s[static_cast<size_t>(i)] = static_cast<int8_t>(si);
        for (int64_t j = 0; j < b && ok; ++j) ok = tp[i * b + j] == si * (*h)(j, i);
      }
      if (ok) {
        QB_ASSIGN_OR_RETURN(r.spec_, HadamardSpec::create(size, b, std::move(s), backend));
        return r;
      }
    }
  }
  // Dense: Q_b = T/√b, which must be orthogonal.
  auto q = t / std::sqrt(static_cast<double>(b));
  const double err = (at::matmul(q, q.t()) - at::eye(b, at::kDouble)).abs().max().item<double>();
  if (!(err <= 1e-4))
    return invalid_argument("transform weight " + shape_string(weight) + " is not orthogonal: max |T·Tᵀ/" +
                            std::to_string(b) + " - I| = " + std::to_string(err));
  r.dense_ = q.contiguous();
  return r;
}

at::Tensor Rotation::apply_dense(const at::Tensor& x, bool inverse) const {
  TORCH_CHECK(x.is_floating_point() && x.dim() >= 1 && x.size(-1) == size_,
              "rotation: need a floating tensor with last dimension ", size_);
  const auto dtype = x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  at::Tensor q;
  {
    std::lock_guard<std::mutex> lock(cache_->mu);
    auto& t = cache_->tensors[{static_cast<int>(x.device().type()), static_cast<int>(x.device().index()),
                               static_cast<int>(dtype), inverse}];
    if (!t.defined()) t = (inverse ? dense_.t() : dense_).to(x.device(), dtype).contiguous();
    q = t;
  }
  auto y = at::matmul(x.to(dtype).reshape({-1, size_ / block_, block_}), q);
  return y.reshape(x.sizes()).to(x.scalar_type());
}

at::Tensor Rotation::apply(const at::Tensor& x) const {
  return spec_ ? hadamard_transform(x, *spec_) : apply_dense(x, false);
}

at::Tensor Rotation::apply_inverse(const at::Tensor& x) const {
  return spec_ ? hadamard_transform_inverse(x, *spec_) : apply_dense(x, true);
}

at::Tensor Rotation::block_matrix() const { return spec_ ? spec_->block_matrix() : dense_.clone(); }

at::Tensor Rotation::weight() const {
  return spec_ ? spec_->block_matrix(/*normalized=*/false) : dense_ * std::sqrt(static_cast<double>(block_));
}

}  // namespace qb::hadamard
