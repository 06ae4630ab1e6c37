// Float <-> half/bfloat16 conversions shared by the model's CUDA kernels (decode_kernels.cu,
// act_quant_kernels.cu, weight_only_kernels.cu): Cvt<T>::f widens to float, Cvt<T>::t rounds to
// T (round-to-nearest-even, as ATen's casts do), rnd<T>(x) is x rounded to T and back — what an
// eager op's T-typed intermediate holds, so a fused kernel rounds where the op sequence rounds.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace qb::model::kernels {

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

}  // namespace qb::model::kernels
