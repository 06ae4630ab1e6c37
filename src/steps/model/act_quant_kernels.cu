// Activation quantization fused into what writes the activations (interface and rounding
// contract: quant_kernels.h).
//
// Why: the ATen path quantizes a projection's input per token in ~8 kernels (float cast, abs,
// amax, two divisions, a product, round, clamp, cast), each a pass over [M, K]; here the kernel
// that produces the activation (RMSNorm with its residual add, SwiGLU) or one plain pass keeps
// the row in registers, takes its absmax with one block reduction and writes int8 codes plus
// one fp32 scale: a quarter of the bytes of a bf16 write, and no second pass.
//
// One block per row; each thread holds up to kChunks chunks of 8 elements. The values quantized
// are exactly what the unfused kernels write (decode_kernels.cu's rms_norm and silu_mul: same
// expressions, same reduction order), so fused and unfused codes agree bit for bit.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "steps/model/quant_kernels.h"

namespace qb::model::kernels {

namespace {

constexpr int kChunks = 4;  // 16-byte chunks per thread: cols <= 8 * 4 * 1024

template <typename T>
struct Cvt;
template <>
struct Cvt<__nv_bfloat16> {
  static __device__ __forceinline__ float f(__nv_bfloat16 x) { return __bfloat162float(x); }
  static __device__ __forceinline__ __nv_bfloat16 t(float x) { return __float2bfloat16(x); }
};
template <>
struct Cvt<__half> {
  static __device__ __forceinline__ float f(__half x) { return __half2float(x); }
  static __device__ __forceinline__ __half t(float x) { return __float2half(x); }
};

template <typename T>
__device__ __forceinline__ float rnd(float x) {
  return Cvt<T>::f(Cvt<T>::t(x));
}

template <typename T>
__device__ __forceinline__ void load8(const T* p, float (&v)[8]) {
  const uint4 u = *reinterpret_cast<const uint4*>(p);
  const T* h = reinterpret_cast<const T*>(&u);
#pragma unroll
  for (int e = 0; e < 8; ++e) v[e] = Cvt<T>::f(h[e]);
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// decode_kernels.cu's block_sum, the same order of additions.
__device__ float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float s = lane < warps ? scratch[lane] : 0.0f;
  return warp_sum(s);
}

__device__ float block_max(float v, float* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float s = lane < warps ? scratch[lane] : 0.0f;
  return warp_max(s);
}

// cvt.rni.sat.s8.f32 as qmath's saturate_rint_int8: round half to even, then clamp.
__device__ __forceinline__ int8_t rint_sat(float v) {
  const int i = __float2int_rn(v);
  return static_cast<int8_t>(i < -128 ? -128 : (i > 127 ? 127 : i));
}

// Quantizes the row held in v (chunk c = threadIdx.x + k * blockDim.x, valid below `chunks`)
// and writes its codes and scale.
__device__ void quantize_store(const float (&v)[kChunks][8], int chunks, int8_t* q_row,
                               float* scale_out, const float* static_scale, float* scratch) {
  float mul;         // dynamic: codes = rint(v * (127 / absmax))
  bool divide;       // static: codes = rint(v / s)
  float s;
  if (static_scale) {
    s = *static_scale;
    divide = true;
    mul = 0.0f;
  } else {
    float m = 0.0f;
#pragma unroll
    for (int k = 0; k < kChunks; ++k) {
      if (static_cast<int>(threadIdx.x) + k * static_cast<int>(blockDim.x) >= chunks) continue;
#pragma unroll
      for (int e = 0; e < 8; ++e) m = fmaxf(m, fabsf(v[k][e]));
    }
    const float absmax = block_max(m, scratch);
    s = __fdiv_rn(absmax, 127.0f);
    mul = absmax > 0.0f ? __fdiv_rn(127.0f, absmax) : 0.0f;
    divide = false;
  }
  if (threadIdx.x == 0) *scale_out = s;
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    const int c = threadIdx.x + k * blockDim.x;
    if (c >= chunks) continue;
    alignas(8) int8_t o[8];
#pragma unroll
    for (int e = 0; e < 8; ++e) o[e] = rint_sat(divide ? __fdiv_rn(v[k][e], s) : __fmul_rn(v[k][e], mul));
    *reinterpret_cast<uint2*>(q_row + static_cast<int64_t>(c) * 8) = *reinterpret_cast<const uint2*>(o);
  }
}

template <typename T>
__global__ void rms_norm_quant_kernel(const T* __restrict__ x, const T* __restrict__ residual,
                                      T* __restrict__ sum_out, const T* __restrict__ weight,
                                      int8_t* __restrict__ q, float* __restrict__ scale,
                                      const float* __restrict__ static_scale, int cols, float eps) {
  __shared__ float scratch[32];
  const int64_t base = static_cast<int64_t>(blockIdx.x) * cols;
  const int chunks = cols / 8;
  float v[kChunks][8];
  uint4 wraw[kChunks];  // the norm weight, loaded with x (one memory round trip)
  float ss = 0.0f;
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    const int c = threadIdx.x + k * blockDim.x;
    if (c >= chunks) continue;
    wraw[k] = *reinterpret_cast<const uint4*>(weight + c * 8);
    load8<T>(x + base + c * 8, v[k]);
    if (residual) {
      float a[8];
      load8<T>(residual + base + c * 8, a);
      alignas(16) T r[8];
#pragma unroll
      for (int e = 0; e < 8; ++e) {
        r[e] = Cvt<T>::t(v[k][e] + a[e]);
        v[k][e] = Cvt<T>::f(r[e]);
      }
      *reinterpret_cast<uint4*>(sum_out + base + c * 8) = *reinterpret_cast<const uint4*>(r);
    }
#pragma unroll
    for (int e = 0; e < 8; ++e) ss += v[k][e] * v[k][e];
  }
  const float rstd = rsqrtf(block_sum(ss, scratch) / cols + eps);
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    const int c = threadIdx.x + k * blockDim.x;
    if (c >= chunks) continue;
    const T* w = reinterpret_cast<const T*>(&wraw[k]);
#pragma unroll
    for (int e = 0; e < 8; ++e) v[k][e] = rnd<T>(rnd<T>(v[k][e] * rstd) * Cvt<T>::f(w[e]));
  }
  quantize_store(v, chunks, q + base, scale + blockIdx.x, static_scale, scratch);
}

