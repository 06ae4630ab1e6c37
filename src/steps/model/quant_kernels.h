// CUDA kernels of the quantized projections (issue 17), behind a plain C++ interface so that only
// the .cu files need nvcc: three families, one file each.
//
//   int8_gemm_kernels.cu    W8A8: int8 x int8 -> exact int32 -> acc * s_x[m] * s_w[n] -> bf16/fp16
//                           in one kernel. CUTLASS 3 sm90 (wgmma, TMA, warp-specialized) for
//                           M > 16 when CUTLASS is found (QB_CUTLASS_KERNELS), a dp4a GEMV for
//                           M <= 16 (decode) always.
//   act_quant_kernels.cu    the activation quantization that feeds them, fused into what writes
//                           the activations: RMSNorm (with the residual add), SwiGLU, or a plain
//                           row quantization (the attention output before o_proj).
//   weight_only_kernels.cu  W8A16 / W4A16 decode GEMVs that dequantize in registers, and a
//                           dequantizing kernel for larger batches (then a bf16 GEMM).
//
// Every pointer is a device pointer to contiguous data; `stream` is a cudaStream_t. Each launcher
// returns 0 or a CUDA error code (cudaErrorInvalidValue for an unsupported shape: the caller
// checks the *_supported() functions first and otherwise keeps its ATen path).
//
// Rounding contract (the CPU's exact integer semantics, qmath/int8_gemm.h): codes are vLLM's
// dynamic per-token int8 (scale = absmax / 127 and q = rint_sat(x * (127 / absmax)), both IEEE
// divisions, a zero row giving scale 0 and codes 0) or static (q = rint_sat(x / s)); the GEMM's
// int32 sums are exact and its epilogue is float(acc) * s_x * s_w rounded once to the output
// dtype, in that order — what scaled_int8_linear computes on the CPU, bit for bit.
#pragma once

#include <cstdint>

#include "steps/model/decode_kernels.h"  // Dtype

namespace qb::model::kernels {

// ---- int8_gemm_kernels.cu ----
// Whether this build has the CUTLASS sm90 GEMM (else only the M <= 16 GEMV exists).
bool int8_gemm_has_cutlass();
// Shapes the fast path takes: K % 16 == 0, N % 8 == 0 (TMA's 16-byte strides), and for M <= 16
// K <= 65536 (x codes in shared memory).
bool int8_gemm_supported(int64_t m, int64_t n, int64_t k);
// Bytes of scratch int8_scaled_mm needs for this shape (0 for most).
int64_t int8_gemm_workspace(int64_t m, int64_t n, int64_t k);
// y [M, N] = (a [M, K] · w [N, K]ᵀ) * a_scale [M] * w_scale [N], y in `dt`. a, w int8 row-major
// (w in nn.Linear layout); scales fp32.
int int8_scaled_mm(Dtype dt, const int8_t* a, const float* a_scale, const int8_t* w,
                   const float* w_scale, void* y, int64_t m, int64_t n, int64_t k,
                   void* workspace, int64_t workspace_bytes, void* stream);

// ---- act_quant_kernels.cu ----
// All take `cols` % 8 == 0 and cols <= 32768. `static_scale`: a device pointer to one fp32
// input scale (static per-tensor quantization; every row's scale_out is set to it), or null for
// dynamic per-token quantization. Outputs: q [rows, cols] int8, scale_out [rows] fp32.
bool act_quant_supported(int64_t cols);
// q, s = quant(weight * rms_norm(x)) where the normed row is first rounded to `dt` exactly as
// decode_kernels' rms_norm writes it; with `residual`, x + residual first (rounded, written to
// sum_out) — the same values the unfused path quantizes.
int rms_norm_quant(Dtype dt, const void* x, const void* residual, void* sum_out,
                   const void* weight, int8_t* q, float* scale_out, const float* static_scale,
                   int64_t rows, int64_t cols, float eps, void* stream);
// q, s = quant(silu(gate) * up) of gate_up [rows, 2F] (gate | up), the product rounded to `dt`
// as at::silu(gate) * up rounds it (silu rounded, then the product rounded).
int silu_mul_quant(Dtype dt, const void* gate_up, int8_t* q, float* scale_out,
                   const float* static_scale, int64_t rows, int64_t f, void* stream);
// q, s = quant(x) for x [rows, cols] in `dt`.
int quantize_rows(Dtype dt, const void* x, int8_t* q, float* scale_out, const float* static_scale,
                  int64_t rows, int64_t cols, void* stream);

// ---- weight_only_kernels.cu ----
// Weight-only layouts (repacked at load, weight_only_linear.h):
//   int8: codes int8 [N, K], scale fp32 [N, K/G] (symmetric; G = K: per channel): w = q * s.
//   int4: codes uint8 [N, K/2], element 2j in the low nibble of byte j, unsigned u in [0, 15];
//         scale fp32 [N, K/G] and zero fp32 [N, K/G] (in code units; 8 for symmetric int4):
//         w = (u - z) * s per group of G inputs.
enum class WeightBits { kInt8, kInt4 };
// K % 32 == 0, K <= 65536, K % group == 0 with group % 16 == 0 (int8; group = K per channel)
// or group % 32 == 0 (int4); rows <= 8.
bool weight_only_gemv_supported(WeightBits bits, int64_t rows, int64_t k, int64_t group);
// y [rows, N] = x [rows, K] · dequant(w)ᵀ (+ bias [N]), x/y/bias in `dt`, fp32 accumulation.
int weight_only_gemv(Dtype dt, WeightBits bits, const void* x, const void* codes,
                     const float* scale, const float* zero, const void* bias, void* y,
                     int64_t rows, int64_t n, int64_t k, int64_t group, void* stream);
// w [N, K] in `dt` = dequant(codes), each value rounded once to `dt` (what a checkpoint
// dequantized at load holds); for batches the GEMV does not take (then a dense GEMM).
int weight_only_dequant(Dtype dt, WeightBits bits, const void* codes, const float* scale,
                        const float* zero, void* w, int64_t n, int64_t k, int64_t group,
                        void* stream);

}  // namespace qb::model::kernels
