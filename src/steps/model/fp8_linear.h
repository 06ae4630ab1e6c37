// Fp8Linear: a W8A8-FP8 projection as vLLM serves compressed-tensors "float-quantized"
// checkpoints (CompressedTensorsW8A8Fp8): weights float8_e4m3fn [out, in] with a per-tensor
// ([1]), per-channel ([out, 1]) or per-block ([out / bn, in / bk]) scale; inputs quantized to
// e4m3 statically per tensor (a calibrated input_scale [1]), dynamically per token, or — with
// block weights — dynamically per group of bk columns; then the scaled FP8 GEMM in fp32 (+ bias),
// cast to the compute dtype. The arithmetic lives in qb::qmath (fp8_gemm.h), with vLLM's
// conventions.
//
// The GEMM is qmath::fp8_scaled_mm / fp8_block_scaled_mm (fp8_gemm.h): on CUDA torch._scaled_mm
// on FP8 tensor cores (fp32 accumulation), elsewhere an exact emulation (e4m3 values and the
// same scales, the inner sums exact in float64) that the CPU tests and CI run; describe() names
// the backend.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <optional>
#include <string>

#include "steps/model/linear.h"
#include "steps/qmath/quant_args.h"
#include "util/status.h"

namespace qb::model {

class Fp8Linear final : public Linear {
 public:
  // weight float8_e4m3fn [out, in]; weight_scale floating, shaped for weights.strategy (tensor,
  // channel, block); input_scale floating [1] exactly for static activations; bias [out]. All on
  // one device. `weights` / `acts` must pass the FP8 recipe rules (spec/fp8_rules.h). Errors
  // (invalid_argument) describe the offending tensor or argument.
  static Result<std::shared_ptr<const Fp8Linear>> create(at::Tensor weight, at::Tensor weight_scale,
                                                         const qmath::QuantArgs& weights,
                                                         const qmath::QuantArgs& acts,
                                                         std::optional<at::Tensor> input_scale,
                                                         std::optional<at::Tensor> bias,
                                                         at::ScalarType compute_dtype);

  at::Tensor forward(const at::Tensor& x) const override;
  int64_t in_features() const override { return weight_.size(1); }
  int64_t out_features() const override { return weight_.size(0); }
  at::Tensor effective_weight(at::ScalarType dtype) const override;  // q * s_w
  std::optional<at::Tensor> bias() const override { return bias_; }
  std::string describe() const override;

  const at::Tensor& weight() const { return weight_; }              // float8_e4m3fn [out, in]
  const at::Tensor& weight_scale() const { return weight_scale_; }  // fp32, as stored
  const at::Tensor& input_scale() const { return input_scale_; }    // fp32 [1] or undefined

 private:
  at::Tensor weight_, weight_scale_, input_scale_;
  qmath::QuantArgs weights_, acts_;
  std::optional<at::Tensor> bias_;
  at::ScalarType dtype_ = at::kFloat;
};

}  // namespace qb::model
