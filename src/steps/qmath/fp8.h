// FP8 (e4m3, torch.float8_e4m3fn) quantization arithmetic with compressed-tensors 0.19.0's
// conventions, reproduced operation by operation so RTN codes and scales are bit-identical to
// llm-compressor 0.14.0.1 for the same input dtype (tests/golden/scripts/fp8_golden.py):
//
//   REFERENCE: compressed-tensors quantization/utils/helpers.py calculate_qparams,
//     _calculate_range (FLOAT, 8 bits: q_min/q_max = ∓torch.finfo(float8_e4m3fn).max = ∓448),
//     _get_dtype_eps; quant_args.py round_to_quantized_type_args (FLOAT: clamp, then
//     .to(float8_e4m3fn)); lifecycle/forward_helpers.py _quantize, _quantize_kernel (Triton),
//     _dequantize, _quantize_dequantize, _process_block; llm-compressor observers/helpers.py
//     _flatten_weight (BLOCK), _flatten_attention (TENSOR, ATTN_HEAD).
//
//   min' = min(min, 0), max' = max(max, 0)
//   scale = max(|min'|, |max'|) / (896 / 2) = absmax / 448, in the dtype of the statistics
//           (the observed tensor's: the model dtype); a zero scale becomes torch.finfo(that
//           dtype).eps (2^-7 bf16, 2^-10 fp16, 2^-23 fp32), as for int
//   q     = fp8(clamp(x / scale, -448, 448)): IEEE division, then round to nearest e4m3, ties
//           to even (PyTorch's float -> Float8_e4m3fn conversion; Triton's .to(float8e4nv))
//   x̂     = q.to(scale dtype) * scale
// Scale shapes: tensor [1], channel [out, 1], block [out / rows, in / cols] (block_structure
// [rows, cols]; qbuild requires both to divide the weight — compressed-tensors zero-pads, vLLM
// rejects most such layers); static activations [1]; KV cache [1] (tensor) or [KVH, 1, 1]
// (attn_head, over key/value states [B, KVH, T, D]).
//
// Which division: quantize() divides in float32 (float64 if an operand is), as compressed-
// tensors' Triton kernel does on GPUs — the codes qbuild stores, so the codes of a fake-quantized
// bf16 weight round-trip; quantize_eager() divides in the promoted dtype as its CPU path does (a
// bf16 weight's quotient is rounded to bf16 first, then to e4m3: 3% of codes differ on the
// golden bf16 cases). Both agree for float32 weights.
//
// Functions "may throw c10::Error" only for tensors that violate the documented shapes; callers
// validate with check_fp8_args() and the shape checks in steps/quant first.
#pragma once

#include <ATen/ATen.h>

#include <utility>

#include "steps/qmath/qparams.h"
#include "steps/qmath/quant_args.h"
#include "util/status.h"

namespace qb::qmath {

inline constexpr double kFp8Max = 448.0;  // torch.finfo(torch.float8_e4m3fn).max

// round_to_quantized_type_args for FLOAT 8: clamp to [-448, 448], then the nearest e4m3 value
// (ties to even). Returns float8_e4m3fn, same shape. May throw c10::Error.
at::Tensor round_to_fp8(const at::Tensor& x);

// calculate_qparams for fp8 args (symmetric only): scale as in the file comment, in the dtype
// of min_vals; zero_point int8 zeros of the same shape (compressed-tensors' are float8 zeros;
// symmetric zero points are never stored). May throw c10::Error.
QParams fp8_calculate_qparams(const at::Tensor& min_vals, const at::Tensor& max_vals);

// The weight observer's min/max (memoryless_minmax) for tensor, channel or block args:
// [1], [out, 1] or [out / rows, in / cols]. Errors: other strategies, a block_structure that
// does not divide the weight, a non-2-D weight.
Result<std::pair<at::Tensor, at::Tensor>> fp8_weight_min_max(const at::Tensor& weight,
                                                             const QuantArgs& args);

// `scale` of a block-strategy weight [out / rows, in / cols] repeated to [out, in] (any other
// scale is returned as is: it broadcasts). May throw c10::Error.
at::Tensor expand_block_scale(const at::Tensor& scale, const QuantArgs& args);

// Codes (float8_e4m3fn, x's shape) with the division in float32 (see the file comment); scale has
// the qparam shape of args.strategy for x. May throw c10::Error.
at::Tensor fp8_quantize(const at::Tensor& x, const at::Tensor& scale, const QuantArgs& args);
// The same with compressed-tensors' eager CPU arithmetic (division in the promoted dtype).
at::Tensor fp8_quantize_eager(const at::Tensor& x, const at::Tensor& scale, const QuantArgs& args);
// Float values of codes, in scale's dtype. May throw c10::Error.
at::Tensor fp8_dequantize(const at::Tensor& q, const at::Tensor& scale, const QuantArgs& args);
// _quantize_dequantize: x / scale in the promoted dtype, clamp, e4m3, back to that dtype, to the
// scale dtype, times the scale (group strategy: cast to x's dtype at the end).
at::Tensor fp8_fake_quantize(const at::Tensor& x, const at::Tensor& scale, const QuantArgs& args);

// compute_dynamic_scales_and_zp + fake_quantize for dynamic fp8 activations x [..., K] as
// compressed-tensors computes them in its own forward (per token: [..., 1] scales; per group:
// [..., K / group_size]; per tensor: [1]). This is transformers/compressed-tensors' convention,
// not vLLM's (fp8_gemm.h); qbuild uses it only to compare with them. May throw c10::Error.
at::Tensor fp8_fake_quantize_dynamic(const at::Tensor& x, const QuantArgs& args);

// Round-to-nearest fp8 weight quantization: memoryless min/max on `weight` [out, in] in its own
// dtype, fp8_calculate_qparams, fp8_quantize. q is float8_e4m3fn [out, in].
// Errors: check_fp8_args(), a non-2-D or non-floating weight, a block that does not divide it,
// strategies other than tensor, channel and block.
Result<QuantizedWeight> fp8_rtn_quantize_weight(const at::Tensor& weight, const QuantArgs& args);

// K/V states x [B, KVH, T, D] rounded through e4m3 with a kv scale ([1] or [KVH, 1, 1]): what
// compressed-tensors' QuantizedKVCache does to every key/value before the cache (x / scale in
// x's dtype, clamp, e4m3, back, times the scale; result in x's dtype). May throw c10::Error.
at::Tensor fp8_kv_fake_quantize(const at::Tensor& x, const at::Tensor& scale);

}  // namespace qb::qmath
