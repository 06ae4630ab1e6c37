// FP8 activation quantization kernels (interface and arithmetic contract: fp8_quant_kernels.h).
#include "steps/qmath/fp8_quant_kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

namespace qb::qmath::kernels {

namespace {

constexpr float kFp8Max = 448.0f;
// vLLM's lower bound on dynamic scales, 1 / (448 · 512), as the fp32 value ATen's clamp_min uses.
constexpr float kMinScale = static_cast<float>(1.0 / (448.0 * 512.0));
constexpr int kThreads = 256;

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }

// clamp to ±448, then the nearest e4m3 (ties to even; saturating like ATen's clamp-then-cast).
__device__ __forceinline__ __nv_fp8_e4m3 to_e4m3(float y) {
  return __nv_fp8_e4m3(fminf(fmaxf(y, -kFp8Max), kFp8Max));
}

__device__ float block_max(float v, float* scratch /* kThreads / 32 floats */) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < kThreads / 32 ? scratch[lane] : 0.0f;
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// grid (cols / group, rows), kThreads threads: one block per (row, group). absmax over the group
// (exact in any order), the scale, then the codes.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    quantize_dynamic_kernel(const T* __restrict__ x, __nv_fp8_e4m3* __restrict__ q,
                            float* __restrict__ scales, int64_t cols, int64_t group,
                            bool reciprocal) {
  __shared__ float scratch[kThreads / 32];
  const int64_t row = blockIdx.y, g = blockIdx.x;
  const int64_t base = row * cols + g * group;
  float m = 0.0f;
  for (int64_t i = threadIdx.x; i < group; i += kThreads) m = fmaxf(m, fabsf(to_float(x[base + i])));
  const float absmax = block_max(m, scratch);
  const float s = fmaxf(absmax / kFp8Max, kMinScale);
  if (threadIdx.x == 0) scales[row * (cols / group) + g] = s;
  const float inv = 1.0f / s;
  for (int64_t i = threadIdx.x; i < group; i += kThreads) {
    const float v = to_float(x[base + i]);
    q[base + i] = to_e4m3(reciprocal ? v * inv : v / s);
  }
}

template <typename T>
__global__ void quantize_static_kernel(const T* __restrict__ x, __nv_fp8_e4m3* __restrict__ q,
                                       const float* __restrict__ scale, int64_t n) {
  const float inv = 1.0f / *scale;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    q[i] = to_e4m3(to_float(x[i]) * inv);
}

template <typename T>
int launch_dynamic(const void* x, void* q, float* scales, int64_t rows, int64_t cols, int64_t group,
                   cudaStream_t st) {
  if (rows == 0) return 0;
  const dim3 grid(static_cast<unsigned>(cols / group), static_cast<unsigned>(rows));
  quantize_dynamic_kernel<T><<<grid, kThreads, 0, st>>>(
      static_cast<const T*>(x), static_cast<__nv_fp8_e4m3*>(q), scales, cols, group, group == cols);
  return static_cast<int>(cudaGetLastError());
}

template <typename T>
int launch_static(const void* x, void* q, const float* scale, int64_t n, cudaStream_t st) {
  if (n == 0) return 0;
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  quantize_static_kernel<T><<<static_cast<unsigned>(blocks < 65535 ? blocks : 65535), kThreads, 0, st>>>(
      static_cast<const T*>(x), static_cast<__nv_fp8_e4m3*>(q), scale, n);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace

int fp8_quantize_dynamic(Fp8InDtype dt, const void* x, void* q, float* scales, int64_t rows,
                         int64_t cols, int64_t group, void* stream) {
  if (group <= 0 || cols % group != 0) return static_cast<int>(cudaErrorInvalidValue);
  const auto st = static_cast<cudaStream_t>(stream);
  switch (dt) {
    case Fp8InDtype::kF32: return launch_dynamic<float>(x, q, scales, rows, cols, group, st);
    case Fp8InDtype::kBf16: return launch_dynamic<__nv_bfloat16>(x, q, scales, rows, cols, group, st);
    case Fp8InDtype::kFp16: return launch_dynamic<__half>(x, q, scales, rows, cols, group, st);
  }
  return static_cast<int>(cudaErrorInvalidValue);
}

int fp8_quantize_static(Fp8InDtype dt, const void* x, void* q, const float* scale, int64_t rows,
                        int64_t cols, void* stream) {
  const auto st = static_cast<cudaStream_t>(stream);
  const int64_t n = rows * cols;
  switch (dt) {
    case Fp8InDtype::kF32: return launch_static<float>(x, q, scale, n, st);
    case Fp8InDtype::kBf16: return launch_static<__nv_bfloat16>(x, q, scale, n, st);
    case Fp8InDtype::kFp16: return launch_static<__half>(x, q, scale, n, st);
  }
  return static_cast<int>(cudaErrorInvalidValue);
}

}  // namespace qb::qmath::kernels
