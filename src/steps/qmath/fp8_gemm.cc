// FP8 activation quantization (vLLM's conventions) and the exact scaled-GEMM emulation (see
// fp8_gemm.h).
#include "steps/qmath/fp8_gemm.h"

#include <optional>

#include "steps/qmath/fp8.h"

#ifdef QB_FP8_KERNELS
#include <c10/cuda/CUDAStream.h>

#include "steps/qmath/fp8_quant_kernels.h"
#endif

namespace qb::qmath {
namespace {

#ifdef QB_FP8_KERNELS
// The one-launch CUDA kernels (fp8_quant_kernels.h) take x [M, K] on a GPU in fp32/bf16/fp16;
// they compute what the ATen ops below compute, bit for bit (Fp8Cuda tests).
bool use_kernels(const at::Tensor& x) {
  const auto t = x.scalar_type();
  return x.is_cuda() && x.dim() == 2 && x.numel() > 0 &&
         (t == at::kFloat || t == at::kBFloat16 || t == at::kHalf);
}

kernels::Fp8InDtype kernel_dtype(const at::Tensor& x) {
  return x.scalar_type() == at::kFloat      ? kernels::Fp8InDtype::kF32
         : x.scalar_type() == at::kBFloat16 ? kernels::Fp8InDtype::kBf16
                                             : kernels::Fp8InDtype::kFp16;
}

// Dynamic codes and scales [M, K / group] through the kernel (group == K: per token).
Fp8Quantized quantize_dynamic_kernel(const at::Tensor& x, std::int64_t group) {
  const at::Tensor xc = x.contiguous();
  at::Tensor q = at::empty(xc.sizes(), xc.options().dtype(at::kFloat8_e4m3fn));
  at::Tensor s = at::empty({xc.size(0), xc.size(1) / group}, xc.options().dtype(at::kFloat));
  const int rc = kernels::fp8_quantize_dynamic(kernel_dtype(xc), xc.data_ptr(), q.data_ptr(),
                                               s.data_ptr<float>(), xc.size(0), xc.size(1), group,
                                               c10::cuda::getCurrentCUDAStream().stream());
  TORCH_CHECK(rc == 0, "fp8 activation quantization kernel failed: CUDA error ", rc);
  return {q, s};
}
#endif

// max(absmax / 448, 1/(448·512)) in fp32, over the last dim of x (kept).
at::Tensor dynamic_scale(const at::Tensor& x) {
  // x.abs().max(dim=-1) in x's dtype (exact), then .to(float32) / _FP8_MAX, clamp(min=...).
  auto absmax = at::amax(at::abs(x), {-1}, true).to(at::kFloat);
  return at::clamp_min(absmax / at::full_like(absmax, kFp8Max), kFp8MinScalingFactor);
}

}  // namespace

Fp8Quantized fp8_quantize_static(const at::Tensor& x, const at::Tensor& input_scale) {
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), "fp8_quantize_static: floating x");
  // QuantFP8.forward_native (static): x.to(float32) * scale.to(float32).reciprocal().
  const at::Tensor s = input_scale.to(at::kFloat).reshape({1});
#ifdef QB_FP8_KERNELS
  if (use_kernels(x) && s.is_cuda()) {
    const at::Tensor xc = x.contiguous(), sc = s.contiguous();
    at::Tensor q = at::empty(xc.sizes(), xc.options().dtype(at::kFloat8_e4m3fn));
    const int rc = kernels::fp8_quantize_static(kernel_dtype(xc), xc.data_ptr(), q.data_ptr(),
                                                sc.data_ptr<float>(), xc.size(0), xc.size(1),
                                                c10::cuda::getCurrentCUDAStream().stream());
    TORCH_CHECK(rc == 0, "fp8 activation quantization kernel failed: CUDA error ", rc);
    return {q, sc};
  }
#endif
  return {round_to_fp8(x.to(at::kFloat) * at::reciprocal(s)), s};
}

Fp8Quantized fp8_quantize_per_token_dynamic(const at::Tensor& x) {
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), "fp8_quantize_per_token_dynamic: floating x");
  // QuantFP8.forward_native (dynamic, GroupShape.PER_TOKEN).
#ifdef QB_FP8_KERNELS
  if (use_kernels(x)) return quantize_dynamic_kernel(x, x.size(1));
#endif
  const at::Tensor s = dynamic_scale(x);  // [M, 1]
  return {round_to_fp8(x.to(at::kFloat) * at::reciprocal(s)), s};
}

Fp8Quantized fp8_quantize_per_group_dynamic(const at::Tensor& x, std::int64_t group_size) {
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), "fp8_quantize_per_group_dynamic: floating x");
  TORCH_CHECK(x.dim() == 2 && group_size > 0 && x.size(1) % group_size == 0,
              "fp8_quantize_per_group_dynamic: x [M, K] with K a multiple of ", group_size,
              ", got ", x.sizes());
  // QuantFP8._quantize_group_native: x.view(-1, G, g); scales = absmax(-1).float() / 448,
  // clamped below; x_grouped / scales (x promoted to fp32).
