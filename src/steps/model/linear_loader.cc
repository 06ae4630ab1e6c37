#include "steps/model/linear_loader.h"


#include "steps/model/int8_linear.h"
#include "steps/model/quant_ops.h"
#include "steps/model/weight_only_linear.h"
#include "steps/model/model_config.h"
#include "steps/qmath/pack.h"
#include "steps/qmath/qparams.h"

namespace qb::model {

namespace {

Result<at::Tensor> load_raw(const LinearLoadContext& ctx, const std::string& name) {
  if (!ctx.ckpt->has(name)) return not_found(name + ": missing");
  return ctx.ckpt->load(name, ctx.device);
}

Status expect_shape(const at::Tensor& t, const std::string& name,
                    const std::vector<int64_t>& shape) {
  if (t.sizes() != at::IntArrayRef(shape))
    return invalid_argument(name + ": shape " + shape_label(t.sizes()) + ", expected " +
                            shape_label(shape));
  return Status::ok();
}

Status expect_dtype(const at::Tensor& t, const std::string& name, at::ScalarType dtype) {
  if (t.scalar_type() != dtype)
    return invalid_argument(name + ": dtype " + std::string(c10::toString(t.scalar_type())) +
                            ", expected " + c10::toString(dtype));
  return Status::ok();
}

// Expected weight_scale shape for a strategy, as compressed-tensors stores it.
Result<std::vector<int64_t>> scale_shape(const qmath::QuantArgs& w, const LinearSpec& s,
                                         const std::string& name) {
  switch (w.strategy) {
    case qmath::Strategy::kTensor: return std::vector<int64_t>{1};
    case qmath::Strategy::kChannel: return std::vector<int64_t>{s.out, 1};
    case qmath::Strategy::kGroup:
      if (s.in % w.group_size != 0)
        return invalid_argument(name + ": group_size " + std::to_string(w.group_size) +
                                " does not divide in_features " + std::to_string(s.in));
      return std::vector<int64_t>{s.out, s.in / w.group_size};
    case qmath::Strategy::kToken: break;
  }
  return invalid_argument(name + ": weights cannot use strategy 'token'");
}

// Zero points are read for pack-quantized weights only (vLLM's WNA16 kernels take them; its W8A8
// int8 kernels take symmetric weights).
Status check_weight_args(const qmath::QuantArgs& w, const QuantGroup& g, const std::string& module) {
  if (!w.symmetric && g.format != "pack-quantized")
    return invalid_argument(module + ": config group '" + g.name + "': asymmetric weights are supported "
                            "pack-quantized (weight-only) only, not " + g.format);
  if (!w.symmetric && w.strategy != qmath::Strategy::kChannel && w.strategy != qmath::Strategy::kGroup)
    return invalid_argument(module + ": config group '" + g.name +
                            "': asymmetric weights need a channel or group strategy (their zero points are "
                            "packed per row)");
  return Status::ok();
}

Result<at::Tensor> load_scale(const LinearLoadContext& ctx, const std::string& name,
                              const std::vector<int64_t>& shape) {
  QB_ASSIGN_OR_RETURN(at::Tensor s, load_raw(ctx, name));
  if (!at::isFloatingType(s.scalar_type()))
    return invalid_argument(name + ": dtype " + std::string(c10::toString(s.scalar_type())) +
                            ", expected a floating type");
  // Per-tensor scales are written as [1] by compressed-tensors; accept a 0-d scalar as well.
  if (shape == std::vector<int64_t>{1} && s.numel() == 1) return s.reshape({1});
  QB_TRY(expect_shape(s, name, shape));
  return s;
}

// A symmetric group has no zero points; one written anyway (or an input zero point) is a
// checkpoint qbuild cannot have made, and would be ignored by vLLM: refused.
Status reject_zero_point(const LinearLoadContext& ctx, const std::string& module, const qmath::QuantArgs& w) {
  if (w.symmetric && ctx.ckpt->has(module + ".weight_zero_point"))
    return invalid_argument(module + ".weight_zero_point: zero points of symmetric weights are not supported");
  if (ctx.ckpt->has(module + ".input_zero_point"))
    return invalid_argument(module + ".input_zero_point: zero points (asymmetric activations) are not supported");
  return Status::ok();
}

// compressed-tensors' dequantization (q - zp) * scale (in the scale's dtype), cast to the compute
// dtype.
at::Tensor dequantize_weight(const at::Tensor& q, const at::Tensor& scale, const at::Tensor& zero_point,
                             const qmath::QuantArgs& w, at::ScalarType dtype) {
  return qmath::dequantize(q, scale, zero_point, w).to(dtype);
}

// On a GPU with the quantized kernels (quant_ops.h), an 8- or 4-bit weight-only layer (per
// tensor, channel or group) keeps its
// codes (WeightOnlyLinear: the decode GEMV streams a half / a quarter of bf16's bytes). Its
// effective weight is the dequantized one below when the scale's dtype is fp32 or the compute
// dtype (then q * scale is exact in fp32 and rounds once); otherwise null: dequantize at load.
std::shared_ptr<const Linear> weight_only_layer(const LinearLoadContext& ctx, const at::Tensor& q,
                                                const at::Tensor& scale, const qmath::QuantArgs& w,
                                                const std::optional<at::Tensor>& bias) {
  if (!ctx.device.is_cuda() || !qops::available() || (w.num_bits != 8 && w.num_bits != 4) ||
      (ctx.dtype != at::kBFloat16 && ctx.dtype != at::kHalf) ||
      (scale.scalar_type() != at::kFloat && scale.scalar_type() != ctx.dtype))
    return nullptr;
  at::Tensor s = scale;
  if (w.strategy == qmath::Strategy::kTensor) s = scale.reshape({1, 1}).expand({q.size(0), 1});
  s = s.reshape({q.size(0), -1});                                                  // [out, in / group]
  auto r = WeightOnlyLinear::create(w.num_bits, q, s, std::nullopt, bias, ctx.dtype);
  if (!r.is_ok()) return nullptr;
  return std::move(r).value();
}

Result<std::shared_ptr<const Linear>> load_int_quantized(const LinearLoadContext& ctx,
                                                         const LinearSpec& s,
                                                         const QuantGroup& g,
                                                         std::optional<at::Tensor> bias) {
  const qmath::QuantArgs& w = *g.weights;
  const std::string wname = s.module + ".weight";
  if (w.num_bits != 8)
    return invalid_argument(s.module + ": config group '" + g.name + "': int-quantized with " +
                            std::to_string(w.num_bits) + " bits is not supported (8)");
  QB_ASSIGN_OR_RETURN(at::Tensor q, load_raw(ctx, wname));
  QB_TRY(expect_dtype(q, wname, at::kChar));
  QB_TRY(expect_shape(q, wname, {s.out, s.in}));
  QB_ASSIGN_OR_RETURN(auto sshape, scale_shape(w, s, s.module + ".weight_scale"));
  QB_ASSIGN_OR_RETURN(at::Tensor scale, load_scale(ctx, s.module + ".weight_scale", sshape));
  if (!g.input_activations) {  // int8 weight-only stored unpacked: dequantize
    if (auto wo = weight_only_layer(ctx, q, scale, w, bias)) return wo;
    return std::shared_ptr<const Linear>(std::make_shared<DenseLinear>(
        dequantize_weight(q, scale, at::Tensor(), w, ctx.dtype), std::move(bias), "int8 weight-only"));
  }
  const qmath::QuantArgs& a = *g.input_activations;
  const bool per_token_dynamic = a.strategy == qmath::Strategy::kToken && a.dynamic;
  const bool per_tensor_static = a.strategy == qmath::Strategy::kTensor && !a.dynamic;
  if (w.strategy == qmath::Strategy::kGroup || a.num_bits != 8 || !a.symmetric ||
      !(per_token_dynamic || per_tensor_static))
    return invalid_argument(
        s.module + ": config group '" + g.name + "': W8A8 int8 is supported (as vLLM loads it) " +
        "only with per-tensor or per-channel weights and symmetric 8-bit activations that are " +
        "static per-tensor or dynamic per-token");
  std::optional<at::Tensor> input_scale;
  if (per_tensor_static) {
    QB_ASSIGN_OR_RETURN(input_scale, load_scale(ctx, s.module + ".input_scale", {1}));
  }
  QB_ASSIGN_OR_RETURN_CTX(auto lin, Int8Linear::create(q, scale, input_scale, bias, ctx.dtype),
                          s.module);
  return std::shared_ptr<const Linear>(std::move(lin));
}

Result<std::shared_ptr<const Linear>> load_pack_quantized(const LinearLoadContext& ctx,
                                                          const LinearSpec& s,
                                                          const QuantGroup& g,
                                                          std::optional<at::Tensor> bias) {
  const qmath::QuantArgs& w = *g.weights;
  if (g.input_activations)
    return invalid_argument(s.module + ": config group '" + g.name +
                            "': pack-quantized with input activations is not supported");
  const std::string pname = s.module + ".weight_packed", shname = s.module + ".weight_shape";
  QB_ASSIGN_OR_RETURN(at::Tensor packed, load_raw(ctx, pname));
  QB_TRY(expect_dtype(packed, pname, at::kInt));
  const int64_t words = (s.in * w.num_bits + 31) / 32;
  QB_TRY(expect_shape(packed, pname, {s.out, words}));
  QB_ASSIGN_OR_RETURN(at::Tensor shape, load_raw(ctx, shname));
  shape = shape.to(at::kCPU).to(at::kLong);
  if (shape.numel() != 2 || shape[0].item<int64_t>() != s.out ||
      shape[1].item<int64_t>() != s.in)
    return invalid_argument(shname + ": expected [" + std::to_string(s.out) + ", " +
                            std::to_string(s.in) + "]");
  QB_ASSIGN_OR_RETURN(auto sshape, scale_shape(w, s, s.module + ".weight_scale"));
  QB_ASSIGN_OR_RETURN(at::Tensor scale, load_scale(ctx, s.module + ".weight_scale", sshape));
  QB_ASSIGN_OR_RETURN_CTX(at::Tensor q, qmath::unpack_int32(packed, w.num_bits, s.in), pname);
  at::Tensor zero_point;
  if (!w.symmetric) {
    // Packed along the output rows: int32 [ceil(out·bits/32), groups] (compressed_tensors.h).
    const std::string zname = s.module + ".weight_zero_point";
    QB_ASSIGN_OR_RETURN(at::Tensor zp, load_raw(ctx, zname));
    QB_TRY(expect_dtype(zp, zname, at::kInt));
    QB_TRY(expect_shape(zp, zname, {(s.out * w.num_bits + 31) / 32, sshape.size() == 2 ? sshape[1] : 1}));
    QB_ASSIGN_OR_RETURN_CTX(zero_point, qmath::unpack_int32_rows(zp.cpu(), w.num_bits, s.out), zname);
    zero_point = zero_point.to(ctx.device);
  }
  // Asymmetric layers (zero points) take the dequantized route: the kernels read symmetric codes.
  if (w.symmetric)
    if (auto wo = weight_only_layer(ctx, q, scale, w, bias)) return wo;
  const std::string label = "pack-quantized int" + std::to_string(w.num_bits) + " " +
                            qmath::strategy_name(w.strategy) + (w.symmetric ? "" : " with zero points") +
                            ", dequantized";
  return std::shared_ptr<const Linear>(std::make_shared<DenseLinear>(
      dequantize_weight(q, scale, zero_point, w, ctx.dtype), std::move(bias), label));
}

Result<std::shared_ptr<const Linear>> load_untransformed(const LinearLoadContext& ctx,
                                                         const LinearSpec& s) {
  std::optional<at::Tensor> bias;
  if (s.bias) {
    QB_ASSIGN_OR_RETURN(bias, load_float_tensor(ctx, s.module + ".bias", {s.out}));
  }
  const QuantGroup* g = nullptr;
  if (ctx.quant) {
    QB_ASSIGN_OR_RETURN(g, ctx.quant->group_for(s.module));
  }
  if (!g) {
    QB_ASSIGN_OR_RETURN(at::Tensor w, load_float_tensor(ctx, s.module + ".weight", {s.out, s.in}));
    return std::shared_ptr<const Linear>(std::make_shared<DenseLinear>(w, std::move(bias)));
  }
  if (!g->weights)
    return invalid_argument(s.module + ": config group '" + g->name +
                            "' quantizes only activations, which is not supported");
  QB_TRY(check_weight_args(*g->weights, *g, s.module));
  QB_TRY(reject_zero_point(ctx, s.module, *g->weights));
  if (g->format == "int-quantized") return load_int_quantized(ctx, s, *g, std::move(bias));
  if (g->format == "pack-quantized") return load_pack_quantized(ctx, s, *g, std::move(bias));
  return invalid_argument(s.module + ": config group '" + g->name + "': format '" + g->format +
                          "' is not supported (int-quantized, pack-quantized)");
}

}  // namespace

Result<at::Tensor> load_float_tensor(const LinearLoadContext& ctx, const std::string& name,
                                     const std::vector<int64_t>& shape) {
  QB_ASSIGN_OR_RETURN(at::Tensor t, load_raw(ctx, name));
  if (!at::isFloatingType(t.scalar_type()))
    return invalid_argument(name + ": dtype " + std::string(c10::toString(t.scalar_type())) +
                            ", expected a floating type");
  QB_TRY(expect_shape(t, name, shape));
  return t.to(ctx.dtype);
}

Result<std::shared_ptr<const Linear>> load_linear(const LinearLoadContext& ctx,
                                                  const LinearSpec& spec) {
  QB_ASSIGN_OR_RETURN(std::shared_ptr<const Linear> lin, load_untransformed(ctx, spec));
  if (!ctx.transforms) return lin;
  QB_ASSIGN_OR_RETURN(auto t, ctx.transforms->for_module(*ctx.ckpt, spec.module, spec.in));
  if (!t) return lin;
  return make_transformed(std::move(t), std::move(lin));
}

}  // namespace qb::model
