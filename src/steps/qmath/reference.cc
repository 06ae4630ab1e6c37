// Reference RTN and GPTQ as plain loops (see reference.h). Element type T is the weight's dtype;
// every operation the tensor code performs in T is emulated here by computing in float (double
// for T = double) and rounding back to T, which is what PyTorch's CPU kernels do for bf16/fp16.
#include "steps/qmath/reference.h"

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

namespace qb::qmath {
namespace {

template <typename T>
using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;

template <typename T>
Acc<T> up(T v) { return static_cast<Acc<T>>(v); }

template <typename T>
double eps_of() {
  if constexpr (std::is_same_v<T, at::BFloat16>) return 0.0078125;
  else if constexpr (std::is_same_v<T, at::Half>) return 0.0009765625;
  else return std::numeric_limits<T>::epsilon();
}

// round-half-to-even (the default FP environment rounding mode, as torch.round).
double rne(double v) { return std::nearbyint(v); }

// Qparams of one group of values (calculate_qparams for one element of the qparam shape).
template <typename T>
void group_qparams(const std::vector<T>& vals, const QuantArgs& a, T& scale, std::int8_t& zp) {
  T mn = vals[0], mx = vals[0];
  for (T v : vals) {
    if (up(v) < up(mn)) mn = v;
    if (up(v) > up(mx)) mx = v;
  }
  if (up(mn) > 0) mn = T(0);
  if (up(mx) < 0) mx = T(0);
  const double range = static_cast<double>(a.qmax() - a.qmin());
  double zpv = 0;
  if (a.symmetric) {
    T pos = std::max(std::abs(up(mn)), std::abs(up(mx))) == std::abs(up(mn)) ? T(std::abs(up(mn)))
                                                                          : T(std::abs(up(mx)));
    T half = T(up(T(static_cast<Acc<T>>(range))) / Acc<T>(2));
    scale = T(up(pos) / up(half));
  } else {
    T diff = T(up(mx) - up(mn));
    scale = T(up(diff) / up(T(static_cast<Acc<T>>(range))));
    T ratio = T(up(mn) / up(scale));
    T z = T(up(T(static_cast<Acc<T>>(a.qmin()))) - up(ratio));
    double zd = static_cast<double>(up(z));
    if (std::isnan(zd)) zd = 0;
    zpv = std::clamp(zd, static_cast<double>(a.qmin()), static_cast<double>(a.qmax()));
  }
  if (static_cast<double>(up(scale)) == 0.0) scale = T(static_cast<Acc<T>>(eps_of<T>()));
  zp = static_cast<std::int8_t>(rne(std::clamp(zpv, -128.0, 127.0)));
}

// quantize(): x / scale in float (double for T = double), + zp, clamp, round half to even.
template <typename T>
std::int8_t quantize_one(T x, T scale, std::int8_t zp, const QuantArgs& a) {
  Acc<T> v = up(x) / up(scale);
  v += static_cast<Acc<T>>(zp);
  double d = std::clamp(static_cast<double>(v), static_cast<double>(a.qmin()),
                        static_cast<double>(a.qmax()));
  return static_cast<std::int8_t>(rne(d));
}

// Number of scale columns and the scale column of weight column j.
std::int64_t scale_cols(const QuantArgs& a, std::int64_t cols) {
  return a.strategy == Strategy::kGroup ? cols / a.group_size : 1;
}
std::int64_t scale_col(const QuantArgs& a, std::int64_t j) {
  return a.strategy == Strategy::kGroup ? j / a.group_size : 0;
}

// Codes of a dense [rows, cols] weight given its qparams (per-tensor: one scale).
template <typename T>
at::Tensor codes_of(const T* p, std::int64_t rows, std::int64_t cols, const T* ps,
                    const std::int8_t* pz, const QuantArgs& a, at::TensorOptions opts) {
  const bool per_tensor = a.strategy == Strategy::kTensor;
  const auto ncol = scale_cols(a, cols);
  auto q = at::empty({rows, cols}, opts.dtype(at::kChar));
  auto* pq = q.data_ptr<std::int8_t>();
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j) {
      const auto k = per_tensor ? 0 : i * ncol + scale_col(a, j);
      pq[i * cols + j] = quantize_one(p[i * cols + j], ps[k], pz[k], a);
    }
  return q;
}

template <typename T>
QuantizedWeight rtn_typed(const at::Tensor& w_in, const QuantArgs& a) {
  auto w = w_in.contiguous();
  const auto rows = w.size(0), cols = w.size(1);
  const T* p = w.data_ptr<T>();
  const auto ncol = scale_cols(a, cols);
  const bool per_tensor = a.strategy == Strategy::kTensor;
  const auto srows = per_tensor ? 1 : rows;
  auto scale = at::empty({srows, per_tensor ? 1 : ncol}, w.options());
  auto zp = at::empty({srows, per_tensor ? 1 : ncol}, w.options().dtype(at::kChar));
  T* ps = scale.data_ptr<T>();
  auto* pz = zp.data_ptr<std::int8_t>();
  for (std::int64_t r = 0; r < srows; ++r)
    for (std::int64_t g = 0; g < (per_tensor ? 1 : ncol); ++g) {
      std::vector<T> vals;
      for (std::int64_t i = 0; i < rows; ++i) {
        if (!per_tensor && i != r) continue;
        for (std::int64_t j = 0; j < cols; ++j)
          if (per_tensor || scale_col(a, j) == g) vals.push_back(p[i * cols + j]);
      }
      group_qparams(vals, a, ps[r * (per_tensor ? 1 : ncol) + g],
                    pz[r * (per_tensor ? 1 : ncol) + g]);
    }
  auto q = codes_of(p, rows, cols, ps, pz, a, w.options());
  if (per_tensor) {
    scale = scale.reshape({1});
    zp = zp.reshape({1});
  }
  return {q, {scale, zp}};
}

Status check_weight(const at::Tensor& w, const QuantArgs& a, const char* who) {
  QB_TRY(check_int_args(a));
  if (w.dim() != 2 || w.is_cuda())
    return invalid_argument(std::string(who) + ": weight must be a 2-D CPU tensor");
  if (a.strategy == Strategy::kToken)
    return invalid_argument(std::string(who) + ": token strategy cannot be applied to weights");
  if (a.strategy == Strategy::kGroup && w.size(1) % a.group_size != 0)
    return invalid_argument(std::string(who) + ": columns not divisible by group_size");
  switch (w.scalar_type()) {
    case at::kFloat: case at::kDouble: case at::kBFloat16: case at::kHalf: return Status::ok();
    default: return invalid_argument(std::string(who) + ": unsupported weight dtype");
  }
}

// Textbook Cholesky, lower: A = L·Lᵀ. Returns false when A is not positive definite.
bool cholesky_lower(std::vector<double>& A, std::int64_t n) {
  for (std::int64_t j = 0; j < n; ++j) {
    double d = A[j * n + j];
    for (std::int64_t k = 0; k < j; ++k) d -= A[j * n + k] * A[j * n + k];
    if (!(d > 0)) return false;
    d = std::sqrt(d);
    A[j * n + j] = d;
    for (std::int64_t i = j + 1; i < n; ++i) {
      double s = A[i * n + j];
      for (std::int64_t k = 0; k < j; ++k) s -= A[i * n + k] * A[j * n + k];
      A[i * n + j] = s / d;
    }
    for (std::int64_t k = j + 1; k < n; ++k) A[j * n + k] = 0;
  }
  return true;
}

template <typename T>
Result<GptqResult> gptq_typed(const at::Tensor& weight, const at::Tensor& hessian,
                              const QuantArgs& a, const GptqOptions& o) {
  QB_ASSIGN_OR_RETURN(QuantizedWeight rq, reference_rtn(weight, a));  // scales: same observer
  const auto rows = weight.size(0), n = weight.size(1);
  auto wc = weight.contiguous();
  const T* pw = wc.data_ptr<T>();
  std::vector<float> W(rows * n);
  for (std::int64_t i = 0; i < rows * n; ++i) W[i] = static_cast<float>(up(pw[i]));
  auto hc = hessian.to(at::kDouble).contiguous();
  std::vector<double> H(hc.data_ptr<double>(), hc.data_ptr<double>() + n * n);

  // Column order: descending diag(H) (stable; the fast path's argsort is not, which only
  // matters for equal diagonals).
  std::vector<std::int64_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  if (a.actorder == ActOrder::kWeight)
    std::stable_sort(perm.begin(), perm.end(),
                     [&](std::int64_t x, std::int64_t y) { return H[x * n + x] > H[y * n + y]; });
  std::vector<double> Hp(n * n);
  std::vector<float> Wp(rows * n);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) Hp[i * n + j] = H[perm[i] * n + perm[j]];
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t j = 0; j < n; ++j) Wp[r * n + j] = W[r * n + perm[j]];

  double mean = 0;
  for (std::int64_t j = 0; j < n; ++j) {
    if (Hp[j * n + j] == 0) {
      Hp[j * n + j] = 1;
      for (std::int64_t r = 0; r < rows; ++r) Wp[r * n + j] = 0;
    }
    mean += Hp[j * n + j];
  }
  mean /= static_cast<double>(n);
  for (std::int64_t j = 0; j < n; ++j) Hp[j * n + j] += o.dampening_frac * mean;

  // U: upper Cholesky factor of H⁻¹ (or I when H is not positive definite).
  std::vector<double> U(n * n, 0.0);
  bool fallback = !cholesky_lower(Hp, n);
  if (!fallback) {
    // Linv = L⁻¹ (lower), H⁻¹ = Linvᵀ·Linv, then U = chol(H⁻¹)ᵀ.
    std::vector<double> Li(n * n, 0.0);
    for (std::int64_t j = 0; j < n; ++j) {
      Li[j * n + j] = 1.0 / Hp[j * n + j];
      for (std::int64_t i = j + 1; i < n; ++i) {
        double s = 0;
        for (std::int64_t k = j; k < i; ++k) s -= Hp[i * n + k] * Li[k * n + j];
        Li[i * n + j] = s / Hp[i * n + i];
      }
    }
    std::vector<double> Hi(n * n, 0.0);
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (std::int64_t k = std::max(i, j); k < n; ++k) s += Li[k * n + i] * Li[k * n + j];
        Hi[i * n + j] = s;
      }
    if (!cholesky_lower(Hi, n)) return internal_error("reference_gptq: H⁻¹ not positive definite");
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < n; ++j) U[i * n + j] = Hi[j * n + i];
  } else {
    for (std::int64_t j = 0; j < n; ++j) U[j * n + j] = 1;
  }

  const auto ncol = scale_cols(a, n);
  const bool per_tensor = a.strategy == Strategy::kTensor;
  auto sc = rq.qparams.scale.contiguous();
  auto zc = rq.qparams.zero_point.contiguous();
  const T* ps = sc.data_ptr<T>();
  const auto* pz = zc.data_ptr<std::int8_t>();
  double loss = 0;
  for (std::int64_t j = 0; j < n; ++j) {
    const auto orig = perm[j];
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto k = per_tensor ? 0 : r * ncol + scale_col(a, orig);
      const T s = ps[k];
      const float zpf = a.symmetric ? 0.0f : static_cast<float>(pz[k]);
      // fake_quantize of an fp32 value with a T scale: divide in fp32, round, dequantize in T.
      float w = Wp[r * n + j];
      float scaled = w / static_cast<float>(up(s));
      if (!a.symmetric) scaled += zpf;
      double rd = rne(std::clamp(static_cast<double>(scaled), static_cast<double>(a.qmin()),
                                 static_cast<double>(a.qmax())));
      T dq = T(static_cast<Acc<T>>(rd));
      if (!a.symmetric) dq = T(up(dq) - up(T(static_cast<Acc<T>>(zpf))));
      dq = T(up(dq) * up(s));
      const float q = static_cast<float>(up(dq));
      const float err = (w - q) / static_cast<float>(U[j * n + j]);
      loss += 0.5 * static_cast<double>(err) * err;
      Wp[r * n + j] = q;
      for (std::int64_t c = j + 1; c < n; ++c)
        Wp[r * n + c] -= err * static_cast<float>(U[j * n + c]);
    }
  }
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t j = 0; j < n; ++j) W[r * n + perm[j]] = Wp[r * n + j];

  GptqResult out;
  auto dense = at::empty({rows, n}, wc.options());
  T* pd = dense.data_ptr<T>();
  for (std::int64_t i = 0; i < rows * n; ++i) pd[i] = T(static_cast<Acc<T>>(W[i]));
  out.q = codes_of(pd, rows, n, ps, pz, a, wc.options());
  out.dequantized = dense;
  out.qparams = rq.qparams;
  out.loss = loss;
  out.rtn_fallback = fallback;
  return out;
}

}  // namespace