#ifdef QB_FP8_KERNELS
  if (use_kernels(x) && group_size < x.size(1)) return quantize_dynamic_kernel(x, group_size);
#endif
  const auto g = x.view({x.size(0), x.size(1) / group_size, group_size});  // [M, G, g]
  const at::Tensor s = dynamic_scale(g);                                   // [M, G, 1]
  const at::Tensor q = round_to_fp8(g / s).view({x.size(0), x.size(1)});
  return {q, s.squeeze(-1)};                                               // [M, G]
}

at::Tensor fp8_matmul(const at::Tensor& a, const at::Tensor& b) {
  TORCH_CHECK(a.scalar_type() == at::kFloat8_e4m3fn && b.scalar_type() == at::kFloat8_e4m3fn,
              "fp8_matmul: float8_e4m3fn operands expected");
  TORCH_CHECK(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(1),
              "fp8_matmul: a [M, K] and b [N, K] expected, got ", a.sizes(), " and ", b.sizes());
  TORCH_CHECK(a.device() == b.device(), "fp8_matmul: operands on different devices");
  TORCH_CHECK(a.size(1) < (std::int64_t{1} << 17), "fp8_matmul: K >= 2^17 is not exact in float64");
  // e4m3 values are exact in float64; so are their products (8 significant bits, exponents in
  // [-18, 17]) and every partial sum for K < 2^17: any summation order gives the exact result.
  return at::mm(a.to(at::kDouble), b.to(at::kDouble).t()).to(at::kFloat);
}

at::Tensor reference_fp8_matmul(const at::Tensor& a, const at::Tensor& b) {
  TORCH_CHECK(!a.is_cuda() && !b.is_cuda(), "reference_fp8_matmul: CPU only");
  const auto ad = a.to(at::kDouble).contiguous(), bd = b.to(at::kDouble).contiguous();
  const auto M = ad.size(0), K = ad.size(1), N = bd.size(0);
  auto out = at::empty({M, N}, ad.options());
  const double* pa = ad.data_ptr<double>();
  const double* pb = bd.data_ptr<double>();
  double* po = out.data_ptr<double>();
  for (std::int64_t m = 0; m < M; ++m)
    for (std::int64_t n = 0; n < N; ++n) {
      double s = 0;
      for (std::int64_t k = 0; k < K; ++k) s += pa[m * K + k] * pb[n * K + k];
      po[m * N + n] = s;
    }
  return out.to(at::kFloat);
}

Fp8GemmBackend fp8_gemm_backend(at::Device device, std::int64_t K, std::int64_t N,
                                std::int64_t bn, std::int64_t bk) {
  if (!device.is_cuda()) return Fp8GemmBackend::kExact;
  if (K % 16 != 0 || N % 16 != 0) return Fp8GemmBackend::kExact;
  if (bn != 0 || bk != 0) {  // cuBLASLt's FP8 block scaling: 1x128 activations, 128x128 weights
    if (bn != 128 || bk != 128 || K % 128 != 0 || N % 128 != 0) return Fp8GemmBackend::kExact;
  }
  return Fp8GemmBackend::kScaledMm;
}

const char* fp8_gemm_backend_name(Fp8GemmBackend b) {
  return b == Fp8GemmBackend::kScaledMm ? "torch._scaled_mm" : "exact emulation";
}

namespace {

// _scaled_mm's bias must be bf16/fp16 and match a non-fp32 output; otherwise it is added after.
std::optional<at::Tensor> fused_bias(const at::Tensor& bias, at::ScalarType out_dtype) {
  if (!bias.defined() || out_dtype == at::kFloat) return std::nullopt;
  return bias.to(out_dtype);
}

at::Tensor add_unfused_bias(at::Tensor y, const at::Tensor& bias, at::ScalarType out_dtype) {
  if (!bias.defined() || out_dtype != at::kFloat) return y;
  return y + bias.to(at::kFloat);
}

at::Tensor scaled_mm_cuda(const at::Tensor& a_q, const at::Tensor& a_scale, const at::Tensor& w_q,
                          const at::Tensor& w_scale, const at::Tensor& bias,
                          at::ScalarType out_dtype) {
  const auto M = a_q.size(0), N = w_q.size(0);
  at::Tensor sa = a_scale.to(at::kFloat), sb = w_scale.to(at::kFloat);
  const at::Tensor b = w_q.t();  // [K, N] column-major (w_q is [N, K] row-major)
  if (sa.numel() != 1 || sb.numel() != 1) {
    // RowWise: scale_a [M, 1], scale_b [1, N], contiguous fp32 (a per-tensor one repeated).
    sa = sa.reshape({-1, 1}).expand({M, 1}).contiguous();
    sb = sb.reshape({1, -1}).expand({1, N}).contiguous();
  }
  at::Tensor y = at::_scaled_mm(a_q.contiguous(), b, sa, sb, fused_bias(bias, out_dtype),
                                std::nullopt, out_dtype, /*use_fast_accum=*/false);
  return add_unfused_bias(std::move(y), bias, out_dtype);
}

at::Tensor block_scaled_mm_cuda(const at::Tensor& a_q, const at::Tensor& a_scale,
                                const at::Tensor& w_q, const at::Tensor& w_scale,
                                const at::Tensor& bias, at::ScalarType out_dtype) {
  // (BlockWise1x128, BlockWise128x128): scale_a [M, K/128] outer-dim-major (stride [1, M]);
  // scale_b is checked transposed, [N/128, K/128] row-major, i.e. w_scale as stored.
  const at::Tensor sa = a_scale.to(at::kFloat).t().contiguous().t();
  const at::Tensor sb = w_scale.to(at::kFloat).contiguous().t();
  at::Tensor y = at::_scaled_mm(a_q.contiguous(), w_q.t(), sa, sb, fused_bias(bias, out_dtype),
                                std::nullopt, out_dtype, /*use_fast_accum=*/false);
  return add_unfused_bias(std::move(y), bias, out_dtype);
}

}  // namespace

