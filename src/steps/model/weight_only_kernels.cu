// Weight-only int8 / int4 projections (interface and layouts: quant_kernels.h).
//
// Why: a batch-1 decode step is bound by weight bytes (bf16 Qwen3-8B: 5.7 of 6.6 ms streaming
// 15 GB of projections, bench/RESULTS.md). Weight-only checkpoints used to be dequantized to bf16
// at load, so they streamed as many bytes as bf16. These GEMVs read the int8 or packed int4 codes
// and dequantize in registers: a half or a quarter of the bytes.
//
// Dequantization without int->float conversions (I2F is a quarter-rate instruction, and the
// int4 GEMV issues several conversions per byte it loads): a byte or nibble is placed in the low
// mantissa bits of 2^23 with one byte permute or one and-or, and 2^23 is subtracted (exact).
// For int4 the nibble is masked where it lies, giving u * 16^p (p its position in the word, kept
// below 5 so that it stays under 2^23), and x is stored pre-scaled by 16^-p in shared memory;
// both scalings are powers of two, so every product equals u * x exactly as computed in fp32.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "steps/model/quant_kernels.h"

namespace qb::model::kernels {

namespace {

constexpr int kWarps = 8;              // warps per block
// Weight rows per warp: int8 2 (256 blocks for N = 4096); int4 4 (its rows are half as long).
template <WeightBits B>
constexpr int kRowsOf = B == WeightBits::kInt8 ? 2 : 4;
constexpr int64_t kMaxRows = 8;        // input rows the GEMV takes
constexpr int64_t kSmemLimit = 128 * 1024;

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

// Position of element j (0..7) of a 32-bit word of nibbles after the int4 kernel's masking:
// nibbles 0-4 in place, 5-7 after a shift right by 12.
__host__ __device__ constexpr int nibble_pos(int j) { return j <= 4 ? j : j - 3; }

// Shared memory: x as fp32 [M][K] (int4: times 16^-pos), then (int4) the sum of x over each
// 32-element chunk [M][K/32].
int64_t smem_bytes(WeightBits bits, int64_t rows, int64_t k) {
  return rows * k * 4 + (bits == WeightBits::kInt4 ? rows * (k / 32) * 4 : 0);
}

// G: int8 with per-group scales (folded per 16-weight chunk, like int4's); int8 without G has one
// scale per row, applied once at the end.
template <typename T, WeightBits B, bool G, int M>
__global__ void __launch_bounds__(kWarps * 32)
    wo_gemv_kernel(const T* __restrict__ x, const uint8_t* __restrict__ codes,
                   const float* __restrict__ scale, const float* __restrict__ zero,
                   const T* __restrict__ bias, T* __restrict__ y, int64_t n, int k, int group) {
  extern __shared__ float smem[];
  constexpr int kPerChunk = B == WeightBits::kInt8 ? 16 : 32;  // weights per 16-byte load
  constexpr int kQuads = kPerChunk / 4;
  const int chunks = k / kPerChunk;
  // x_s [M][kQuads][chunks] float4s: the quad q of chunk c at (q * chunks + c), so the lanes of
  // a warp, which take consecutive chunks, read consecutive 16-byte words (no bank conflicts).
  float* x_s = smem;
  float* xsum_s = smem + M * k;         // [M][k / 32] (int4)
  // Staging: each thread takes 8 consecutive elements (one 16-byte load); for int4, four
  // consecutive threads hold one 32-element chunk and sum it with two shuffles. Every thread
  // runs the same number of rounds (M * k / 8 is a multiple of 4), so the shuffles see full warps.
  const int eights = M * k / 8, row8 = k / 8;
  for (int base = 0; base < eights; base += blockDim.x) {
    const int i8 = base + threadIdx.x;
    float part = 0.0f;
    if (i8 < eights) {
      const int m = i8 / row8, kk = (i8 % row8) * 8;
      const uint4 raw = *reinterpret_cast<const uint4*>(x + static_cast<int64_t>(i8) * 8);
      const T* h = reinterpret_cast<const T*>(&raw);
      float v[8];
#pragma unroll
      for (int e = 0; e < 8; ++e) {
        v[e] = Cvt<T>::f(h[e]);
        part += v[e];
        // int4: x times 16^-pos (exact), pos = nibble_pos(e) as kk % 8 == 0.
        if constexpr (B == WeightBits::kInt4) v[e] *= __int_as_float((127 - 4 * nibble_pos(e)) << 23);
      }
      const int c = kk / kPerChunk, q = (kk % kPerChunk) / 4;
      float4* dst = reinterpret_cast<float4*>(x_s + m * k);
      dst[q * chunks + c] = make_float4(v[0], v[1], v[2], v[3]);
      dst[(q + 1) * chunks + c] = make_float4(v[4], v[5], v[6], v[7]);
    }
    if constexpr (B == WeightBits::kInt4) {
      part += __shfl_xor_sync(0xffffffffu, part, 1);
      part += __shfl_xor_sync(0xffffffffu, part, 2);
      if (i8 < eights && i8 % 4 == 0) xsum_s[i8 / 4] = part;  // chunk (m, kk / 32)
    }
  }
  __syncthreads();
  const float4* x4 = reinterpret_cast<const float4*>(x_s);
  auto xq = [&](int m, int q, int c) { return x4[m * (k / 4) + q * chunks + c]; };

  constexpr int kRows = kRowsOf<B>;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t r0 = (static_cast<int64_t>(blockIdx.x) * kWarps + warp) * kRows;
  const int row_bytes = B == WeightBits::kInt8 ? k : k / 2;
  const uint4* wr[kRows];
#pragma unroll
  for (int r = 0; r < kRows; ++r)
    wr[r] = reinterpret_cast<const uint4*>(codes + (r0 + r < n ? r0 + r : n - 1) * static_cast<int64_t>(row_bytes));
  float acc[kRows][M] = {};
  const int groups = k / group;

#pragma unroll 2
  for (int c = lane; c < chunks; c += 32) {
    uint4 raw[kRows];
#pragma unroll
    for (int r = 0; r < kRows; ++r) raw[r] = __ldg(wr[r] + c);
    float dot[kRows][M] = {};  // int4: sum of u * x over this chunk (one group)
#pragma unroll
    for (int q = 0; q < kQuads; ++q) {
      float xf[M][4];
#pragma unroll
      for (int m = 0; m < M; ++m) {
        const float4 f = xq(m, q, c);
        xf[m][0] = f.x, xf[m][1] = f.y, xf[m][2] = f.z, xf[m][3] = f.w;
      }
#pragma unroll
      for (int r = 0; r < kRows; ++r) {
        const uint32_t words[4] = {raw[r].x, raw[r].y, raw[r].z, raw[r].w};
        if constexpr (B == WeightBits::kInt8) {
          const uint32_t word = words[q] ^ 0x80808080u;  // q + 128 per byte
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            // 2^23 + (q + 128) from the byte's bits, minus 2^23 + 128: q exactly.
            const float qv = __int_as_float(static_cast<int>(__byte_perm(word, 0x4B000000u, 0x7540u + e))) - 8388736.0f;
#pragma unroll
            for (int m = 0; m < M; ++m) {
              if constexpr (G) dot[r][m] = fmaf(qv, xf[m][e], dot[r][m]);
              else acc[r][m] = fmaf(qv, xf[m][e], acc[r][m]);
            }
          }
        } else {
          const uint32_t word = words[q / 2];
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int j = (q % 2) * 4 + e;
            const uint32_t src = j <= 4 ? word : word >> 12;
            const uint32_t bits = (src & (0xFu << (4 * nibble_pos(j)))) | 0x4B000000u;
            const float u = __int_as_float(static_cast<int>(bits)) - 8388608.0f;  // u * 16^pos
#pragma unroll
            for (int m = 0; m < M; ++m) dot[r][m] = fmaf(u, xf[m][e], dot[r][m]);
          }
        }
      }
    }
    if constexpr (B == WeightBits::kInt4) {
      const int g = c * kPerChunk / group;
#pragma unroll
      for (int r = 0; r < kRows; ++r) {
        const int64_t row = r0 + r < n ? r0 + r : n - 1;
        const float s = __ldg(scale + row * groups + g);
        const float z = zero ? __ldg(zero + row * groups + g) : 8.0f;
#pragma unroll
        for (int m = 0; m < M; ++m) acc[r][m] = fmaf(s, dot[r][m] - z * xsum_s[m * (k / 32) + c], acc[r][m]);
      }
    } else if constexpr (G) {
      const int g = c * kPerChunk / group;  // a 16-weight chunk lies in one group (group % 16 == 0)
#pragma unroll
      for (int r = 0; r < kRows; ++r) {
        const int64_t row = r0 + r < n ? r0 + r : n - 1;
        const float s = __ldg(scale + row * groups + g);
#pragma unroll
        for (int m = 0; m < M; ++m) acc[r][m] = fmaf(s, dot[r][m], acc[r][m]);
      }
    }
  }
#pragma unroll
  for (int r = 0; r < kRows; ++r)
#pragma unroll
    for (int m = 0; m < M; ++m) {
      float v = acc[r][m];
#pragma unroll
      for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
      const int64_t row = r0 + r;
      if (lane == m % 32 && row < n) {
        if constexpr (B == WeightBits::kInt8 && !G) v *= __ldg(scale + row);
        if (bias) v += Cvt<T>::f(bias[row]);
        y[m * n + row] = Cvt<T>::t(v);
      }
    }
}

