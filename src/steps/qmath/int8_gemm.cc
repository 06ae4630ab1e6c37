// Int8 kernels for the W8A8 runtime (see int8_gemm.h).
#include "steps/qmath/int8_gemm.h"

namespace qb::qmath {
namespace {

at::Tensor saturate_rint_int8(const at::Tensor& v) {
  // cvt.rni.sat.s8.f32: round half to even, then saturate to [-128, 127].
  return at::clamp(at::round(v), -128, 127).to(at::kChar);
}

std::int64_t round_up(std::int64_t v, std::int64_t m) { return (v + m - 1) / m * m; }

}  // namespace

PerTokenInt8 quantize_per_token_dynamic(const at::Tensor& x) {
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), "quantize_per_token_dynamic: floating x");
  auto xf = x.to(at::kFloat);
  auto absmax = at::amax(at::abs(xf), {-1}, true);  // [..., 1]
  // Tensor / tensor divisions: IEEE division on every device, as vLLM's kernel divides (a CUDA
  // division by a Scalar would multiply by its reciprocal instead and differ in the last bit).
  auto c127 = at::full_like(absmax, 127.0f);
  auto scale = absmax / c127;
  // 127 / absmax; a zero row would give inf and 0 * inf = NaN: use 0 there (codes 0).
  auto inv = at::where(absmax > 0, c127 / absmax, at::zeros_like(absmax));
  return {saturate_rint_int8(xf * inv), scale};
}

at::Tensor quantize_per_tensor_static(const at::Tensor& x, const at::Tensor& scale) {
  return saturate_rint_int8(x.to(at::kFloat) / scale.to(at::kFloat));
}

at::Tensor int8_matmul(const at::Tensor& a, const at::Tensor& b) {
  TORCH_CHECK(a.scalar_type() == at::kChar && b.scalar_type() == at::kChar,
              "int8_matmul: int8 operands expected");
  TORCH_CHECK(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(1),
              "int8_matmul: a [M, K] and b [N, K] expected, got ", a.sizes(), " and ", b.sizes());
  TORCH_CHECK(a.device() == b.device(), "int8_matmul: operands on different devices");
  const auto M = a.size(0), K = a.size(1), N = b.size(0);
  if (M == 0 || N == 0 || K == 0) return at::zeros({M, N}, a.options().dtype(at::kInt));
  if (a.is_cuda()) {
    // at::_int_mm (cuBLASLt) needs M > 16 and K, N multiples of 8; zero padding is exact.
    const auto Mp = std::max<std::int64_t>(M, 17), Kp = round_up(K, 8), Np = round_up(N, 8);
    at::Tensor ap = a, bp = b;
    if (Mp != M || Kp != K) ap = at::constant_pad_nd(a, {0, Kp - K, 0, Mp - M});
    if (Np != N || Kp != K) bp = at::constant_pad_nd(b, {0, Kp - K, 0, Np - N});
    auto out = at::_int_mm(ap.contiguous(), bp.contiguous().t());
    if (Mp != M || Np != N) out = out.narrow(0, 0, M).narrow(1, 0, N).contiguous();
    return out;
  }
  // CPU: float64 products of int8 values and their sums are exact integers below 2^53.
  auto out = at::mm(a.to(at::kDouble), b.to(at::kDouble).t());
  return out.to(at::kInt);
}

at::Tensor reference_int8_matmul(const at::Tensor& a, const at::Tensor& b) {
  TORCH_CHECK(!a.is_cuda() && !b.is_cuda(), "reference_int8_matmul: CPU only");
  auto ac = a.contiguous(), bc = b.contiguous();
  const auto M = ac.size(0), K = ac.size(1), N = bc.size(0);
  auto out = at::empty({M, N}, ac.options().dtype(at::kInt));
  const auto* pa = ac.data_ptr<std::int8_t>();
  const auto* pb = bc.data_ptr<std::int8_t>();
  auto* po = out.data_ptr<std::int32_t>();
  for (std::int64_t m = 0; m < M; ++m)
    for (std::int64_t n = 0; n < N; ++n) {
      std::int64_t s = 0;
      for (std::int64_t k = 0; k < K; ++k) s += std::int64_t{pa[m * K + k]} * pb[n * K + k];
      po[m * N + n] = static_cast<std::int32_t>(s);
    }
  return out;
}

at::Tensor scaled_int8_linear(const at::Tensor& a_q, const at::Tensor& a_scale,
                              const at::Tensor& w_q, const at::Tensor& w_scale,
                              const at::Tensor& bias, at::ScalarType out_dtype) {
  auto acc = int8_matmul(a_q, w_q).to(at::kFloat);                   // [M, N]
  auto y = acc * a_scale.to(at::kFloat).reshape({-1, 1}).expand({acc.size(0), 1}) *
           w_scale.to(at::kFloat).reshape({1, -1});
  if (bias.defined()) y = y + bias.to(at::kFloat);
  return y.to(out_dtype);
}

}  // namespace qb::qmath
