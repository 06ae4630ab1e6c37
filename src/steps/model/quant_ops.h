// ATen-facing wrappers of the quantized-projection kernels (quant_kernels.h): W8A8 activation
// quantization (plain, fused into RMSNorm and SwiGLU), the int8 GEMM with its scale epilogue,
// and the weight-only GEMV / dequantization. Used by Int8Linear, WeightOnlyLinear and the
// decoder layer's fast path (model.cc) when the tensors are on a CUDA device in bf16/fp16 and
// this build has the kernels; without them (a CPU build, no CUDA compiler) available() is false
// and callers keep their ATen paths, whose integer semantics these kernels reproduce.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <utility>

namespace qb::model::qops {

// Whether this build has the kernels (CUDA compiler + CUDA libtorch), and the CUTLASS GEMM
// (then int8 GEMMs of any M; without it only M <= 16 on the GPU).
bool available();
bool has_cutlass();

// int8 codes of an activation and their scales: q int8 [..., K], scale fp32 [rows] (one per
// row of q viewed as [rows, K]; static quantization repeats its one scale).
struct Int8Act {
  at::Tensor q;
  at::Tensor scale;
};

// Whether x [..., K] (CUDA, bf16/fp16, contiguous rows) can be quantized by these kernels.
bool act_quant_ok(const at::Tensor& x);
// Whether an int8 GEMM of rows x [n, k] runs here.
bool int8_gemm_ok(int64_t rows, int64_t n, int64_t k);

// All below may throw c10::Error (a failed launch names the kernel). `static_scale`: fp32 [1]
// on x's device, or undefined for dynamic per-token quantization.
Int8Act quantize(const at::Tensor& x, const at::Tensor& static_scale);
// (x + residual, quant(weight * rms_norm(x + residual))) — residual undefined: (x, quant(...)).
std::pair<at::Tensor, Int8Act> rms_norm_quant(const at::Tensor& x, const at::Tensor& residual,
                                              const at::Tensor& weight, double eps,
                                              const at::Tensor& static_scale);
// quant(silu(gate) * up) of gate_up [..., 2F].
Int8Act silu_mul_quant(const at::Tensor& gate_up, const at::Tensor& static_scale);
// y [..., N] in `dtype` = (a.q · wᵀ) * a.scale * w_scale: w int8 [N, K], w_scale fp32 [N].
at::Tensor int8_scaled_mm(const Int8Act& a, const at::Tensor& w, const at::Tensor& w_scale,
                          at::ScalarType dtype);

// Weight-only layouts: see quant_kernels.h. bits 8 or 4.
bool weight_only_gemv_ok(int bits, const at::Tensor& x, int64_t k, int64_t group);
at::Tensor weight_only_gemv(int bits, const at::Tensor& x, const at::Tensor& codes,
                            const at::Tensor& scale, const at::Tensor& zero,
                            const at::Tensor& bias, int64_t n, int64_t k, int64_t group);
at::Tensor weight_only_dequant(int bits, const at::Tensor& codes, const at::Tensor& scale,
                               const at::Tensor& zero, int64_t n, int64_t k, int64_t group,
                               at::ScalarType dtype);

}  // namespace qb::model::qops