template <typename T, WeightBits B, bool G, int M>
int gemv_launch(const void* x, const void* codes, const float* scale, const float* zero,
                const void* bias, void* y, int64_t n, int64_t k, int64_t group, cudaStream_t st) {
  const int64_t per_block = kWarps * kRowsOf<B>;
  const unsigned blocks = static_cast<unsigned>((n + per_block - 1) / per_block);
  const size_t smem = static_cast<size_t>(smem_bytes(B, M, k));
  if (smem > 48 * 1024) {
    static const cudaError_t once = cudaFuncSetAttribute(
        wo_gemv_kernel<T, B, G, M>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemLimit + 8 * 1024);
    (void)once;
  }
  wo_gemv_kernel<T, B, G, M><<<blocks, kWarps * 32, smem, st>>>(
      static_cast<const T*>(x), static_cast<const uint8_t*>(codes), scale, zero,
      static_cast<const T*>(bias), static_cast<T*>(y), n, static_cast<int>(k),
      static_cast<int>(group));
  return static_cast<int>(cudaGetLastError());
}

template <typename T, WeightBits B, bool G>
int gemv_rows(const void* x, const void* codes, const float* scale, const float* zero,
              const void* bias, void* y, int64_t rows, int64_t n, int64_t k, int64_t group,
              cudaStream_t st) {
  switch (rows) {
    case 1: return gemv_launch<T, B, G, 1>(x, codes, scale, zero, bias, y, n, k, group, st);
    case 2: return gemv_launch<T, B, G, 2>(x, codes, scale, zero, bias, y, n, k, group, st);
    case 3: return gemv_launch<T, B, G, 3>(x, codes, scale, zero, bias, y, n, k, group, st);
    case 4: return gemv_launch<T, B, G, 4>(x, codes, scale, zero, bias, y, n, k, group, st);
    default: {
      // 5..8 rows: 4, then the rest.
      int rc = gemv_launch<T, B, G, 4>(x, codes, scale, zero, bias, y, n, k, group, st);
      if (rc) return rc;
      return gemv_rows<T, B, G>(static_cast<const T*>(x) + 4 * k, codes, scale, zero, bias,
                             static_cast<T*>(y) + 4 * n, rows - 4, n, k, group, st);
    }
  }
}

