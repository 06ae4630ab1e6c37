#include "steps/model/int8_linear.h"

#include "steps/model/model_config.h"
#include "steps/model/quant_ops.h"
#include "steps/qmath/int8_gemm.h"

namespace qb::model {

Result<std::shared_ptr<const Int8Linear>> Int8Linear::create(
    at::Tensor weight, at::Tensor weight_scale, std::optional<at::Tensor> input_scale,
    std::optional<at::Tensor> bias, at::ScalarType compute_dtype) {
  if (weight.dim() != 2 || weight.scalar_type() != at::kChar)
    return invalid_argument("weight: expected int8 [out, in]");
  const int64_t out = weight.size(0);
  if (!at::isFloatingType(weight_scale.scalar_type()) ||
      !(weight_scale.numel() == out || weight_scale.numel() == 1) ||
      !(weight_scale.dim() <= 1 || (weight_scale.dim() == 2 && weight_scale.size(1) == 1)))
    return invalid_argument("weight_scale: expected floating [" + std::to_string(out) +
                            ", 1] (per channel) or [1] (per tensor)");
  auto p = std::shared_ptr<Int8Linear>(new Int8Linear());
  p->weight_ = weight.contiguous();
  p->weight_scale_ = weight_scale.to(at::kFloat).reshape({-1, 1});  // [out, 1] or [1, 1]
  p->weight_scale_vec_ = p->weight_scale_.expand({out, 1}).reshape({out}).contiguous();
  if (input_scale) {
    if (!at::isFloatingType(input_scale->scalar_type()) || input_scale->numel() != 1)
      return invalid_argument("input_scale: expected one floating value (per-tensor static)");
    p->input_scale_ = input_scale->to(at::kFloat).reshape({1});
  }
  if (bias) p->bias_ = bias->to(compute_dtype);
  p->dtype_ = compute_dtype;
  return std::shared_ptr<const Int8Linear>(std::move(p));
}

bool Int8Linear::fast_path(int64_t rows, at::Device device, at::ScalarType dtype) const {
  return device.is_cuda() && qops::available() && !bias_ && dtype == dtype_ &&
         weight_.device() == device && (dtype == at::kBFloat16 || dtype == at::kHalf) &&
         qops::int8_gemm_ok(rows, out_features(), in_features());
}

at::Tensor Int8Linear::forward_codes(const at::Tensor& q, const at::Tensor& scale) const {
  return qops::int8_scaled_mm({q, scale}, weight_, weight_scale_vec_, dtype_);   // [..., out]
}

at::Tensor Int8Linear::forward(const at::Tensor& x) const {
  const int64_t rows = x.numel() / in_features();
  if (fast_path(rows, x.device(), x.scalar_type()) && qops::act_quant_ok(x)) {
    const qops::Int8Act a = qops::quantize(x, input_scale_);                      // [..., in]
    return forward_codes(a.q, a.scale);                                            // [..., out]
  }
  const at::Tensor x2 = x.reshape({-1, in_features()});                           // [N, in]
  at::Tensor q, s;                                                                 // int8, fp32
  if (input_scale_.defined()) {
    q = qmath::quantize_per_tensor_static(x2, input_scale_);                       // [N, in]
    s = input_scale_;                                                              // [1]
  } else {
    auto pt = qmath::quantize_per_token_dynamic(x2);
    q = pt.q;                                                                      // [N, in]
    s = pt.scale;                                                                  // [N, 1]
  }
  const at::Tensor y = qmath::scaled_int8_linear(q, s, weight_, weight_scale_,
                                                 bias_ ? *bias_ : at::Tensor(), dtype_);
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape.back() = out_features();
  return y.view(shape);                                                            // [..., out]
}

at::Tensor Int8Linear::effective_weight(at::ScalarType dtype) const {
  return (weight_.to(at::kFloat) * weight_scale_).to(dtype);
}

std::string Int8Linear::describe() const {
  return std::string("w8a8-int8 [") + std::to_string(out_features()) + ", " +
         std::to_string(in_features()) + "] (" +
         (weight_scale_.size(0) == 1 && out_features() != 1 ? "per-tensor" : "per-channel") +
         " weights, " + (static_input() ? "static per-tensor" : "dynamic per-token") +
         " inputs)" + (bias_ ? " +bias" : "");
}

}  // namespace qb::model