Result<QuantizedWeight> reference_rtn(const at::Tensor& weight, const QuantArgs& args) {
  QB_TRY(check_weight(weight, args, "reference_rtn"));
  if (args.observer == ObserverKind::kMse || args.observer == ObserverKind::kMemorylessMse)
    return invalid_argument("reference_rtn: only the min/max weight observer has a reference");
  switch (weight.scalar_type()) {
    case at::kFloat: return rtn_typed<float>(weight, args);
    case at::kDouble: return rtn_typed<double>(weight, args);
    case at::kBFloat16: return rtn_typed<at::BFloat16>(weight, args);
    default: return rtn_typed<at::Half>(weight, args);
  }
}

Result<GptqResult> reference_gptq(const at::Tensor& weight, const at::Tensor& hessian,
                                  const QuantArgs& args, const GptqOptions& opts) {
  QB_TRY(check_weight(weight, args, "reference_gptq"));
  const auto n = weight.size(1);
  if (hessian.dim() != 2 || hessian.size(0) != n || hessian.size(1) != n)
    return invalid_argument("reference_gptq: hessian shape mismatch");
  switch (weight.scalar_type()) {
    case at::kFloat: return gptq_typed<float>(weight, hessian, args, opts);
    case at::kDouble: return gptq_typed<double>(weight, hessian, args, opts);
    case at::kBFloat16: return gptq_typed<at::BFloat16>(weight, hessian, args, opts);
    default: return gptq_typed<at::Half>(weight, hessian, args, opts);
  }
}

}  // namespace qb::qmath
