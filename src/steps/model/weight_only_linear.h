// WeightOnlyLinear: an int8 (per-channel) or int4 (per-group, symmetric or with zero points)
// weight-only projection that keeps its codes on the device instead of a dequantized bf16 copy.
//
// What it computes is what a weight-only checkpoint dequantized at load computes (linear_loader.h):
// y = x · W_effᵀ (+ b) with W_eff = ((q - zero) * scale) rounded once to the compute dtype
// (effective_weight()). How:
//   CUDA, <= 8 input rows (decode)  weight_only_gemv: streams the codes (a half / a quarter of
//                                   bf16's bytes) and dequantizes in registers, fp32 sums; equal
//                                   to the dense product up to the rounding of W_eff's elements
//                                   (the GEMV uses (q - zero) * scale unrounded).
//   CUDA, more rows                 W_eff made by one dequantizing kernel (bit-identical to
//                                   effective_weight()), then the dense GEMM.
//   CPU                             effective_weight() (ATen), then the dense GEMM: the reference.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "steps/model/linear.h"
#include "util/status.h"

namespace qb::model {

class WeightOnlyLinear final : public Linear {
 public:
  // q int8 [out, in] signed codes; bits 8: scale [out] / [out, 1] / [1] (per channel or tensor)
  // or [out, in / group];
  // bits 4: codes in [-8, 7], scale [out, in / group] ([out, 1]: per channel, group = in),
  // zero_point (same shape, signed codes; nullopt: symmetric) — compressed-tensors' convention
  // W = (q - zero_point) * scale. bias [out]. All on one device. Errors (invalid_argument) name
  // the offending tensor.
  static Result<std::shared_ptr<const WeightOnlyLinear>> create(
      int bits, const at::Tensor& q, const at::Tensor& scale,
      const std::optional<at::Tensor>& zero_point, std::optional<at::Tensor> bias,
      at::ScalarType compute_dtype);

  // One layer over the rows of `parts` in order (q|k|v, gate|up: one GEMV instead of three),
  // or null when they differ in bits, group, zero points, bias, dtype, device or in_features.
  static std::shared_ptr<const WeightOnlyLinear> concat(const std::vector<const WeightOnlyLinear*>& parts);
  // Rows [offset, offset + count) as a layer over views of this one's tensors.
  std::shared_ptr<const WeightOnlyLinear> rows(int64_t offset, int64_t count) const;

  at::Tensor forward(const at::Tensor& x) const override;
  int64_t in_features() const override { return in_; }
  int64_t out_features() const override { return out_; }
  at::Tensor effective_weight(at::ScalarType dtype) const override;
  std::optional<at::Tensor> bias() const override { return bias_; }
  std::string describe() const override;
  // W_eff in the compute dtype as forward() makes it for batches past the GEMV: the dequantizing
  // kernel on a GPU with the kernels, effective_weight() otherwise. May throw.
  at::Tensor dense_weight() const;
  int bits() const { return bits_; }
  int64_t group() const { return group_; }

 private:
  int bits_ = 8;
  int64_t in_ = 0, out_ = 0, group_ = 0;
  at::Tensor codes_;  // int8 [out, in] (8 bits) | uint8 [out, in / 2], u = q + 8, low nibble first
  at::Tensor scale_;  // fp32 [out, in / group] (group = in: per channel)
  at::Tensor zero_;   // fp32 [out, in / group] as u-codes (zero_point + 8), or undefined (8)
  std::optional<at::Tensor> bias_;
  at::ScalarType dtype_ = at::kFloat;
};

}  // namespace qb::model
