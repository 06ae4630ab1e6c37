// FP8 e4m3 arithmetic (see fp8.h). Each function mirrors one compressed-tensors 0.19.0 /
// llm-compressor 0.14.0.1 function, named in its comment; operations and dtypes follow the
// reference exactly because RTN codes and scales are compared bit for bit.
#include "steps/qmath/fp8.h"

#include <limits>
#include <string>

namespace qb::qmath {
namespace {

bool is_block(const QuantArgs& args) { return args.strategy == Strategy::kBlock; }

// x / scale in float32 (float64 when either is), the scale broadcast over x.
at::Tensor divide_opmath(const at::Tensor& x, const at::Tensor& scale) {
  const bool dbl = x.scalar_type() == at::kDouble || scale.scalar_type() == at::kDouble;
  const auto opmath = dbl ? at::kDouble : at::kFloat;
  return x.to(opmath) / scale.to(opmath);
}

// For group strategy: [..., K] -> [..., K/g, g] and scale [..., K/g] -> [..., K/g, 1]
// (_process_group).
std::pair<at::Tensor, at::Tensor> group_view(const at::Tensor& x, const at::Tensor& scale,
                                             const QuantArgs& args) {
  TORCH_CHECK(x.size(-1) % args.group_size == 0, "tensor column shape ", x.size(-1),
              " must be divisible by group_size ", args.group_size);
  at::Tensor s = scale;
  while (s.dim() < 2) s = s.unsqueeze(1);
  return {x.unflatten(-1, {x.size(-1) / args.group_size, args.group_size}), s.unsqueeze(-1)};
}

}  // namespace

at::Tensor round_to_fp8(const at::Tensor& x) {
  // round_to_quantized_type_args (FLOAT, 8 bits): torch.clamp(tensor, q_min, q_max) with the
  // fp32 0-dim bounds ∓448 (exact in every floating dtype, so Scalar bounds clamp identically;
  // the result keeps x's dtype), then .to(torch.float8_e4m3fn): round to nearest, ties to even.
  return at::clamp(x, -kFp8Max, kFp8Max).to(at::kFloat8_e4m3fn);
}

QParams fp8_calculate_qparams(const at::Tensor& min_vals_in, const at::Tensor& max_vals_in) {
  // calculate_qparams (quantization/utils/helpers.py), symmetric branch.
  auto min_vals = at::minimum(min_vals_in, at::zeros_like(min_vals_in));
  auto max_vals = at::maximum(max_vals_in, at::zeros_like(max_vals_in));
  auto max_val_pos = at::maximum(at::abs(min_vals), at::abs(max_vals));
  // bit_range = q_max - q_min = 896 (an fp32 0-dim tensor); .to(max_val_pos.dtype) / 2 = 448,
  // exact in every floating dtype: one tensor / tensor division in the statistics' dtype.
  auto half_range = at::scalar_tensor(2 * kFp8Max, max_val_pos.options()) / 2;
  auto scales = max_val_pos / half_range;
  auto eps = at::scalar_tensor(dtype_eps(scales.scalar_type()), scales.options());
  scales = at::where(scales == 0, eps, scales);
  auto zero_points = at::zeros(scales.sizes(), scales.options().dtype(at::kChar));
  if (scales.dim() == 0) {
    scales = scales.reshape({1});
    zero_points = zero_points.reshape({1});
  }
  return {scales, zero_points};
}

Result<std::pair<at::Tensor, at::Tensor>> fp8_weight_min_max(const at::Tensor& w,
                                                             const QuantArgs& args) {
  if (w.dim() != 2) return invalid_argument("fp8: weight must be 2-D");
  switch (args.strategy) {
    case Strategy::kBlock: {
      const auto [bh, bw] = args.block_structure;
      if (bh <= 0 || bw <= 0 || w.size(0) % bh != 0 || w.size(1) % bw != 0)
        return invalid_argument("fp8: block_structure [" + std::to_string(bh) + ", " +
                                std::to_string(bw) + "] does not divide the weight [" +
                                std::to_string(w.size(0)) + ", " + std::to_string(w.size(1)) + "]");
      [[fallthrough]];
    }
    case Strategy::kTensor:
    case Strategy::kChannel:
      // _flatten_weight ((1, 1, N); (1, out, 1, in); (1, out/bh, in/bw, bh*bw)), then the
      // memoryless min/max observer's amin/amax over (0, -1).
      return reduce_min_max(w, args, Role::kWeight);
    default:
      return invalid_argument(std::string("fp8: strategy '") + strategy_name(args.strategy) +
                              "' cannot be applied to weights (tensor, channel or block)");
  }
}

at::Tensor expand_block_scale(const at::Tensor& scale, const QuantArgs& args) {
  if (!is_block(args)) return scale;
  // _process_block broadcasts scale[i, j] over block (i, j); the same values, laid out flat.
  return scale.repeat_interleave(args.block_structure[0], 0)
      .repeat_interleave(args.block_structure[1], 1);
}

at::Tensor fp8_quantize(const at::Tensor& x, const at::Tensor& scale, const QuantArgs& args) {
  // forward_helpers.py _quantize_kernel (Triton): tl.div_rn(input.to(fp32), scale.to(fp32)),
  // clamp, .to(tl.float8e4nv). Group strategy: the scale of each column's group.
  if (args.strategy == Strategy::kGroup) {
    auto [xv, sv] = group_view(x, scale, args);
    return round_to_fp8(divide_opmath(xv, sv)).flatten(-2);
  }
  return round_to_fp8(divide_opmath(x, expand_block_scale(scale, args)));
}

at::Tensor fp8_quantize_eager(const at::Tensor& x, const at::Tensor& scale, const QuantArgs& args) {
  // forward_helpers.py _quantize (eager): scaled = x / scale in the promoted dtype.
  if (args.strategy == Strategy::kGroup) {
    auto [xv, sv] = group_view(x, scale, args);
    return round_to_fp8(xv / sv).flatten(-2);
  }
  return round_to_fp8(x / expand_block_scale(scale, args));
}

at::Tensor fp8_dequantize(const at::Tensor& q, const at::Tensor& scale, const QuantArgs& args) {
  // forward_helpers.py _dequantize: x_q.to(scale.dtype) * scale.
  if (args.strategy == Strategy::kGroup) {
    auto [qv, sv] = group_view(q, scale, args);
    return (qv.to(sv.scalar_type()) * sv).flatten(-2);
  }
  const at::Tensor s = expand_block_scale(scale, args);
  return q.to(s.scalar_type()) * s;
}

at::Tensor fp8_fake_quantize(const at::Tensor& x, const at::Tensor& scale, const QuantArgs& args) {
  // forward_helpers.py _quantize_dequantize: the rounded value goes back to the quotient's
  // dtype (round_to_quantized_type_args' cast_to_original_dtype), then to the scale dtype.
  auto qdq = [](const at::Tensor& xv, const at::Tensor& sv) {
    const at::Tensor scaled = xv / sv;
    return round_to_fp8(scaled).to(scaled.scalar_type()).to(sv.scalar_type()) * sv;
  };
  if (args.strategy == Strategy::kGroup) {
    auto [xv, sv] = group_view(x, scale, args);
    return qdq(xv, sv).flatten(-2).to(x.scalar_type());  // _process_group's output_dtype
  }
  return qdq(x, expand_block_scale(scale, args));
}

at::Tensor fp8_fake_quantize_dynamic(const at::Tensor& x, const QuantArgs& args) {
  // forward.py forward_quantize (dynamic) -> compute_dynamic_scales_and_zp -> fake_quantize.
  at::Tensor mn, mx;
  switch (args.strategy) {
    case Strategy::kToken:  // reduce every dim but the first two ([B, T, K] -> [B, T, 1])
      mn = at::amin(x, {-1}, true);
      mx = at::amax(x, {-1}, true);
      break;
    case Strategy::kGroup: {  // unflatten(-1, (K/g, g)), reduce -1 without keepdim
      TORCH_CHECK(x.size(-1) % args.group_size == 0, "fp8: columns ", x.size(-1),
                  " not divisible by group_size ", args.group_size);
      auto v = x.unflatten(-1, {x.size(-1) / args.group_size, args.group_size});
      mn = at::amin(v, {-1});
      mx = at::amax(v, {-1});
      break;
    }
    case Strategy::kTensor:  // torch.aminmax over everything
      mn = at::amin(x);
      mx = at::amax(x);
      break;
    default:
      TORCH_CHECK(false, "fp8: dynamic activations per token, group or tensor only");
  }
  auto qp = fp8_calculate_qparams(mn, mx);
  return fp8_fake_quantize(x, qp.scale, args);
}

Result<QuantizedWeight> fp8_rtn_quantize_weight(const at::Tensor& weight, const QuantArgs& args) {
  QB_TRY(check_fp8_args(args));
  if (weight.dim() != 2 || !at::isFloatingType(weight.scalar_type()))
    return invalid_argument("rtn: weight must be a 2-D floating tensor");
  // The weight observer (memoryless_minmax) in the weight's dtype, then calculate_qparams.
  QB_ASSIGN_OR_RETURN(auto mm, fp8_weight_min_max(weight, args));
  QParams qp = fp8_calculate_qparams(mm.first, mm.second);
  return QuantizedWeight{fp8_quantize(weight, qp.scale, args), qp};
}

at::Tensor fp8_kv_fake_quantize(const at::Tensor& x, const at::Tensor& scale) {
  // QuantizedKVCache.forward -> forward_quantize(module, key_states, "k", args) ->
  // _quantize_dequantize with the static k_scale / v_scale, computed here in float32 as vLLM's
  // cache write does (float(x) / scale, to e4m3) and read back (e4m3 * scale): for a float32
  // model the same operations as compressed-tensors'; for bf16 the quotient is not rounded to
  // bf16 before e4m3 (vLLM's convention).
  const at::Tensor s = scale.to(at::kFloat);
  return (round_to_fp8(x.to(at::kFloat) / s).to(at::kFloat) * s).to(x.scalar_type());
}

}  // namespace qb::qmath
