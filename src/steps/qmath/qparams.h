// Scales, zero points and the quantize / dequantize / fake-quantize arithmetic, with
// compressed-tensors 0.19.0's conventions (quantization/utils/helpers.py calculate_qparams,
// quantization/lifecycle/forward.py) reproduced operation by operation, so that RTN results are
// bit-identical to the reference for the same input dtype:
//
//   min' = min(min, 0), max' = max(max, 0)           (0 must be representable)
//   symmetric:  scale = max(|min'|, |max'|) / ((qmax - qmin) / 2)   = absmax / 127.5 for int8
//               zero_point = 0
//   asymmetric: scale = (max' - min') / (qmax - qmin),  zp = round(clamp(qmin - min'/scale))
//   scale == 0 -> torch.finfo(scale dtype).eps
//   quantize:   q = round_half_even(clamp(x / scale + zp, qmin, qmax))   (x / scale in fp32)
//   dequantize: (q.to(scale dtype) - zp) * scale
//
// Every operation runs in the dtypes PyTorch's type promotion gives, except quantize() (see
// there): scales therefore come out in the dtype of the observed tensor, i.e. the model dtype. Scale shapes: tensor [1], channel [out, 1], group [out, in / group_size],
// token [..., 1] (leading shape of x).
//
// Functions here "may throw c10::Error" only for tensors that violate the documented shapes;
// callers validate with check_int_args() and the shape checks in steps/quant first.
#pragma once

#include <ATen/ATen.h>

#include "steps/qmath/quant_args.h"

namespace qb::qmath {

struct QParams {
  at::Tensor scale;       // floating, dtype of the observed values (see file comment)
  at::Tensor zero_point;  // int8 (num_bits <= 8), same shape as scale; zeros when symmetric
};

// _get_dtype_eps: torch.finfo(t).eps for a floating scale dtype (a zero scale becomes it).
double dtype_eps(at::ScalarType t);

// From reduced min/max statistics (any matching shapes). May throw c10::Error.
QParams calculate_qparams(const at::Tensor& min_vals, const at::Tensor& max_vals,
                          const QuantArgs& args);

// llm-compressor's flatten_for_calibration: a view [num_observations, *qparam_shape, group]
// (weight tensor (1, 1, N); channel (1, out, 1, in); group (1, out, in/g, g); activation tensor
// (N, 1, in); token: x itself). May throw c10::Error.
at::Tensor flatten_for_calibration(const at::Tensor& x, const QuantArgs& args, Role role);

// Min/max of `x` reduced to the qparam shape of `args.strategy`:
//   weight [out, in]: tensor -> [1], channel -> [out, 1], group -> [out, in/group_size]
//   activation [..., in]: tensor -> [1], token -> [..., 1]
// (llm-compressor's flatten_for_calibration + amin/amax over (0, -1)). May throw c10::Error.
std::pair<at::Tensor, at::Tensor> reduce_min_max(const at::Tensor& x, const QuantArgs& args,
                                                 Role role);

// Integer codes of x, as int8 (num_bits <= 8), same shape as x. `scale`/`zero_point` have the
// qparam shape of args.strategy for x (zero_point may be undefined when symmetric).
// x / scale is computed in float32 (float64 if either is float64), as compressed-tensors'
// Triton quantize kernel does on GPUs — the convention qbuild uses for the codes it stores:
// codes of a fake-quantized bf16 weight then round-trip exactly. May throw c10::Error.
at::Tensor quantize(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero_point,
                    const QuantArgs& args);

// The same with compressed-tensors' eager (CPU) arithmetic: x / scale in the promoted dtype, so
// a bf16 weight's quotient is rounded to bf16 before the integer rounding. Identical to
// quantize() for float32 weights; for bf16 it can differ by one code. Kept for golden tests
// against the CPU oracle. May throw c10::Error.
at::Tensor quantize_eager(const at::Tensor& x, const at::Tensor& scale,
                          const at::Tensor& zero_point, const QuantArgs& args);

// Float values of integer codes `q`, in scale's dtype. May throw c10::Error.
at::Tensor dequantize(const at::Tensor& q, const at::Tensor& scale, const at::Tensor& zero_point,
                      const QuantArgs& args);

// quantize then dequantize, fused as compressed-tensors' _quantize_dequantize does (the
// rounded value stays floating). Result dtype as the reference's: scale's dtype for tensor,
// channel and token strategies, x's dtype for group. May throw c10::Error.
at::Tensor fake_quantize(const at::Tensor& x, const at::Tensor& scale,
                         const at::Tensor& zero_point, const QuantArgs& args);

// Round-to-nearest weight quantization: the weight observer (memoryless min/max, or MSE when
// args.observer asks for it) on `weight` [out, in] in its own dtype, then quantize().
struct QuantizedWeight {
  at::Tensor q;           // int8 [out, in]
  QParams qparams;        // scale in weight's dtype
};
// Errors: check_int_args(), a non-2-D or non-floating weight, group_size not dividing `in`.
Result<QuantizedWeight> rtn_quantize_weight(const at::Tensor& weight, const QuantArgs& args);

// Dynamic activation fake-quantization as compressed-tensors does it in calibration/fake-quant
// forward passes (absmax / 127.5 per token or per tensor). NOT what vLLM's int8 kernel does;
// see int8_gemm.h for that one. May throw c10::Error.
at::Tensor fake_quantize_dynamic(const at::Tensor& x, const QuantArgs& args);

}  // namespace qb::qmath
