// Int8 kernels for the W8A8 runtime (the dense-int8 linear layer of steps/model).
//
// Two per-token conventions exist and qbuild uses each on purpose:
//   * vLLM (what a W8A8 checkpoint is served with; csrc/quantization/compressed_tensors/
//     int8_quant_kernels.cu, dynamic_scaled_int8_quant): scale = absmax / 127,
//     q = saturate_int8(rint(x * (127 / absmax))) — multiplication by the reciprocal,
//     round-half-to-even, saturation. quantize_per_token_dynamic() implements this; the qbuild
//     runtime uses it to evaluate quantized models the way vLLM serves them.
//   * compressed-tensors (llm-compressor's fake-quant forward): scale = absmax / 127.5,
//     q = clamp(round(x / scale), -128, 127). qparams.h fake_quantize_dynamic() implements it;
//     the quantize step uses it only where it reproduces llm-compressor's calibration.
// A row of zeros gets scale 0 and codes 0 in the vLLM convention (its kernel would produce
// 0 * inf; qbuild defines the result instead).
#pragma once

#include <ATen/ATen.h>

namespace qb::qmath {

struct PerTokenInt8 {
  at::Tensor q;      // int8 [..., K]
  at::Tensor scale;  // float32 [..., 1]; x ≈ q * scale
};

// vLLM's dynamic per-token int8 quantization of x [..., K] (any floating dtype; computed in
// float32). May throw c10::Error for a non-floating x.
PerTokenInt8 quantize_per_token_dynamic(const at::Tensor& x);

// Static per-tensor int8 quantization with a given scale [1] (vLLM static_scaled_int8_quant:
// q = saturate(rint(x / scale))). May throw c10::Error.
at::Tensor quantize_per_tensor_static(const at::Tensor& x, const at::Tensor& scale);

// Exact int32 product a [M, K] · bᵀ where b is [N, K] (a weight in nn.Linear layout), both int8
// on the same device. CUDA: at::_int_mm, padding M up to 17 and K, N up to multiples of 8 with
// zeros (its shape constraints); CPU: float64 GEMM, exact because every partial sum is an
// integer of magnitude < 2^53 for K < 2^38. May throw c10::Error (dtype/shape/device mismatch).
at::Tensor int8_matmul(const at::Tensor& a, const at::Tensor& b);

// Plain triple loop in int64, for tests. CPU tensors only.
at::Tensor reference_int8_matmul(const at::Tensor& a, const at::Tensor& b);

// y = (a_q · w_qᵀ) * a_scale * w_scaleᵀ (+ bias) in float32, cast to out_dtype: the epilogue of
// vLLM's cutlass_scaled_mm. a_scale [M, 1] or [1]; w_scale [N, 1] or [1]. May throw c10::Error.
at::Tensor scaled_int8_linear(const at::Tensor& a_q, const at::Tensor& a_scale,
                              const at::Tensor& w_q, const at::Tensor& w_scale,
                              const at::Tensor& bias, at::ScalarType out_dtype);

}  // namespace qb::qmath