template <typename T, WeightBits B>
__global__ void dequant_kernel(const uint8_t* __restrict__ codes, const float* __restrict__ scale,
                               const float* __restrict__ zero, T* __restrict__ w, int64_t n, int64_t k,
                               int64_t group) {
  const int64_t total = n * k;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row = i / k, col = i % k;
    float v;
    if constexpr (B == WeightBits::kInt8) {
      v = static_cast<float>(static_cast<int8_t>(codes[i])) * scale[row * (k / group) + col / group];
    } else {
      const uint8_t byte = codes[row * (k / 2) + col / 2];
      const float u = static_cast<float>(col % 2 ? byte >> 4 : byte & 0xF);
      const int64_t g = row * (k / group) + col / group;
      v = (u - (zero ? zero[g] : 8.0f)) * scale[g];
    }
    w[i] = Cvt<T>::t(v);
  }
}

}  // namespace

bool weight_only_gemv_supported(WeightBits bits, int64_t rows, int64_t k, int64_t group) {
  if (rows < 1 || rows > kMaxRows || k < 32 || k % 32 != 0 || k > 65536) return false;
  if (bits == WeightBits::kInt4 && (group < 32 || group % 32 != 0 || k % group != 0)) return false;
  if (bits == WeightBits::kInt8 && (group < 16 || group % 16 != 0 || k % group != 0)) return false;
  return smem_bytes(bits, rows < 4 ? rows : 4, k) <= kSmemLimit;
}

