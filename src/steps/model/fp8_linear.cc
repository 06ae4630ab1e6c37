// Fp8Linear (see fp8_linear.h).
#include "steps/model/fp8_linear.h"

#include "steps/model/model_config.h"
#include "steps/qmath/fp8.h"
#include "steps/qmath/fp8_gemm.h"

namespace qb::model {

Result<std::shared_ptr<const Fp8Linear>> Fp8Linear::create(
    at::Tensor weight, at::Tensor weight_scale, const qmath::QuantArgs& weights,
    const qmath::QuantArgs& acts, std::optional<at::Tensor> input_scale,
    std::optional<at::Tensor> bias, at::ScalarType compute_dtype) {
  if (weight.dim() != 2 || weight.scalar_type() != at::kFloat8_e4m3fn)
    return invalid_argument("weight: expected float8_e4m3fn [out, in]");
  QB_TRY(qmath::check_fp8_args(weights));
  QB_TRY(qmath::check_fp8_args(acts));
  const int64_t out = weight.size(0), in = weight.size(1);
  std::vector<int64_t> sshape;
  switch (weights.strategy) {
    case qmath::Strategy::kTensor: sshape = {1}; break;
    case qmath::Strategy::kChannel: sshape = {out, 1}; break;
    case qmath::Strategy::kBlock: {
      const auto [bn, bk] = weights.block_structure;
      if (out % bn != 0 || in % bk != 0)
        return invalid_argument("weight: block_structure [" + std::to_string(bn) + ", " +
                                std::to_string(bk) + "] does not divide [" + std::to_string(out) +
                                ", " + std::to_string(in) + "]");
      sshape = {out / bn, in / bk};
      if (!acts.dynamic || acts.strategy != qmath::Strategy::kGroup || acts.group_size != bk)
        return invalid_argument("block weights need dynamic per-group input activations of " +
                                std::to_string(bk) + " columns");
      break;
    }
    default:
      return invalid_argument(std::string("weights: strategy '") +
                              qmath::strategy_name(weights.strategy) + "' is not supported for fp8");
  }
  if (!at::isFloatingType(weight_scale.scalar_type()) ||
      weight_scale.sizes() != at::IntArrayRef(sshape))
    return invalid_argument("weight_scale: expected floating " + shape_label(sshape) + ", got " +
                            shape_label(weight_scale.sizes()));
  const bool static_tensor = !acts.dynamic && acts.strategy == qmath::Strategy::kTensor;
  const bool token = acts.dynamic && acts.strategy == qmath::Strategy::kToken;
  const bool group = acts.dynamic && acts.strategy == qmath::Strategy::kGroup;
  if (!(static_tensor || token || (group && weights.strategy == qmath::Strategy::kBlock)))
    return invalid_argument("input activations: fp8 is supported (as vLLM loads it) static per "
                            "tensor, dynamic per token, or dynamic per group with block weights");
  if (static_tensor != input_scale.has_value())
    return invalid_argument(static_tensor ? "input_scale: missing (static activations)"
                                          : "input_scale: unexpected for dynamic activations");
  auto p = std::shared_ptr<Fp8Linear>(new Fp8Linear());
  p->weight_ = weight.contiguous();
  p->weight_scale_ = weight_scale.to(at::kFloat);
  if (input_scale) {
    if (!at::isFloatingType(input_scale->scalar_type()) || input_scale->numel() != 1)
      return invalid_argument("input_scale: expected one floating value (per-tensor static)");
    p->input_scale_ = input_scale->to(at::kFloat).reshape({1});
  }
  p->weights_ = weights;
  p->acts_ = acts;
  if (bias) p->bias_ = bias->to(compute_dtype);
  p->dtype_ = compute_dtype;
  return std::shared_ptr<const Fp8Linear>(std::move(p));
}

at::Tensor Fp8Linear::forward(const at::Tensor& x) const {
  const at::Tensor x2 = x.reshape({-1, in_features()});                          // [N, in]
  const at::Tensor b = bias_ ? *bias_ : at::Tensor();
  at::Tensor y;                                                                  // [N, out]
  if (weights_.strategy == qmath::Strategy::kBlock) {
    const auto a = qmath::fp8_quantize_per_group_dynamic(x2, acts_.group_size);  // [N, in/bk]
    y = qmath::fp8_block_scaled_mm(a.q, a.scale, weight_, weight_scale_, weights_.block_structure[0],
                                   weights_.block_structure[1], b, dtype_);
  } else {
    const auto a = input_scale_.defined() ? qmath::fp8_quantize_static(x2, input_scale_)
                                          : qmath::fp8_quantize_per_token_dynamic(x2);
    y = qmath::fp8_scaled_mm(a.q, a.scale, weight_, weight_scale_, b, dtype_);
  }
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape.back() = out_features();
  return y.view(shape);                                                          // [..., out]
}

at::Tensor Fp8Linear::effective_weight(at::ScalarType dtype) const {
  return qmath::fp8_dequantize(weight_, weight_scale_, weights_).to(dtype);
}

std::string Fp8Linear::describe() const {
  std::string w = weights_.strategy == qmath::Strategy::kBlock
                      ? "block " + std::to_string(weights_.block_structure[0]) + "x" +
                            std::to_string(weights_.block_structure[1])
                      : std::string("per-") + qmath::strategy_name(weights_.strategy);
  std::string a = input_scale_.defined() ? "static per-tensor"
                  : acts_.strategy == qmath::Strategy::kGroup
                      ? "dynamic per-group-" + std::to_string(acts_.group_size)
                      : "dynamic per-token";
  const bool block = weights_.strategy == qmath::Strategy::kBlock;
  const auto backend =
      qmath::fp8_gemm_backend(weight_.device(), in_features(), out_features(),
                              block ? weights_.block_structure[0] : 0,
                              block ? weights_.block_structure[1] : 0);
  return "w8a8-fp8 " + shape_label(weight_.sizes()) + " (" + w + " weights, " + a + " inputs; " +
         qmath::fp8_gemm_backend_name(backend) + ")" + (bias_ ? " +bias" : "");
}

}  // namespace qb::model
