// Int8Linear: a W8A8 int8 projection as vLLM serves compressed-tensors "int-quantized"
// checkpoints: weights int8 [out, in] with a per-channel ([out, 1]) or per-tensor ([1]) scale;
// inputs quantized to int8 either statically (a calibrated per-tensor input_scale [1]) or
// dynamically per token (absmax / 127, round half to even, saturate: qb::qmath's vLLM
// convention); an exact int8 x int8 -> int32 GEMM; then acc * s_x * s_w (+ bias) in fp32, cast to
// the compute dtype. The arithmetic lives in qb::qmath (int8_gemm.h); on a CUDA device in
// bf16/fp16 with the quantized kernels built (quant_ops.h) the same arithmetic runs as one
// quantization kernel and one int8 GEMM with the scales in its epilogue, bit for bit.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <optional>
#include <string>

#include "steps/model/linear.h"
#include "util/status.h"

namespace qb::model {

class Int8Linear final : public Linear {
 public:
  // weight int8 [out, in]; weight_scale floating [out, 1], [out] or [1]; input_scale floating
  // [1] or [] for static activations (nullopt: dynamic per token); bias [out]. All on one device.
  // Errors (invalid_argument) describe the offending tensor.
  static Result<std::shared_ptr<const Int8Linear>> create(at::Tensor weight,
                                                          at::Tensor weight_scale,
                                                          std::optional<at::Tensor> input_scale,
                                                          std::optional<at::Tensor> bias,
                                                          at::ScalarType compute_dtype);

  at::Tensor forward(const at::Tensor& x) const override;
  // Whether forward(x) takes the CUDA kernels (quant_ops.h) for an input of `rows` rows on
  // `device` in `dtype`: no bias (the epilogue has none; biased layers keep the ATen path) and a
  // shape the kernels take.
  bool fast_path(int64_t rows, at::Device device, at::ScalarType dtype) const;
  // The GEMM of forward() from codes already made (a fused RMSNorm / SwiGLU quantization):
  // q int8 [..., in], scale fp32 [rows] -> [..., out]. Requires fast_path(). May throw.
  at::Tensor forward_codes(const at::Tensor& q, const at::Tensor& scale) const;
  int64_t in_features() const override { return weight_.size(1); }
  int64_t out_features() const override { return weight_.size(0); }
  at::Tensor effective_weight(at::ScalarType dtype) const override;  // q * s_w
  std::optional<at::Tensor> bias() const override { return bias_; }
  std::string describe() const override;

  bool static_input() const { return input_scale_.defined(); }
  const at::Tensor& weight() const { return weight_; }              // int8 [out, in]
  const at::Tensor& weight_scale() const { return weight_scale_; }  // fp32 [out, 1] or [1, 1]
  const at::Tensor& input_scale() const { return input_scale_; }    // fp32 [1] or undefined

 private:
  at::Tensor weight_, weight_scale_, input_scale_;
  at::Tensor weight_scale_vec_;  // fp32 [out] contiguous: the epilogue's per-channel scales
  std::optional<at::Tensor> bias_;
  at::ScalarType dtype_ = at::kFloat;
};

}  // namespace qb::model