int weight_only_gemv(Dtype dt, WeightBits bits, const void* x, const void* codes,
                     const float* scale, const float* zero, const void* bias, void* y,
                     int64_t rows, int64_t n, int64_t k, int64_t group, void* stream) {
  if (!weight_only_gemv_supported(bits, rows, k, group))
    return static_cast<int>(cudaErrorInvalidValue);
  const auto st = static_cast<cudaStream_t>(stream);
  auto go = [&](auto tag) {
    using T = decltype(tag);
    return bits == WeightBits::kInt8
               ? (group == k ? gemv_rows<T, WeightBits::kInt8, false>(x, codes, scale, zero, bias, y, rows, n, k, group, st)
                             : gemv_rows<T, WeightBits::kInt8, true>(x, codes, scale, zero, bias, y, rows, n, k, group, st))
               : gemv_rows<T, WeightBits::kInt4, true>(x, codes, scale, zero, bias, y, rows, n, k, group, st);
  };
  return dt == Dtype::kBf16 ? go(__nv_bfloat16{}) : go(__half{});
}

int weight_only_dequant(Dtype dt, WeightBits bits, const void* codes, const float* scale,
                        const float* zero, void* w, int64_t n, int64_t k, int64_t group,
                        void* stream) {
  if (k < 1 || group < 1 || k % group != 0 || (bits == WeightBits::kInt4 && k % 2 != 0))
    return static_cast<int>(cudaErrorInvalidValue);
  if (n == 0) return 0;
  const auto st = static_cast<cudaStream_t>(stream);
  const int64_t total = n * k;
  const unsigned blocks = static_cast<unsigned>(total / 256 + 1 < 65536 ? total / 256 + 1 : 65536);
  auto go = [&](auto tag) {
    using T = decltype(tag);
    if (bits == WeightBits::kInt8)
      dequant_kernel<T, WeightBits::kInt8><<<blocks, 256, 0, st>>>(
          static_cast<const uint8_t*>(codes), scale, zero, static_cast<T*>(w), n, k, group);
    else
      dequant_kernel<T, WeightBits::kInt4><<<blocks, 256, 0, st>>>(
          static_cast<const uint8_t*>(codes), scale, zero, static_cast<T*>(w), n, k, group);
  };
  if (dt == Dtype::kBf16) go(__nv_bfloat16{});
  else go(__half{});
  return static_cast<int>(cudaGetLastError());
}

}  // namespace qb::model::kernels