at::Tensor fp8_scaled_mm(const at::Tensor& a_q, const at::Tensor& a_scale, const at::Tensor& w_q,
                         const at::Tensor& w_scale, const at::Tensor& bias,
                         at::ScalarType out_dtype) {
  if (a_q.device() == w_q.device() &&
      fp8_gemm_backend(w_q.device(), w_q.size(1), w_q.size(0)) == Fp8GemmBackend::kScaledMm)
    return scaled_mm_cuda(a_q, a_scale, w_q, w_scale, bias, out_dtype);
  return fp8_scaled_mm_exact(a_q, a_scale, w_q, w_scale, bias, out_dtype);
}

at::Tensor fp8_block_scaled_mm(const at::Tensor& a_q, const at::Tensor& a_scale,
                               const at::Tensor& w_q, const at::Tensor& w_scale, std::int64_t bn,
                               std::int64_t bk, const at::Tensor& bias, at::ScalarType out_dtype) {
  if (a_q.device() == w_q.device() &&
      fp8_gemm_backend(w_q.device(), w_q.size(1), w_q.size(0), bn, bk) == Fp8GemmBackend::kScaledMm)
    return block_scaled_mm_cuda(a_q, a_scale, w_q, w_scale, bias, out_dtype);
  return fp8_block_scaled_mm_exact(a_q, a_scale, w_q, w_scale, bn, bk, bias, out_dtype);
}

at::Tensor fp8_scaled_mm_exact(const at::Tensor& a_q, const at::Tensor& a_scale,
                               const at::Tensor& w_q, const at::Tensor& w_scale,
                               const at::Tensor& bias, at::ScalarType out_dtype) {
  auto acc = fp8_matmul(a_q, w_q);  // [M, N] fp32
  auto y = acc * a_scale.to(at::kFloat).reshape({-1, 1}).expand({acc.size(0), 1}) *
           w_scale.to(at::kFloat).reshape({1, -1});
  if (bias.defined()) y = y + bias.to(at::kFloat);
  return y.to(out_dtype);
}

at::Tensor fp8_block_scaled_mm_exact(const at::Tensor& a_q, const at::Tensor& a_scale,
                                     const at::Tensor& w_q, const at::Tensor& w_scale,
                                     std::int64_t bn, std::int64_t bk, const at::Tensor& bias,
                                     at::ScalarType out_dtype) {
  const auto M = a_q.size(0), K = a_q.size(1), N = w_q.size(0);
  TORCH_CHECK(bn > 0 && bk > 0 && K % bk == 0 && N % bn == 0,
              "fp8_block_scaled_mm: blocks [", bn, ", ", bk, "] must divide [", N, ", ", K, "]");
  TORCH_CHECK(a_scale.dim() == 2 && a_scale.size(0) == M && a_scale.size(1) == K / bk,
              "fp8_block_scaled_mm: a_scale must be [", M, ", ", K / bk, "], got ", a_scale.sizes());
  TORCH_CHECK(w_scale.dim() == 2 && w_scale.size(0) == N / bn && w_scale.size(1) == K / bk,
              "fp8_block_scaled_mm: w_scale must be [", N / bn, ", ", K / bk, "], got ",
              w_scale.sizes());
  const at::Tensor as = a_scale.to(at::kFloat);
  const at::Tensor ws = w_scale.to(at::kFloat).repeat_interleave(bn, 0);  // [N, K/bk]
  auto acc = at::zeros({M, N}, as.options());
  for (std::int64_t g = 0; g < K / bk; ++g) {
    // One k-block: its exact partial sum times a_s[:, g] and w_s[:, g], added in fp32.
    const auto part = fp8_matmul(a_q.narrow(1, g * bk, bk), w_q.narrow(1, g * bk, bk));
    acc += part * as.narrow(1, g, 1) * ws.narrow(1, g, 1).reshape({1, N});
  }
  if (bias.defined()) acc = acc + bias.to(at::kFloat);
  return acc.to(out_dtype);
}

}  // namespace qb::qmath