template <typename T>
__global__ void silu_mul_quant_kernel(const T* __restrict__ gate_up, int8_t* __restrict__ q,
                                      float* __restrict__ scale,
                                      const float* __restrict__ static_scale, int f) {
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  const int chunks = f / 8;
  // Every load first, then the math: one memory round trip instead of one per chunk.
  uint4 graw[kChunks], uraw[kChunks];
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    const int c = threadIdx.x + k * blockDim.x;
    if (c >= chunks) continue;
    graw[k] = *reinterpret_cast<const uint4*>(gate_up + row * 2 * f + c * 8);
    uraw[k] = *reinterpret_cast<const uint4*>(gate_up + row * 2 * f + f + c * 8);
  }
  float v[kChunks][8];
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    const int c = threadIdx.x + k * blockDim.x;
    if (c >= chunks) continue;
    const T* g = reinterpret_cast<const T*>(&graw[k]);
    const T* u = reinterpret_cast<const T*>(&uraw[k]);
#pragma unroll
    for (int e = 0; e < 8; ++e) {
      const float gf = Cvt<T>::f(g[e]);
      v[k][e] = rnd<T>(rnd<T>(gf / (1.0f + expf(-gf))) * Cvt<T>::f(u[e]));
    }
  }
  quantize_store(v, chunks, q + row * f, scale + row, static_scale, scratch);
}

template <typename T>
__global__ void quantize_rows_kernel(const T* __restrict__ x, int8_t* __restrict__ q,
                                     float* __restrict__ scale,
                                     const float* __restrict__ static_scale, int cols) {
  __shared__ float scratch[32];
  const int64_t base = static_cast<int64_t>(blockIdx.x) * cols;
  const int chunks = cols / 8;
  float v[kChunks][8];
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    const int c = threadIdx.x + k * blockDim.x;
    if (c < chunks) load8<T>(x + base + c * 8, v[k]);
  }
  quantize_store(v, chunks, q + base, scale + blockIdx.x, static_scale, scratch);
}

// As many threads as 16-byte chunks (whole warps, at most 1024): decode_kernels' rms_norm
// launch, so both reduce in the same order.
int threads_for(int64_t cols) {
  const int64_t chunks = cols / 8;
  return static_cast<int>(std::min<int64_t>(1024, (chunks + 31) / 32 * 32));
}

}  // namespace

bool act_quant_supported(int64_t cols) { return cols >= 8 && cols % 8 == 0 && cols / 8 <= 1024 * kChunks; }

int rms_norm_quant(Dtype dt, const void* x, const void* residual, void* sum_out,
                   const void* weight, int8_t* q, float* scale_out, const float* static_scale,
                   int64_t rows, int64_t cols, float eps, void* stream) {
  if (!act_quant_supported(cols)) return static_cast<int>(cudaErrorInvalidValue);
  if (rows == 0) return 0;
  const auto st = static_cast<cudaStream_t>(stream);
  auto go = [&](auto tag) {
    using T = decltype(tag);
    rms_norm_quant_kernel<T><<<static_cast<unsigned>(rows), threads_for(cols), 0, st>>>(
        static_cast<const T*>(x), static_cast<const T*>(residual), static_cast<T*>(sum_out),
        static_cast<const T*>(weight), q, scale_out, static_scale, static_cast<int>(cols), eps);
  };
  if (dt == Dtype::kBf16) go(__nv_bfloat16{});
  else go(__half{});
  return static_cast<int>(cudaGetLastError());
}

int silu_mul_quant(Dtype dt, const void* gate_up, int8_t* q, float* scale_out,
                   const float* static_scale, int64_t rows, int64_t f, void* stream) {
  if (!act_quant_supported(f)) return static_cast<int>(cudaErrorInvalidValue);
  if (rows == 0) return 0;
  const auto st = static_cast<cudaStream_t>(stream);
  auto go = [&](auto tag) {
    using T = decltype(tag);
    silu_mul_quant_kernel<T><<<static_cast<unsigned>(rows), threads_for(f), 0, st>>>(
        static_cast<const T*>(gate_up), q, scale_out, static_scale, static_cast<int>(f));
  };
  if (dt == Dtype::kBf16) go(__nv_bfloat16{});
  else go(__half{});
  return static_cast<int>(cudaGetLastError());
}

int quantize_rows(Dtype dt, const void* x, int8_t* q, float* scale_out, const float* static_scale,
                  int64_t rows, int64_t cols, void* stream) {
  if (!act_quant_supported(cols)) return static_cast<int>(cudaErrorInvalidValue);
  if (rows == 0) return 0;
  const auto st = static_cast<cudaStream_t>(stream);
  auto go = [&](auto tag) {
    using T = decltype(tag);
    quantize_rows_kernel<T><<<static_cast<unsigned>(rows), threads_for(cols), 0, st>>>(
        static_cast<const T*>(x), q, scale_out, static_scale, static_cast<int>(cols));
  };
  if (dt == Dtype::kBf16) go(__nv_bfloat16{});
  else go(__half{});
  return static_cast<int>(cudaGetLastError());
}

}  // namespace qb::model::kernels
