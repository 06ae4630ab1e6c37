// FP8 kernels of the W8A8-FP8 runtime (steps/model Fp8Linear): activation quantization in vLLM's
// conventions and the scaled FP8 GEMM — torch._scaled_mm (FP8 tensor cores) on CUDA, an exact
// emulation everywhere else. ATen ops only, so this compiles against CPU and CUDA libtorch alike.
//
// Activations, as vLLM serves a compressed-tensors FP8 checkpoint
// (REFERENCE: vllm/model_executor/layers/quantization/input_quant_fp8.py QuantFP8.forward_native
// and _quantize_group_native; CompressedTensorsW8A8Fp8 picks per-tensor static, per-token
// dynamic, or per-group dynamic with the weight's block size):
//   static per tensor   s = input_scale (fp32); q = e4m3(clamp(x·(1/s), ±448))
//   dynamic per token   s = max(absmax_row(x) / 448, 1/(448·512)) in fp32;
//                       q = e4m3(clamp(x·(1/s), ±448))    (multiplication by the reciprocal)
//   dynamic per group   s = max(absmax_group(x) / 448, 1/(448·512)) in fp32, [M, K/g];
//                       q = e4m3(clamp(x / s, ±448))      (a division, as _quantize_group_native)
// These differ from compressed-tensors' calibration-time fake quantization (fp8.h
// fp8_fake_quantize_dynamic: scale in the activation dtype, no lower bound, division) in the
// last bit of some codes; qbuild's runtime evaluates models the way vLLM serves them.
//
// GEMM: y = (Σ_k a_q[m,k]·w_q[n,k]) · s_a[m] · s_w[n] (+ bias), the epilogue of
// cutlass_scaled_mm / torch._scaled_mm in fp32, then cast to the compute dtype. Block weights
// (w8a8_block_fp8_matmul): acc[m,n] = Σ_g (Σ_{k in g} a_q·w_q) · s_a[m,g] · s_w[n/bn, g] in fp32,
// k-blocks in order. The inner sums are computed exactly (products of two e4m3 values have
// 8 significant bits; their sums are exact in float64 for K < 2^17) and rounded once to fp32:
// the value a tensor core approximates, without its accumulation-order rounding — so the CPU
// and GPU emulations agree bit for bit up to the final casts.
//
// Backends (fp8_gemm_backend): fp8_scaled_mm / fp8_block_scaled_mm are the one place the
// runtime multiplies FP8 operands — a faster kernel (issue 17's) replaces the body there.
//   kScaledMm  CUDA tensors: at::_scaled_mm (cuBLASLt / CUTLASS; needs compute capability 8.9+,
//              and Hopper for blocks): per-tensor × per-tensor scales as TensorWise, any other
//              per-tensor / per-token / per-channel mix as RowWise (scales expanded to [M, 1] and
//              [1, N]), 128×128 weight blocks with per-group-128 activations as (BlockWise1x128,
//              BlockWise128x128). fp32 accumulation in the tensor cores (not exact: the GPU
//              tests compare against the exact emulation with a tolerance), scales applied in
//              the fp32 epilogue, then the output dtype. K and N must be multiples of 16 (blocks:
//              128×128 only); other shapes use kExact on the same device.
//   kExact     the emulation above (CPU tests and CI; any device).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace qb::qmath {

struct Fp8Quantized {
  at::Tensor q;      // float8_e4m3fn [M, K]
  at::Tensor scale;  // float32: [1] (static), [M, 1] (per token), [M, K / group] (per group)
};

// vLLM's FP8 lower bound on dynamic scales, 1 / (448 · 512).
inline constexpr double kFp8MinScalingFactor = 1.0 / (448.0 * 512.0);

// x [M, K] floating (any dtype). May throw c10::Error (non-floating x, bad shapes).
Fp8Quantized fp8_quantize_static(const at::Tensor& x, const at::Tensor& input_scale);
Fp8Quantized fp8_quantize_per_token_dynamic(const at::Tensor& x);
// K must be a multiple of group_size (qbuild's block rule).
Fp8Quantized fp8_quantize_per_group_dynamic(const at::Tensor& x, std::int64_t group_size);

// Σ_k a[m,k]·b[n,k] for float8_e4m3fn a [M, K] and b [N, K] on one device, computed exactly in
// float64 and rounded once to float32 [M, N]. May throw c10::Error (dtype/shape/device).
at::Tensor fp8_matmul(const at::Tensor& a, const at::Tensor& b);

// Plain loops in double, for tests. CPU tensors only.
at::Tensor reference_fp8_matmul(const at::Tensor& a, const at::Tensor& b);

enum class Fp8GemmBackend { kExact, kScaledMm };
// The backend fp8_scaled_mm (block: fp8_block_scaled_mm with blocks [bn, bk]; 0, 0 for per-tensor
// or per-channel weights) uses for operands on `device` with K inputs and N outputs.
Fp8GemmBackend fp8_gemm_backend(at::Device device, std::int64_t K, std::int64_t N,
                                std::int64_t bn = 0, std::int64_t bk = 0);
const char* fp8_gemm_backend_name(Fp8GemmBackend b);

// Per-tensor / per-channel weights: a_scale [M, 1] or [1], w_scale [N, 1] or [1]. Dispatches on
// fp8_gemm_backend(). May throw c10::Error.
at::Tensor fp8_scaled_mm(const at::Tensor& a_q, const at::Tensor& a_scale, const at::Tensor& w_q,
                         const at::Tensor& w_scale, const at::Tensor& bias,
                         at::ScalarType out_dtype);

// Block weights [bn, bk] with per-group activations of bk: a_scale [M, K/bk], w_scale
// [N/bn, K/bk]. Dispatches on fp8_gemm_backend(). May throw c10::Error.
at::Tensor fp8_block_scaled_mm(const at::Tensor& a_q, const at::Tensor& a_scale,
                               const at::Tensor& w_q, const at::Tensor& w_scale, std::int64_t bn,
                               std::int64_t bk, const at::Tensor& bias, at::ScalarType out_dtype);

// The kExact bodies of the two, on any device (the GPU tests' reference).
at::Tensor fp8_scaled_mm_exact(const at::Tensor& a_q, const at::Tensor& a_scale,
                               const at::Tensor& w_q, const at::Tensor& w_scale,
                               const at::Tensor& bias, at::ScalarType out_dtype);
at::Tensor fp8_block_scaled_mm_exact(const at::Tensor& a_q, const at::Tensor& a_scale,
                                     const at::Tensor& w_q, const at::Tensor& w_scale,
                                     std::int64_t bn, std::int64_t bk, const at::Tensor& bias,
                                     at::ScalarType out_dtype);

}  // namespace qb::qmath
