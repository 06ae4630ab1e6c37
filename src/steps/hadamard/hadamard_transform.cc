// Fast Hadamard transform (butterfly or factorized GEMM) and its dense reference.
//
// Layout legend: a row of x is n/b blocks of b = k·p values; one block is viewed as a k×p matrix
// U (value a·p + c at U[a][c]), and H_b·u = H_k·U·S_p (S_p symmetric) — the p part along the last
// axis, the k part along the one before it.
#include "steps/hadamard/hadamard_transform.h"

#include <bit>
#include <cmath>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "steps/hadamard/hadamard_matrix.h"

namespace qb::hadamard {

struct HadamardSpec::Cache {
  std::mutex mu;
  // (device type, device index, dtype, what) -> tensor. what: 0 = H_k/√b, 1 = H_kᵀ/√b,
  // 2 = signs, 3+j = Sylvester factor of order 2^j.
  std::map<std::tuple<int, int, int, int>, at::Tensor> tensors;
};

namespace {

at::Tensor sign_tensor(const std::vector<int8_t>& v, std::vector<int64_t> shape) {
  auto t = at::empty(shape, at::kDouble);
  double* p = t.data_ptr<double>();
  for (size_t i = 0; i < v.size(); ++i) p[i] = v[i];
  return t;
}

at::ScalarType compute_dtype(const at::Tensor& x) {
  return x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
}

// y[l, i, r] = Σ_j m[i, j]·x[l, j, r] for x viewed as [L, f, R].
at::Tensor apply_axis(const at::Tensor& x, int64_t L, int64_t f, int64_t R, const at::Tensor& m) {
  if (R == 1) return at::matmul(x.reshape({L, f}), m.t());
  return at::matmul(m, x.reshape({L, f, R}));
}

at::Tensor butterfly(at::Tensor x, int64_t M, int64_t p) {
  for (int64_t h = 1; h < p; h *= 2) {
    auto v = x.view({M, p / (2 * h), 2, h});
    auto a = v.select(2, 0), b = v.select(2, 1);
    auto y = at::empty_like(v);
    auto y0 = y.select(2, 0), y1 = y.select(2, 1);
    at::add_out(y0, a, b);
    at::sub_out(y1, a, b);
    x = y.view({M, p});
  }
  return x;
}

// Sylvester factor orders for p under kGemm: as equal as possible, each ≤ kGemmMaxFactor.
std::vector<int64_t> gemm_factors(int64_t p) {
  const int m = std::countr_zero(static_cast<uint64_t>(p));
  const int max_bits = std::countr_zero(static_cast<uint64_t>(kGemmMaxFactor));
  std::vector<int64_t> f;
  if (m == 0) return f;
  const int parts = (m + max_bits - 1) / max_bits;
  for (int i = 0; i < parts; ++i) f.push_back(int64_t{1} << (m / parts + (i < m % parts ? 1 : 0)));
  return f;
}

}  // namespace

const char* backend_name(Backend b) { return b == Backend::kButterfly ? "butterfly" : "gemm"; }

Result<HadamardSpec> HadamardSpec::create(int64_t size, int64_t block_size,
                                          std::vector<int8_t> signs, Backend backend) {
  if (size <= 0) return invalid_argument("Hadamard transform size " + std::to_string(size) + " must be positive");
  if (block_size == 0) block_size = size;
  if (block_size < 0 || size % block_size != 0)
    return invalid_argument("Hadamard block size " + std::to_string(block_size) +
                            " does not divide the transform size " + std::to_string(size));
  QB_ASSIGN_OR_RETURN(Factorization f, factorize(block_size));
  if (!signs.empty()) {
    if (static_cast<int64_t>(signs.size()) != block_size)
      return invalid_argument("Hadamard signs: " + std::to_string(signs.size()) +
                              " values for block size " + std::to_string(block_size));
    for (int8_t s : signs)
      if (s != 1 && s != -1) return invalid_argument("Hadamard signs must be +1 or -1, got " + std::to_string(s));
  }
  HadamardSpec spec;
  spec.size_ = size;
  spec.block_ = block_size;
  spec.base_ = f.base;
  spec.pow2_ = f.pow2;
  if (f.base > 1) {
    QB_ASSIGN_OR_RETURN(SignMatrix h, base_matrix(f.base));
    spec.base_signs_ = h.data();
  }
  spec.signs_ = std::move(signs);
  spec.backend_ = backend;
  spec.cache_ = std::make_shared<Cache>();
  return spec;
}

HadamardSpec HadamardSpec::with_backend(Backend b) const {
  HadamardSpec s = *this;
  s.backend_ = b;
  s.cache_ = std::make_shared<Cache>();
  return s;
}

at::Tensor HadamardSpec::block_matrix(bool normalized) const {
  // Independent of the fast path: materialize H_b = H_k ⊗ S_p as integers, then D·H_bᵀ/√b.
  auto h = hadamard_matrix(block_);  // cannot fail: create() checked the factorization
  auto hb = sign_tensor(h->data(), {block_, block_});
  auto q = hb.t().contiguous();
  if (!signs_.empty()) q = q * sign_tensor(signs_, {block_, 1});
  return normalized ? q / std::sqrt(static_cast<double>(block_)) : q;
}

at::Tensor HadamardSpec::matrix() const {
  const auto b = block_matrix();
  std::vector<at::Tensor> blocks(static_cast<size_t>(size_ / block_), b);
  return at::block_diag(blocks);
}

// The fast path. inverse = false: x @ Q; true: x @ Qᵀ (H_kᵀ, then the signs).
at::Tensor apply_hadamard(const at::Tensor& x, const HadamardSpec& spec, bool inverse) {
  TORCH_CHECK(x.is_floating_point(), "hadamard_transform: need a floating-point tensor, got ",
              x.scalar_type());
  TORCH_CHECK(x.dim() >= 1 && x.size(-1) == spec.size_, "hadamard_transform: last dimension ",
              x.dim() ? x.size(-1) : 0, " != transform size ", spec.size_);
  const auto dtype = compute_dtype(x);
  const int64_t b = spec.block_, k = spec.base_, p = spec.pow2_;
  const int64_t rows = x.numel() / b;  // blocks in the whole tensor
  const double scale = 1.0 / std::sqrt(static_cast<double>(b));

  auto cached = [&](int what, auto make) {
    std::lock_guard<std::mutex> lock(spec.cache_->mu);
    auto key = std::make_tuple(static_cast<int>(x.device().type()), static_cast<int>(x.device().index()),
                               static_cast<int>(dtype), what);
    auto& t = spec.cache_->tensors[key];
    if (!t.defined()) t = make().to(x.device(), dtype).contiguous();
    return t;
  };
  auto signs = [&] { return cached(2, [&] { return sign_tensor(spec.signs_, {b}); }); };

  at::Tensor y = x.to(dtype).reshape({rows, b});
  if (spec.has_signs() && !inverse) y = y * signs();
  bool scaled = false;

  // The 2^m part along the last axis (S_p is symmetric, so forward and inverse agree).
  if (p > 1) {
    if (spec.backend_ == Backend::kButterfly) {
      y = butterfly(y.contiguous(), rows * k, p);
    } else {
      const auto factors = gemm_factors(p);
      int64_t before = rows * k, after = p;
      for (int64_t f : factors) {
        after /= f;
        const int bits = std::countr_zero(static_cast<uint64_t>(f));
        const bool fold_scale = !scaled && k == 1;  // the first factor carries 1/√b when k = 1
        auto m = cached(3 + bits + (fold_scale ? 64 : 0), [&] {
          auto s = sign_tensor(sylvester(f).data(), {f, f});
          return fold_scale ? s * scale : s;
        });
        scaled = scaled || fold_scale;
        y = apply_axis(y, before, f, after, m);
        before *= f;
      }
    }
  }
  // The k part: H_k (or H_kᵀ) along the axis before the last, with 1/√b folded in.
  if (k > 1) {
    auto hk = cached(inverse ? 1 : 0, [&] {
      auto h = sign_tensor(spec.base_signs_, {k, k});
      return (inverse ? h.t() : h) * scale;
    });
    y = apply_axis(y, rows, k, p, hk);
    scaled = true;
  }
  if (!scaled) y = y * scale;
  y = y.reshape({rows, b});
  if (spec.has_signs() && inverse) y = y * signs();
  return y.reshape(x.sizes()).to(x.scalar_type());
}

at::Tensor hadamard_transform(const at::Tensor& x, const HadamardSpec& spec) {
  return apply_hadamard(x, spec, false);
}

at::Tensor hadamard_transform_inverse(const at::Tensor& x, const HadamardSpec& spec) {
  return apply_hadamard(x, spec, true);
}

at::Tensor hadamard_transform_reference(const at::Tensor& x, const HadamardSpec& spec) {
  TORCH_CHECK(x.is_floating_point() && x.dim() >= 1 && x.size(-1) == spec.size(),
              "hadamard_transform_reference: need a floating tensor with last dimension ", spec.size());
  const int64_t b = spec.block_size();
  auto q = spec.block_matrix().to(x.device());
  auto xb = x.to(at::kDouble).reshape({-1, spec.size() / b, b});
  return at::matmul(xb, q).reshape(x.sizes());
}

}  // namespace qb::hadamard
