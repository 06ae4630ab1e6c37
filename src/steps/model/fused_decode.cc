// ATen wrappers of the fused decode kernels; without them (QB_DECODE_KERNELS unset: a CPU
// build, or no CUDA compiler) available() is false and the model never calls the rest.
#include "steps/model/fused_decode.h"

#include <string>

#ifdef QB_DECODE_KERNELS
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAStream.h>

#include "steps/model/decode_kernels.h"
#endif

namespace qb::model::fused {

#ifdef QB_DECODE_KERNELS

namespace {

kernels::Dtype kernel_dtype(const at::Tensor& t) {
  TORCH_CHECK(t.scalar_type() == at::kBFloat16 || t.scalar_type() == at::kHalf,
              "fused decode: unsupported dtype ", t.scalar_type());
  return t.scalar_type() == at::kBFloat16 ? kernels::Dtype::kBf16 : kernels::Dtype::kFp16;
}

void* stream() { return c10::cuda::getCurrentCUDAStream().stream(); }

void check_launch(int rc, const char* kernel) {
  TORCH_CHECK(rc == 0, "fused decode kernel ", kernel, " failed: CUDA error ", rc);
}

}  // namespace

bool available() { return true; }

bool supports(const ModelConfig& c, at::ScalarType dtype, at::Device device) {
  // The norm and SwiGLU kernels move 16-byte chunks: widths in multiples of 8.
  return device.is_cuda() && (dtype == at::kBFloat16 || dtype == at::kHalf) &&
         c.hidden_size % 8 == 0 && c.hidden_size <= 32768 && c.intermediate_size % 8 == 0 &&
         kernels::decode_attention_supported(c.num_heads, c.num_kv_heads, c.head_dim);
}

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const at::Tensor xc = x.contiguous();
  at::Tensor out = at::empty_like(xc);
  const int64_t cols = xc.size(-1);
  check_launch(kernels::rms_norm(kernel_dtype(xc), xc.data_ptr(), nullptr, nullptr,
                                 weight.data_ptr(), out.data_ptr(), xc.numel() / cols, cols,
                                 static_cast<float>(eps), stream()),
               "rms_norm");
  return out;
}

std::pair<at::Tensor, at::Tensor> add_rms_norm(const at::Tensor& x, const at::Tensor& a,
                                               const at::Tensor& weight, double eps) {
  const at::Tensor xc = x.contiguous(), ac = a.contiguous();
  at::Tensor sum = at::empty_like(xc), out = at::empty_like(xc);
  const int64_t cols = xc.size(-1);
  check_launch(kernels::rms_norm(kernel_dtype(xc), xc.data_ptr(), ac.data_ptr(), sum.data_ptr(),
                                 weight.data_ptr(), out.data_ptr(), xc.numel() / cols, cols,
                                 static_cast<float>(eps), stream()),
               "add_rms_norm");
  return {sum, out};
}

at::Tensor qk_norm_rope_cache(const at::Tensor& qkv, const at::Tensor& qk_norm,
                              const at::Tensor& cos, const at::Tensor& sin_signed,
                              const at::Tensor& k_cache, const at::Tensor& v_cache,
                              const at::Tensor& slot, double eps) {
  const at::Tensor in = qkv.contiguous();
  const int64_t b = k_cache.size(0), kv_heads = k_cache.size(1), s = k_cache.size(2), d = k_cache.size(3);
  const int64_t heads = in.numel() / (b * d) - 2 * kv_heads;  // qkv holds H + 2 KVH heads per row
  TORCH_CHECK(heads > 0 && in.numel() == b * (heads + 2 * kv_heads) * d, "fused decode: qkv has ",
              in.numel(), " elements, not one token per row of ", b, " rows");
  TORCH_CHECK(k_cache.is_contiguous() && v_cache.is_contiguous(), "fused decode: caches must be contiguous");
  TORCH_CHECK(slot.numel() == b && slot.is_contiguous(), "fused decode: ", slot.numel(), " slots for ", b, " rows");
  const at::Tensor c = cos.contiguous(), sn = sin_signed.contiguous();
  at::Tensor q = at::empty({b, heads, d}, in.options());
  check_launch(kernels::qk_norm_rope_cache(
                   kernel_dtype(in), in.data_ptr(), qk_norm.defined() ? qk_norm.data_ptr() : nullptr,
                   c.data_ptr(), sn.data_ptr(), q.data_ptr(), k_cache.data_ptr(),
                   v_cache.data_ptr(), slot.data_ptr<int64_t>(), b, heads, kv_heads, d, s,
                   static_cast<float>(eps), stream()),
               "qk_norm_rope_cache");
  return q;
}

