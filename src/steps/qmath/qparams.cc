// Scales, zero points, quantize / dequantize / fake-quantize (see qparams.h). Each function
// mirrors one compressed-tensors 0.19.0 function; the comments name it. The operations and
// their dtypes follow the reference exactly (no fusing, no reordering) because RTN results
// are compared bit for bit.
#include "steps/qmath/qparams.h"

#include <limits>
#include <string>

#include "steps/qmath/fp8.h"
#include "steps/qmath/observer.h"

namespace qb::qmath {
namespace {


// For group strategy: [..., in] -> [..., in/g, g] and scale [..., in/g] -> [..., in/g, 1]
// (_process_group). Other strategies broadcast as they are.
struct Grouped {
  at::Tensor x, scale, zp;
};
Grouped group_view(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zp,
                   const QuantArgs& args) {
  if (args.strategy != Strategy::kGroup) return {x, scale, zp};
  TORCH_CHECK(x.size(-1) % args.group_size == 0, "tensor column shape ", x.size(-1),
              " must be divisible by group_size ", args.group_size);
  at::Tensor s = scale, z = zp;
  while (s.dim() < 2) {
    s = s.unsqueeze(1);
    if (z.defined()) z = z.unsqueeze(1);
  }
  auto xv = x.unflatten(-1, {x.size(-1) / args.group_size, args.group_size});
  return {xv, s.unsqueeze(-1), z.defined() ? z.unsqueeze(-1) : z};
}

// x / scale (+ zp) in the promoted dtype, as compressed-tensors' eager _quantize and
// _quantize_dequantize compute it.
at::Tensor scaled_eager(const Grouped& g) {
  auto scaled = g.x / g.scale;
  if (g.zp.defined()) scaled += g.zp.to(g.x.scalar_type());
  return scaled;
}

at::Tensor round_clamp(const at::Tensor& scaled, const QuantArgs& args) {
  // round_to_quantized_type_args: clamp to [qmin, qmax], then torch.round (half to even); dtype
  // kept. The bounds are integers of at most 8 bits, exact in every floating dtype, so Scalar
  // bounds clamp exactly as the reference's fp32 0-dim tensors do (without two device fills).
  return at::round(at::clamp(scaled, static_cast<double>(args.qmin()),
                             static_cast<double>(args.qmax())));
}

}  // namespace

double dtype_eps(at::ScalarType t) {
  switch (t) {
    case at::kBFloat16: return 0.0078125;              // 2^-7
    case at::kHalf: return 0.0009765625;               // 2^-10
    case at::kFloat: return std::numeric_limits<float>::epsilon();
    case at::kDouble: return std::numeric_limits<double>::epsilon();
    default: return 1.0;
  }
}

QParams calculate_qparams(const at::Tensor& min_vals_in, const at::Tensor& max_vals_in,
                          const QuantArgs& args) {
  // calculate_qparams (quantization/utils/helpers.py); float args: range ∓448 (fp8.h).
  if (args.type == QuantType::kFloat) return fp8_calculate_qparams(min_vals_in, max_vals_in);
  auto min_vals = at::minimum(min_vals_in, at::zeros_like(min_vals_in));
  auto max_vals = at::maximum(max_vals_in, at::zeros_like(max_vals_in));
  const auto dtype = min_vals.scalar_type();
  const double bit_min = static_cast<double>(args.qmin());
  const double bit_range = static_cast<double>(args.qmax() - args.qmin());
  at::Tensor scales, zero_points;
  if (args.symmetric) {
    auto max_val_pos = at::maximum(at::abs(min_vals), at::abs(max_vals));
    // bit_range.to(max_val_pos.dtype) / 2, a 0-dim tensor of that dtype.
    auto half_range = at::scalar_tensor(bit_range, max_val_pos.options()) / 2;
    scales = max_val_pos / half_range;
    zero_points = at::zeros(scales.sizes(), min_vals.options());
  } else {
    scales = (max_vals - min_vals) / at::scalar_tensor(bit_range, max_vals.options());
    auto lo = at::scalar_tensor(bit_min, min_vals.options().dtype(at::kFloat));
    auto hi = at::scalar_tensor(static_cast<double>(args.qmax()),
                                min_vals.options().dtype(at::kFloat));
    zero_points = at::clamp(lo - (min_vals / scales), lo, hi);
    // An all-zero range gives 0/0 here; the reference's int8 cast of NaN is undefined, qbuild
    // defines it as 0.
    zero_points = at::nan_to_num(zero_points, 0.0);
  }
  auto eps = at::scalar_tensor(dtype_eps(scales.scalar_type()), scales.options());
  scales = at::where(scales == 0, eps, scales);
  // round_to_quantized_type_dtype(zp, int8): round(clamp(zp, -128, 127)).to(int8).
  zero_points = at::round(at::clamp(zero_points, -128, 127)).to(at::kChar);
  if (scales.dim() == 0) {
    scales = scales.reshape({1});
    zero_points = zero_points.reshape({1});
  }
  (void)dtype;
  return {scales, zero_points};
}

at::Tensor flatten_for_calibration(const at::Tensor& x, const QuantArgs& args, Role role) {
  if (role == Role::kWeight) {
    TORCH_CHECK(x.dim() == 2, "weight must be 2-D, got ", x.dim(), "-D");
    switch (args.strategy) {
      case Strategy::kTensor: return x.reshape({1, 1, -1});
      case Strategy::kChannel: return x.unsqueeze(-2).unsqueeze(0);
      case Strategy::kGroup:
        TORCH_CHECK(x.size(1) % args.group_size == 0, "weight columns ", x.size(1),
                    " not divisible by group_size ", args.group_size);
        return x.unflatten(-1, {-1, args.group_size}).unsqueeze(0);
      case Strategy::kBlock: {
        // _flatten_weight (BLOCK): (1, out/bh, in/bw, bh*bw); qbuild requires the block to
        // divide the weight (compressed-tensors would zero-pad it).
        const auto [bh, bw] = args.block_structure;
        TORCH_CHECK(bh > 0 && bw > 0 && x.size(0) % bh == 0 && x.size(1) % bw == 0,
                    "block_structure [", bh, ", ", bw, "] does not divide the weight ", x.sizes());
        return x.reshape({x.size(0) / bh, bh, x.size(1) / bw, bw}).transpose(1, 2).flatten(-2, -1)
            .unsqueeze(0);
      }
      case Strategy::kToken: TORCH_CHECK(false, "Token quantization cannot be applied to weights");
      case Strategy::kAttnHead:
        TORCH_CHECK(false, "Attention head quantization cannot be applied to weights");
    }
  }
  switch (args.strategy) {
    case Strategy::kTensor: return x.reshape({-1, 1, x.size(-1)});
    case Strategy::kToken: return x;
    case Strategy::kChannel:
      TORCH_CHECK(false, "Channel quantization cannot be applied to activations");
    case Strategy::kGroup:
      TORCH_CHECK(false, "qbuild does not observe group-quantized activations (dynamic only)");
    case Strategy::kBlock:
      TORCH_CHECK(false, "Block quantization cannot be applied to activations");
    case Strategy::kAttnHead:  // key/value states [B, KVH, T, D]: (B*T, KVH, 1, 1, D)
      return x.transpose(1, 2).flatten(0, 1).unsqueeze(-2).unsqueeze(-2);
  }
  return x;
}

std::pair<at::Tensor, at::Tensor> reduce_min_max(const at::Tensor& x, const QuantArgs& args,
                                                 Role role) {
  if (role == Role::kInputActivation && args.strategy == Strategy::kToken) {
    // compute_dynamic_scales_and_zp (token): reduce the hidden dim, keep the rest.
    return {at::amin(x, {-1}, true), at::amax(x, {-1}, true)};
  }
  auto f = flatten_for_calibration(x, args, role);
  // observers/min_max.py _get_min_max: amin/amax over (0, -1).
  return {at::amin(f, {0, -1}), at::amax(f, {0, -1})};
}

at::Tensor quantize(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero_point,
                    const QuantArgs& args) {
  // forward_helpers.py _quantize_kernel (the Triton path llm-compressor takes on GPUs): the
  // division in float32 (float64 when either operand is), then clamp and rint. The eager CPU
  // path divides in the weight dtype instead (bf16 / bf16 rounds to bf16 before the integer
  // rounding) and can land one code off; codes of a GPTQ / fake-quantized bf16 weight would
  // then not round-trip. See quantize_eager() for that variant.
  auto g = group_view(x, scale, zero_point, args);
  const bool dbl = g.x.scalar_type() == at::kDouble || g.scale.scalar_type() == at::kDouble;
  const auto opmath = dbl ? at::kDouble : at::kFloat;
  auto scaled = g.x.to(opmath) / g.scale.to(opmath);
  if (g.zp.defined()) scaled += g.zp.to(opmath);
  auto q = round_clamp(scaled, args).to(at::kChar);
  if (args.strategy == Strategy::kGroup) q = q.flatten(-2);
  return q;
}

at::Tensor quantize_eager(const at::Tensor& x, const at::Tensor& scale,
                          const at::Tensor& zero_point, const QuantArgs& args) {
  // forward_helpers.py _quantize (the eager path, compressed-tensors on CPU).
  auto g = group_view(x, scale, zero_point, args);
  auto q = round_clamp(scaled_eager(g), args).to(at::kChar);
  if (args.strategy == Strategy::kGroup) q = q.flatten(-2);
  return q;
}

at::Tensor dequantize(const at::Tensor& q, const at::Tensor& scale, const at::Tensor& zero_point,
                      const QuantArgs& args) {
  // forward_helpers.py _dequantize; dtype = scale.dtype.
  auto g = group_view(q, scale, zero_point, args);
  auto v = g.x.to(g.scale.scalar_type());
  if (g.zp.defined()) v = v - g.zp.to(g.scale.scalar_type());
  v = v * g.scale;
  if (args.strategy == Strategy::kGroup) v = v.flatten(-2);
  return v;
}

at::Tensor fake_quantize(const at::Tensor& x, const at::Tensor& scale,
                         const at::Tensor& zero_point, const QuantArgs& args) {
  // forward_helpers.py _quantize_dequantize.
  auto g = group_view(x, scale, zero_point, args);
  auto rounded = round_clamp(scaled_eager(g), args);
  auto dq = rounded.to(g.scale.scalar_type());
  if (g.zp.defined()) dq = dq - g.zp.to(g.scale.scalar_type());
  dq = dq * g.scale;
  if (args.strategy == Strategy::kGroup) dq = dq.flatten(-2).to(x.scalar_type());
  return dq;
}

at::Tensor fake_quantize_dynamic(const at::Tensor& x, const QuantArgs& args) {
  // forward.py forward_quantize with dynamic args -> compute_dynamic_scales_and_zp.
  at::Tensor mn, mx;
  if (args.strategy == Strategy::kToken) {
    std::tie(mn, mx) = reduce_min_max(x, args, Role::kInputActivation);
  } else {
    TORCH_CHECK(args.strategy == Strategy::kTensor,
                "dynamic quantization: qbuild supports token and tensor strategies");
    mn = at::amin(x);
    mx = at::amax(x);
  }
  auto qp = calculate_qparams(mn, mx, args);
  return fake_quantize(x, qp.scale, qp.zero_point, args);
}

Result<QuantizedWeight> rtn_quantize_weight(const at::Tensor& weight, const QuantArgs& args) {
  QB_TRY(check_int_args(args));
  if (weight.dim() != 2 || !at::isFloatingType(weight.scalar_type()))
    return invalid_argument("rtn: weight must be a 2-D floating tensor");
  if (args.strategy == Strategy::kToken)
    return invalid_argument("rtn: token strategy cannot be applied to weights");
  if (args.strategy == Strategy::kGroup && weight.size(1) % args.group_size != 0)
    return invalid_argument("rtn: weight columns " + std::to_string(weight.size(1)) +
                            " are not divisible by group_size " +
                            std::to_string(args.group_size));
  QB_ASSIGN_OR_RETURN(Observer obs, Observer::create(args, Role::kWeight));
  obs.observe(weight);
  QB_ASSIGN_OR_RETURN(QParams qp, obs.qparams());
  auto q = quantize(weight, qp.scale, qp.zero_point, args);
  return QuantizedWeight{q, qp};
}

}  // namespace qb::qmath
