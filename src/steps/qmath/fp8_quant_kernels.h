// CUDA kernels that quantize activations to e4m3 for the FP8 GEMM (fp8_quant_kernels.cu), behind
// a plain C++ interface so that only the .cu file needs nvcc. Built only where CMake finds a CUDA
// compiler next to a CUDA libtorch (QB_FP8_KERNELS); fp8_gemm.cc calls them for CUDA tensors and
// falls back to its ATen ops elsewhere.
//
// Why: op by op, quantizing one activation row is ~8 launches (abs, amax, cast, divide, clamp,
// reciprocal, multiply, cast); a decode step has 7 projections in each of 36 layers, so the
// launches alone cost milliseconds per token. Here it is one launch per projection input.
//
// The arithmetic is exactly fp8_gemm.cc's ATen path (vLLM's QuantFP8.forward_native), in fp32:
//   per row (token) or per group of `group` columns:
//     s = max(absmax(x) / 448, 1 / (448 · 512))
//     per token / static: q = e4m3(clamp(x · (1 / s), ±448))    (a reciprocal, then a product)
//     per group:          q = e4m3(clamp(x / s, ±448))          (a division)
//   static: s = *input_scale, q as per token.
// e4m3 conversion rounds to nearest, ties to even, saturating (__nv_fp8_e4m3). Every pointer is a
// device pointer to contiguous data; `stream` is a cudaStream_t. Each launcher returns 0 or the
// CUDA error code of the launch.
#pragma once

#include <cstdint>

namespace qb::qmath::kernels {

enum class Fp8InDtype { kF32, kBf16, kFp16 };

// x [rows, cols] -> q [rows, cols] (e4m3 bytes), scales [rows, cols / group] fp32. group == cols:
// per token (the reciprocal form); group < cols: per group (the division form); cols % group == 0.
int fp8_quantize_dynamic(Fp8InDtype dt, const void* x, void* q, float* scales, int64_t rows,
                         int64_t cols, int64_t group, void* stream);

// x [rows, cols] -> q with one static scale (a device fp32 scalar).
int fp8_quantize_static(Fp8InDtype dt, const void* x, void* q, const float* scale, int64_t rows,
                        int64_t cols, void* stream);

}  // namespace qb::qmath::kernels
