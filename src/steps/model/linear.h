// Linear: the one interface behind every projection of the model (q/k/v/o, gate/up/down,
// lm_head), so quantized layers, transformed layers and layers replaced during calibration plug
// into the same forward pass.
//
//   DenseLinear        y = x Wᵀ + b, W [out, in] in the compute dtype (also what weight-only
//                      quantized checkpoints become once dequantized at load).
//   TransformedLinear  y = inner(T(x)): an input transform in front of any Linear, e.g. the
//                      online Hadamard before down_proj (SpinQuant R4).
//   Int8Linear         (int8_linear.h) W8A8 int8 with int32 accumulation.
//
// Shapes: x [..., in] in the compute dtype -> y [..., out] in the same dtype.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "util/status.h"

namespace qb::model {

class Linear {
 public:
  virtual ~Linear() = default;
  // [..., in] -> [..., out]. May throw c10::Error.
  virtual at::Tensor forward(const at::Tensor& x) const = 0;
  virtual int64_t in_features() const = 0;
  virtual int64_t out_features() const = 0;
  // What the layer computes as a dense weight [out, in] (dequantized for quantized layers, the
  // transform folded in for transformed ones), in `dtype`; for tests and tools, not for speed.
  // May throw c10::Error.
  virtual at::Tensor effective_weight(at::ScalarType dtype) const = 0;
  virtual std::optional<at::Tensor> bias() const = 0;  // [out]
  // "dense [128, 64] float32", "w8a8-int8 (per-channel weights, dynamic per-token inputs)".
  virtual std::string describe() const = 0;
};

class DenseLinear final : public Linear {
 public:
  // weight [out, in] and bias [out] must already be in the compute dtype and on the device.
  // `label` prefixes describe() (e.g. "pack-quantized int4, dequantized").
  DenseLinear(at::Tensor weight, std::optional<at::Tensor> bias, std::string label = "dense");
  at::Tensor forward(const at::Tensor& x) const override;
  int64_t in_features() const override { return weight_.size(1); }
  int64_t out_features() const override { return weight_.size(0); }
  at::Tensor effective_weight(at::ScalarType dtype) const override;
  std::optional<at::Tensor> bias() const override { return bias_; }
  std::string describe() const override;
  const at::Tensor& weight() const { return weight_; }
  const std::string& label() const { return label_; }

 private:
  at::Tensor weight_;               // [out, in]
  std::optional<at::Tensor> bias_;  // [out]
  std::string label_;
};

// A function applied to a Linear's input at run time. Must keep the shape [..., n].
class InputTransform {
 public:
  virtual ~InputTransform() = default;
  virtual at::Tensor apply(const at::Tensor& x) const = 0;  // may throw c10::Error
  virtual int64_t size() const = 0;                         // n, the last dimension it expects
  virtual std::string describe() const = 0;
};

class TransformedLinear final : public Linear {
 public:
  // Use make_transformed(), which checks transform->size() == inner->in_features().
  TransformedLinear(std::shared_ptr<const InputTransform> transform,
                    std::shared_ptr<const Linear> inner);
  at::Tensor forward(const at::Tensor& x) const override;
  int64_t in_features() const override { return inner_->in_features(); }
  int64_t out_features() const override { return inner_->out_features(); }
  // W_eff = W · T as a matrix: inner's effective weight with the transform applied to its rows.
  at::Tensor effective_weight(at::ScalarType dtype) const override;
  std::optional<at::Tensor> bias() const override { return inner_->bias(); }
  std::string describe() const override;
  const std::shared_ptr<const InputTransform>& transform() const { return transform_; }
  const std::shared_ptr<const Linear>& inner() const { return inner_; }

 private:
  std::shared_ptr<const InputTransform> transform_;
  std::shared_ptr<const Linear> inner_;
};

// inner(transform(x)); invalid_argument when the sizes differ.
Result<std::shared_ptr<const Linear>> make_transformed(
    std::shared_ptr<const InputTransform> transform, std::shared_ptr<const Linear> inner);

// The same layer with its tensors on `device` (the input transforms of qb::model follow their
// input's device already). DenseLinear and TransformedLinear over one; other kinds are an
// error (the quantize step's layer-by-layer onloading only meets unquantized models).
Result<std::shared_ptr<const Linear>> to_device(const std::shared_ptr<const Linear>& linear,
                                                at::Device device);

}  // namespace qb::model