at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& k_cache,
                            const at::Tensor& v_cache, const at::Tensor& valid,
                            const at::Tensor& slot) {
  const int64_t b = q.size(0), h = q.size(1), d = q.size(2);
  const int64_t kvh = k_cache.size(1), s = k_cache.size(2);
  TORCH_CHECK(slot.numel() == b && slot.is_contiguous(), "fused decode: ", slot.numel(), " slots for ", b, " rows");
  const int sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int splits = kernels::decode_attention_splits(b, kvh, s, sms);
  at::Tensor ws = at::empty({kernels::decode_attention_workspace(b, h, d, splits)},
                            q.options().dtype(at::kFloat));
  at::Tensor out = at::empty({b, h, d}, q.options());
  const at::Tensor vc = valid.contiguous();
  check_launch(kernels::decode_attention(kernel_dtype(q), q.data_ptr(), k_cache.data_ptr(),
                                         v_cache.data_ptr(), vc.data_ptr<bool>(),
                                         slot.data_ptr<int64_t>(), out.data_ptr(),
                                         ws.data_ptr<float>(), b, h, kvh, d, s, splits, stream()),
               "decode_attention");
  return out;
}

at::Tensor silu_mul(const at::Tensor& gate_up) {
  const at::Tensor in = gate_up.contiguous();
  const int64_t f = in.size(-1) / 2;
  std::vector<int64_t> shape(in.sizes().begin(), in.sizes().end());
  shape.back() = f;
  at::Tensor out = at::empty(shape, in.options());
  check_launch(kernels::silu_mul(kernel_dtype(in), in.data_ptr(), out.data_ptr(), in.numel() / (2 * f), f,
                                 stream()),
               "silu_mul");
  return out;
}

at::Tensor linear(const Linear& f, const at::Tensor& x) {
  const auto* dense = dynamic_cast<const DenseLinear*>(&f);
  const int64_t k = f.in_features();
  if (!dense || x.numel() != k || k % 8 != 0 || k > 49152 || !x.is_cuda() ||
      dense->weight().scalar_type() != x.scalar_type() || dense->weight().device() != x.device() ||
      !dense->weight().is_contiguous() || (x.scalar_type() != at::kBFloat16 && x.scalar_type() != at::kHalf))
    return f.forward(x);
  const at::Tensor xc = x.contiguous();
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape.back() = f.out_features();
  at::Tensor y = at::empty(shape, x.options());
  const auto& bias = dense->bias();
  check_launch(kernels::gemv(kernel_dtype(xc), xc.data_ptr(), dense->weight().data_ptr(),
                             bias ? bias->data_ptr() : nullptr, y.data_ptr(), f.out_features(), k,
                             stream()),
               "gemv");
  return y;
}

#else  // no kernels in this build

bool available() { return false; }
bool supports(const ModelConfig&, at::ScalarType, at::Device) { return false; }
namespace {
[[noreturn]] void missing() { TORCH_CHECK(false, "this build has no fused decode kernels"); }
}  // namespace
at::Tensor rms_norm(const at::Tensor&, const at::Tensor&, double) { missing(); }
std::pair<at::Tensor, at::Tensor> add_rms_norm(const at::Tensor&, const at::Tensor&,
                                               const at::Tensor&, double) { missing(); }
at::Tensor qk_norm_rope_cache(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                              const at::Tensor&, const at::Tensor&, const at::Tensor&,
                              const at::Tensor&, double) { missing(); }
at::Tensor decode_attention(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                            const at::Tensor&, const at::Tensor&) { missing(); }
at::Tensor silu_mul(const at::Tensor&) { missing(); }
at::Tensor linear(const Linear& f, const at::Tensor& x) { return f.forward(x); }

#endif

}  // namespace qb::model::fused
