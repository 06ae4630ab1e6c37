// ATen wrappers of the quantized-projection kernels; without them (QB_QUANT_KERNELS unset)
// available() is false and the callers never reach the rest.
#include "steps/model/quant_ops.h"

#include <vector>

#ifdef QB_QUANT_KERNELS
#include <c10/cuda/CUDAStream.h>

#include "steps/model/quant_kernels.h"
#endif

namespace qb::model::qops {

#ifdef QB_QUANT_KERNELS

namespace {

bool kernel_dtype_ok(at::ScalarType t) { return t == at::kBFloat16 || t == at::kHalf; }

kernels::Dtype kdt(at::ScalarType t) {
  TORCH_CHECK(kernel_dtype_ok(t), "quantized kernels: unsupported dtype ", t);
  return t == at::kBFloat16 ? kernels::Dtype::kBf16 : kernels::Dtype::kFp16;
}

void* stream() { return c10::cuda::getCurrentCUDAStream().stream(); }

void check(int rc, const char* kernel) {
  TORCH_CHECK(rc == 0, "quantized kernel ", kernel, " failed: CUDA error ", rc);
}

const float* scale_ptr(const at::Tensor& s) {
  if (!s.defined()) return nullptr;
  TORCH_CHECK(s.scalar_type() == at::kFloat && s.numel() == 1 && s.is_cuda(),
              "static input scale: expected one fp32 value on the GPU");
  return s.data_ptr<float>();
}

std::vector<int64_t> with_last(at::IntArrayRef sizes, int64_t last) {
  std::vector<int64_t> shape(sizes.begin(), sizes.end());
  shape.back() = last;
  return shape;
}

kernels::WeightBits wbits(int bits) {
  TORCH_CHECK(bits == 8 || bits == 4, "weight-only kernels: ", bits, " bits (8 or 4)");
  return bits == 8 ? kernels::WeightBits::kInt8 : kernels::WeightBits::kInt4;
}

}  // namespace

bool available() { return true; }
bool has_cutlass() { return kernels::int8_gemm_has_cutlass(); }

bool act_quant_ok(const at::Tensor& x) {
  return x.is_cuda() && kernel_dtype_ok(x.scalar_type()) && x.dim() >= 1 &&
         kernels::act_quant_supported(x.size(-1));
}

bool int8_gemm_ok(int64_t rows, int64_t n, int64_t k) {
  return kernels::int8_gemm_supported(rows, n, k);
}

Int8Act quantize(const at::Tensor& x, const at::Tensor& static_scale) {
  const at::Tensor xc = x.contiguous();
  const int64_t cols = xc.size(-1), rows = xc.numel() / cols;
  Int8Act a{at::empty(xc.sizes(), xc.options().dtype(at::kChar)),
            at::empty({rows}, xc.options().dtype(at::kFloat))};
  check(kernels::quantize_rows(kdt(xc.scalar_type()), xc.data_ptr(), a.q.data_ptr<int8_t>(),
                               a.scale.data_ptr<float>(), scale_ptr(static_scale), rows, cols,
                               stream()),
        "quantize_rows");
  return a;
}

std::pair<at::Tensor, Int8Act> rms_norm_quant(const at::Tensor& x, const at::Tensor& residual,
                                              const at::Tensor& weight, double eps,
                                              const at::Tensor& static_scale) {
  const at::Tensor xc = x.contiguous();
  const int64_t cols = xc.size(-1), rows = xc.numel() / cols;
  at::Tensor rc, sum;
  if (residual.defined()) {
    rc = residual.contiguous();
    sum = at::empty_like(xc);
  }
  Int8Act a{at::empty(xc.sizes(), xc.options().dtype(at::kChar)),
            at::empty({rows}, xc.options().dtype(at::kFloat))};
  check(kernels::rms_norm_quant(kdt(xc.scalar_type()), xc.data_ptr(),
                                rc.defined() ? rc.data_ptr() : nullptr,
                                sum.defined() ? sum.data_ptr() : nullptr,
                                weight.contiguous().data_ptr(), a.q.data_ptr<int8_t>(),
                                a.scale.data_ptr<float>(), scale_ptr(static_scale), rows, cols,
                                static_cast<float>(eps), stream()),
        "rms_norm_quant");
  return {sum.defined() ? sum : xc, a};
}

Int8Act silu_mul_quant(const at::Tensor& gate_up, const at::Tensor& static_scale) {
  const at::Tensor in = gate_up.contiguous();
  const int64_t f = in.size(-1) / 2, rows = in.numel() / (2 * f);
  Int8Act a{at::empty(with_last(in.sizes(), f), in.options().dtype(at::kChar)),
            at::empty({rows}, in.options().dtype(at::kFloat))};
  check(kernels::silu_mul_quant(kdt(in.scalar_type()), in.data_ptr(), a.q.data_ptr<int8_t>(),
                                a.scale.data_ptr<float>(), scale_ptr(static_scale), rows, f,
                                stream()),
        "silu_mul_quant");
  return a;
}

at::Tensor int8_scaled_mm(const Int8Act& a, const at::Tensor& w, const at::Tensor& w_scale,
                          at::ScalarType dtype) {
  const int64_t k = a.q.size(-1), m = a.q.numel() / k, n = w.size(0);
  TORCH_CHECK(w.size(1) == k && w.is_contiguous() && w_scale.numel() == n &&
                  w_scale.scalar_type() == at::kFloat && a.scale.numel() == m,
              "int8_scaled_mm: operands do not match");
  at::Tensor y = at::empty(with_last(a.q.sizes(), n), a.q.options().dtype(dtype));
  const int64_t ws_bytes = kernels::int8_gemm_workspace(m, n, k);
  at::Tensor ws = at::empty({ws_bytes > 0 ? ws_bytes : 1}, a.q.options().dtype(at::kByte));
  const at::Tensor q = a.q.contiguous(), s = a.scale.contiguous(), sw = w_scale.contiguous();
  check(kernels::int8_scaled_mm(kdt(dtype), q.data_ptr<int8_t>(), s.data_ptr<float>(),
                                w.data_ptr<int8_t>(), sw.data_ptr<float>(), y.data_ptr(), m, n, k,
                                ws.data_ptr(), ws_bytes, stream()),
        "int8_scaled_mm");
  return y;
}

bool weight_only_gemv_ok(int bits, const at::Tensor& x, int64_t k, int64_t group) {
  if (!x.is_cuda() || !kernel_dtype_ok(x.scalar_type()) || x.numel() % k != 0) return false;
  return kernels::weight_only_gemv_supported(wbits(bits), x.numel() / k, k, group);
}

at::Tensor weight_only_gemv(int bits, const at::Tensor& x, const at::Tensor& codes,
                            const at::Tensor& scale, const at::Tensor& zero,
                            const at::Tensor& bias, int64_t n, int64_t k, int64_t group) {
  const at::Tensor xc = x.contiguous();
  at::Tensor y = at::empty(with_last(xc.sizes(), n), xc.options());
  check(kernels::weight_only_gemv(kdt(xc.scalar_type()), wbits(bits), xc.data_ptr(),
                                  codes.data_ptr(), scale.data_ptr<float>(),
                                  zero.defined() ? zero.data_ptr<float>() : nullptr,
                                  bias.defined() ? bias.data_ptr() : nullptr, y.data_ptr(),
                                  xc.numel() / k, n, k, group, stream()),
        "weight_only_gemv");
  return y;
}

at::Tensor weight_only_dequant(int bits, const at::Tensor& codes, const at::Tensor& scale,
                               const at::Tensor& zero, int64_t n, int64_t k, int64_t group,
                               at::ScalarType dtype) {
  at::Tensor w = at::empty({n, k}, codes.options().dtype(dtype));
  check(kernels::weight_only_dequant(kdt(dtype), wbits(bits), codes.data_ptr(),
                                     scale.data_ptr<float>(),
                                     zero.defined() ? zero.data_ptr<float>() : nullptr,
                                     w.data_ptr(), n, k, group, stream()),
        "weight_only_dequant");
  return w;
}

#else  // no kernels in this build

bool available() { return false; }
bool has_cutlass() { return false; }
bool act_quant_ok(const at::Tensor&) { return false; }
bool int8_gemm_ok(int64_t, int64_t, int64_t) { return false; }
namespace {
[[noreturn]] void missing() { TORCH_CHECK(false, "this build has no quantized CUDA kernels"); }
}  // namespace
Int8Act quantize(const at::Tensor&, const at::Tensor&) { missing(); }
std::pair<at::Tensor, Int8Act> rms_norm_quant(const at::Tensor&, const at::Tensor&,
                                              const at::Tensor&, double, const at::Tensor&) {
  missing();
}
Int8Act silu_mul_quant(const at::Tensor&, const at::Tensor&) { missing(); }
at::Tensor int8_scaled_mm(const Int8Act&, const at::Tensor&, const at::Tensor&, at::ScalarType) {
  missing();
}
bool weight_only_gemv_ok(int, const at::Tensor&, int64_t, int64_t) { return false; }
at::Tensor weight_only_gemv(int, const at::Tensor&, const at::Tensor&, const at::Tensor&,
                            const at::Tensor&, const at::Tensor&, int64_t, int64_t, int64_t) {
  missing();
}
at::Tensor weight_only_dequant(int, const at::Tensor&, const at::Tensor&, const at::Tensor&,
                               int64_t, int64_t, int64_t, at::ScalarType) {
  missing();
}

#endif

}  // namespace qb::model::qops
