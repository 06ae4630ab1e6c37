// Loading one Linear module of a checkpoint in whichever form it is stored:
//   dense           "<m>.weight" floating [out, in] (+ "<m>.bias")
//   int-quantized   "<m>.weight" int8 [out, in], "<m>.weight_scale" [out, 1] | [1],
//                   "<m>.input_scale" [1] (static activations only) -> Int8Linear (W8A8); without
//                   input activations: dequantized to a DenseLinear (weight-only int8)
//   pack-quantized  "<m>.weight_packed" int32 [out, ceil(in·bits/32)], "<m>.weight_shape" [2],
//                   "<m>.weight_scale" [out, 1] | [out, in/group] | [1], asymmetric also
//                   "<m>.weight_zero_point" int32 [ceil(out·bits/32), 1 | in/group] (packed along
//                   the rows) -> dequantized ((q - zp)·scale in the scale's dtype,
//                   compressed-tensors' arithmetic) to a DenseLinear — on a GPU with the
//                   quantized kernels, symmetric 8- and 4-bit weight-only layers instead keep
//                   their codes (WeightOnlyLinear, the same W_eff)
// then wrapped in its online input transform, if any. Only what vLLM can serve is accepted:
// symmetric int weights (per-tensor or per-channel for W8A8; also per-group for weight-only,
// where asymmetric weights with zero points are read too);
// W8A8 activations static per-tensor or dynamic per-token.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <string>

#include "steps/model/linear.h"
#include "steps/model/online_transforms.h"
#include "steps/model/quant_config.h"
#include "steps/model_io/checkpoint.h"
#include "util/status.h"

namespace qb::model {

struct LinearSpec {
  std::string module;  // "model.layers.0.mlp.down_proj"
  int64_t in = 0, out = 0;
  bool bias = false;
};

struct LinearLoadContext {
  const model_io::Checkpoint* ckpt = nullptr;
  const QuantizationConfig* quant = nullptr;       // nullptr: no quantization_config
  const OnlineTransforms* transforms = nullptr;    // nullptr: none
  at::ScalarType dtype = at::kFloat;               // compute dtype
  at::Device device = at::kCPU;
};

// Errors name the tensor: "model.layers.0.mlp.up_proj.weight: shape [96, 64], expected
// [128, 64]", "...weight_scale: missing".
Result<std::shared_ptr<const Linear>> load_linear(const LinearLoadContext& ctx,
                                                  const LinearSpec& spec);

// A floating tensor of exactly `shape`, converted to ctx.dtype on ctx.device. Errors: missing,
// wrong shape, not floating.
Result<at::Tensor> load_float_tensor(const LinearLoadContext& ctx, const std::string& name,
                                     const std::vector<int64_t>& shape);

}  // namespace qb::model
