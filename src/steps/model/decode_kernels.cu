// The fused one-token decode kernels (interface and rounding contract: decode_kernels.h).
//
// Why they exist (bench/RESULTS.md, H100, Qwen3-8B shape): op by op, a batch-1 decode step was
// ~5.9 ms of weight-streaming GEMVs plus ~20 small kernels per layer (norms, RoPE, cache
// writes, residual adds, attention over every masked static slot): 8.0 ms. At batch 128 the
// cuDNN attention kernel, built for long query tiles, took 6.2 of 14.8 ms, ~2.6x what its K/V
// bytes need. Here a layer's non-GEMM work is five or six launches, attention reads only the
// slots written so far and shares each K/V row among its query heads, and one-row projections
// stream their weights through a plain GEMV.
#include "steps/model/decode_kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace qb::model::kernels {

namespace {

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

// x rounded to T and back: what an eager op's T-typed result holds.
template <typename T>
__device__ __forceinline__ float rnd(float x) {
  return Cvt<T>::f(Cvt<T>::t(x));
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets it.
__device__ float block_sum(float v, float* scratch /* >= 32 floats */) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float s = lane < warps ? scratch[lane] : 0.0f;
  return warp_sum(s);
}

// Sum over a block of a power-of-two size (16 .. 1024) through shared memory.
__device__ float block_sum_pow2(float v, float* scratch /* blockDim.x floats */) {
  const int i = threadIdx.x;
  scratch[i] = v;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (i < s) scratch[i] += scratch[i + s];
    __syncthreads();
  }
  const float total = scratch[0];
  __syncthreads();
  return total;
}

// 8 consecutive elements (16 bytes) as floats.
template <typename T>
__device__ __forceinline__ void load8(const T* p, float (&v)[8]) {
  const uint4 u = *reinterpret_cast<const uint4*>(p);
  const T* h = reinterpret_cast<const T*>(&u);
#pragma unroll
  for (int e = 0; e < 8; ++e) v[e] = Cvt<T>::f(h[e]);
}

// ---- RMSNorm (+ residual add) ----------------------------------------------------------------

// One block per row; each thread holds up to kNormChunks chunks of 8 elements (16-byte loads) in
// registers between the two passes. cols % 8 == 0 and cols <= 8 * kNormChunks * blockDim.x.
constexpr int kNormChunks = 4;

template <typename T>
__global__ void rms_norm_kernel(const T* __restrict__ x, const T* __restrict__ residual,
                                T* __restrict__ sum_out, const T* __restrict__ weight,
                                T* __restrict__ out, int cols, float eps) {
  __shared__ float scratch[32];
  const int64_t base = static_cast<int64_t>(blockIdx.x) * cols;
  const int chunks = cols / 8;
  float v[kNormChunks][8];
  float ss = 0.0f;
#pragma unroll
  for (int k = 0; k < kNormChunks; ++k) {
    const int c = threadIdx.x + k * blockDim.x;
    if (c >= chunks) continue;
    load8<T>(x + base + c * 8, v[k]);
    if (residual) {
      float a[8];
      load8<T>(residual + base + c * 8, a);
      alignas(16) T r[8];
#pragma unroll
      for (int e = 0; e < 8; ++e) {
        r[e] = Cvt<T>::t(v[k][e] + a[e]);  // eager: r = x + attn_out
        v[k][e] = Cvt<T>::f(r[e]);
      }
      *reinterpret_cast<uint4*>(sum_out + base + c * 8) = *reinterpret_cast<const uint4*>(r);
    }
#pragma unroll
    for (int e = 0; e < 8; ++e) ss += v[k][e] * v[k][e];
  }
  const float rstd = rsqrtf(block_sum(ss, scratch) / cols + eps);
#pragma unroll
  for (int k = 0; k < kNormChunks; ++k) {
    const int c = threadIdx.x + k * blockDim.x;
    if (c >= chunks) continue;
    float w[8];
    load8<T>(weight + c * 8, w);
    alignas(16) T o[8];
#pragma unroll
    for (int e = 0; e < 8; ++e) o[e] = Cvt<T>::t(rnd<T>(v[k][e] * rstd) * w[e]);  // weight * rms_norm(x)
    *reinterpret_cast<uint4*>(out + base + c * 8) = *reinterpret_cast<const uint4*>(o);
  }
}

// ---- q/k norm, RoPE, cache write --------------------------------------------------------------

template <typename T>
__global__ void qk_norm_rope_cache_kernel(const T* __restrict__ qkv, const T* __restrict__ qk_norm,
                                          const T* __restrict__ cos, const T* __restrict__ sin_signed,
                                          T* __restrict__ q_out, T* __restrict__ k_cache,
                                          T* __restrict__ v_cache, const int64_t* __restrict__ slot,
                                          int heads, int kv_heads, int d, int64_t max_len, float eps) {
  extern __shared__ float shared[];  // 2 * d floats
  const int head = blockIdx.x, b = blockIdx.y, i = threadIdx.x;
  const int all = heads + 2 * kv_heads;
  float x = Cvt<T>::f(qkv[(static_cast<int64_t>(b) * all + head) * d + i]);
  const int64_t s = slot[b];  // this row's slot
  if (head >= heads + kv_heads) {  // v: straight into the cache (uniform for the block)
    const int kvh = head - heads - kv_heads;
    v_cache[((static_cast<int64_t>(b) * kv_heads + kvh) * max_len + s) * d + i] = Cvt<T>::t(x);
    return;
  }
  if (qk_norm) {
    const float ss = d % 32 == 0 ? block_sum(x * x, shared + d) : block_sum_pow2(x * x, shared + d);
    const float rstd = rsqrtf(ss / d + eps);
    x = rnd<T>(rnd<T>(x * rstd) * Cvt<T>::f(qk_norm[static_cast<int64_t>(head) * d + i]));
  }
  shared[i] = x;
  __syncthreads();
  const float partner = shared[(i + d / 2) % d];  // the rotate-half partner
  const float c = Cvt<T>::f(cos[static_cast<int64_t>(b) * d + i]);
  const float sn = Cvt<T>::f(sin_signed[static_cast<int64_t>(b) * d + i]);
  const T o = Cvt<T>::t(rnd<T>(x * c) + rnd<T>(partner * sn));  // x * cos + swapped * sin
  if (head < heads) {
    q_out[(static_cast<int64_t>(b) * heads + head) * d + i] = o;
  } else {
    const int kvh = head - heads;
    k_cache[((static_cast<int64_t>(b) * kv_heads + kvh) * max_len + s) * d + i] = o;
  }
}

// ---- decode attention (flash-decoding) ----------------------------------------------------------

constexpr int kWarps = 4;     // warps per block, each over its own tiles of slots
constexpr int kMaxGroup = 8;  // query heads per KV head (the kernel is built for 2, 4 and 8)

// N consecutive 16-bit elements as one load (N = 1, 2, 4, 8), kept raw until converted.
template <int N> struct RawVec;
template <> struct RawVec<1> { using type = unsigned short; };
template <> struct RawVec<2> { using type = unsigned int; };
template <> struct RawVec<4> { using type = uint2; };
template <> struct RawVec<8> { using type = uint4; };

template <typename T, int N>
__device__ __forceinline__ void convert(const typename RawVec<N>::type& raw, float (&v)[N]) {
  const T* h = reinterpret_cast<const T*>(&raw);
#pragma unroll
  for (int e = 0; e < N; ++e) v[e] = Cvt<T>::f(h[e]);
}

// One round of the warp's transpose reduction of 2*O values per lane: lanes whose bit O is set
// keep the upper half and receive their partner's upper half, the others the lower; after the
// rounds for O = 16, 8, 4, 2, 1, lane L holds the warp's sum of value L in part[0].
template <int O>
__device__ __forceinline__ void transpose_round(float (&part)[32], int lane) {
  const bool upper = lane & O;
#pragma unroll
  for (int i = 0; i < O; ++i) {
    const float lo = part[i], hi = part[i + O];
    const float send = upper ? lo : hi;
    part[i] = (upper ? hi : lo) + __shfl_xor_sync(0xffffffffu, send, O);
  }
}

// grid (splits, KVH, B), block kWarps * 32: one KV head's MG (>= G) query heads, K/V read once
// for all of them. Every lane owns E = D / 32 dims (lanes past D idle) and holds those dims of
// the G queries. A warp takes tiles of TJ = 32 / MG slots: it issues the tile's K and V loads
// (coalesced rows), forms per-lane partial dot products for the 32 (slot, head) pairs, and
// sums them over the warp with a transpose reduction (31 shuffles: lane L ends with pair L =
// slot L / MG, head L % MG). One online-softmax step per tile runs on those lanes (lane L
// keeps the running max and sum of head L % MG), and the probabilities reach every lane by
// shuffles for the V accumulation. The warps then merge; with one split the block writes the
// output, else its (max, sum, weighted values) go to the workspace: ml [B, H, splits, 2], acc
// [B, H, splits, D], for attention_combine_kernel.
template <typename T, int D, int MG>
__global__ void __launch_bounds__(kWarps * 32)
    attention_split_kernel(const T* __restrict__ q, const T* __restrict__ k_cache,
                           const T* __restrict__ v_cache, const bool* __restrict__ valid,
                           const int64_t* __restrict__ slot, float* __restrict__ ws_ml,
                           float* __restrict__ ws_acc, T* __restrict__ out, int heads,
                           int kv_heads, int64_t max_len, int chunk, float scale) {
  constexpr int E = D >= 32 ? D / 32 : 1;  // dims per lane
  constexpr int TJ = 32 / MG;              // slots per tile
  using Raw = typename RawVec<E>::type;
  __shared__ float merge_s[kWarps][MG][D + 2];

  const int split = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z, splits = gridDim.x;
  const int g_count = heads / kv_heads;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const bool owns_dims = lane * E < D;
  const int my_j = lane / MG, my_g = lane % MG;  // the (slot, head) pair this lane scores
  const int64_t n = slot[b] + 1;  // slots written so far in this row, this step's included
  const int64_t s0 = static_cast<int64_t>(split) * chunk;
  const int64_t s1 = min(s0 + chunk, n);

  float qv[MG][E], acc[MG][E];
#pragma unroll
  for (int g = 0; g < MG; ++g) {
    float tmp[E];
#pragma unroll
    for (int e = 0; e < E; ++e) tmp[e] = 0.0f;
    if (g < g_count && owns_dims)
      convert<T, E>(*reinterpret_cast<const Raw*>(
                        q + (static_cast<int64_t>(b) * heads + kvh * g_count + g) * D + lane * E),
                    tmp);
#pragma unroll
    for (int e = 0; e < E; ++e) {
      qv[g][e] = tmp[e] * scale;
      acc[g][e] = 0.0f;
    }
  }
  float m = -INFINITY, l = 0.0f;  // running max and sum of head my_g (meaningful where my_g < G)

  const int64_t row = static_cast<int64_t>(b) * kv_heads + kvh;
  const T* kb = k_cache + row * max_len * D + lane * E;
  const T* vb = v_cache + row * max_len * D + lane * E;
  const bool* vrow = valid + static_cast<int64_t>(b) * max_len;

  for (int64_t t0 = s0 + static_cast<int64_t>(warp) * TJ; t0 < s1; t0 += kWarps * TJ) {
    Raw kraw[TJ], vraw[TJ];
#pragma unroll
    for (int j = 0; j < TJ; ++j) {
      const bool in = t0 + j < s1 && owns_dims;
      kraw[j] = in ? *reinterpret_cast<const Raw*>(kb + (t0 + j) * D) : Raw{};
      vraw[j] = in ? *reinterpret_cast<const Raw*>(vb + (t0 + j) * D) : Raw{};
    }
    const int64_t my_s = t0 + my_j;
    const bool my_ok = my_s < s1 && my_g < g_count && vrow[my_s];
    // Partial dots of this lane's dims, pair i = j * MG + g, then the transpose reduction.
    float part[32];
#pragma unroll
    for (int j = 0; j < TJ; ++j) {
      float k[E];
      convert<T, E>(kraw[j], k);
#pragma unroll
      for (int g = 0; g < MG; ++g) {
        float d = 0.0f;
#pragma unroll
        for (int e = 0; e < E; ++e) d += qv[g][e] * k[e];
        part[j * MG + g] = d;
      }
    }
    transpose_round<16>(part, lane);
    transpose_round<8>(part, lane);
    transpose_round<4>(part, lane);
    transpose_round<2>(part, lane);
    transpose_round<1>(part, lane);
    const float score = my_ok ? part[0] : -INFINITY;
    // One online-softmax step per head over the tile (lanes of one head differ by multiples of MG).
    float tmax = score;
#pragma unroll
    for (int o = MG; o < 32; o <<= 1) tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, o));
    const float mn = fmaxf(m, tmax);
    const float p = mn == -INFINITY ? 0.0f : expf(score - mn);
    const float c = mn == -INFINITY ? 1.0f : expf(m - mn);
    float tsum = p;
#pragma unroll
    for (int o = MG; o < 32; o <<= 1) tsum += __shfl_xor_sync(0xffffffffu, tsum, o);
    l = l * c + tsum;
    m = mn;
    // Rescale and accumulate: head g's factor lives in lane g, pair (j, g)'s p in lane j*MG+g.
#pragma unroll
    for (int g = 0; g < MG; ++g) {
      const float cg = __shfl_sync(0xffffffffu, c, g);
#pragma unroll
      for (int e = 0; e < E; ++e) acc[g][e] *= cg;
    }
#pragma unroll
    for (int j = 0; j < TJ; ++j) {
      float v[E];
      convert<T, E>(vraw[j], v);
#pragma unroll
      for (int g = 0; g < MG; ++g) {
        const float pj = __shfl_sync(0xffffffffu, p, j * MG + g);
#pragma unroll
        for (int e = 0; e < E; ++e) acc[g][e] += pj * v[e];
      }
    }
  }

  // Merge the warps: lane g < MG holds head g's (m, l).
#pragma unroll
  for (int g = 0; g < MG; ++g) {
    if (lane == g) {
      merge_s[warp][g][0] = m;
      merge_s[warp][g][1] = l;
    }
    if (owns_dims) {
#pragma unroll
      for (int e = 0; e < E; ++e) merge_s[warp][g][2 + lane * E + e] = acc[g][e];
    }
  }
  __syncthreads();
  for (int idx = threadIdx.x; idx < g_count * D; idx += blockDim.x) {
    const int g = idx / D, i = idx % D;
    float mx = -INFINITY;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) mx = fmaxf(mx, merge_s[w][g][0]);
    float sum = 0.0f, a = 0.0f;
    if (mx != -INFINITY) {
#pragma unroll
      for (int w = 0; w < kWarps; ++w) {
        if (merge_s[w][g][0] == -INFINITY) continue;
        const float scale_w = expf(merge_s[w][g][0] - mx);
        sum += merge_s[w][g][1] * scale_w;
        a += merge_s[w][g][2 + i] * scale_w;
      }
    }
    const int64_t h = static_cast<int64_t>(b) * heads + kvh * g_count + g;
    if (splits == 1) {
      out[h * D + i] = Cvt<T>::t(sum > 0.0f ? a / sum : 0.0f);
      continue;
    }
    const int64_t hs = h * splits + split;
    ws_acc[hs * D + i] = a;
    if (i == 0) {
      ws_ml[hs * 2] = mx;
      ws_ml[hs * 2 + 1] = sum;
    }
  }
}

// grid (H, B), block d threads: merges the splits of one head. The same merge as the split
// kernel's merge of its warps, written out for global memory: a shared helper with runtime
// strides measured ~1% slower at batch 1 (the loads no longer overlapped as well).
template <typename T>
__global__ void attention_combine_kernel(const float* __restrict__ ws_ml,
                                         const float* __restrict__ ws_acc, T* __restrict__ out,
                                         int heads, int d, int splits) {
  const int h = blockIdx.x, b = blockIdx.y, i = threadIdx.x;
  const int64_t base = (static_cast<int64_t>(b) * heads + h) * splits;
  float mx = -INFINITY;
#pragma unroll 8
  for (int s = 0; s < splits; ++s) mx = fmaxf(mx, ws_ml[(base + s) * 2]);
  float sum = 0.0f, a = 0.0f;
  if (mx != -INFINITY) {
#pragma unroll 8
    for (int s = 0; s < splits; ++s) {
      const float ms = ws_ml[(base + s) * 2];
      const float w = ms == -INFINITY ? 0.0f : expf(ms - mx);
      sum += ws_ml[(base + s) * 2 + 1] * w;
      a += ws_acc[(base + s) * d + i] * w;
    }
  }
  out[(static_cast<int64_t>(b) * heads + h) * d + i] = Cvt<T>::t(sum > 0.0f ? a / sum : 0.0f);
}

// ---- SwiGLU activation ----------------------------------------------------------------------------

// One thread per 8 outputs (16-byte loads); f % 8 == 0.
template <typename T>
__global__ void silu_mul_kernel(const T* __restrict__ gate_up, T* __restrict__ out, int64_t rows,
                                int64_t f) {
  const int64_t chunks = f / 8, n = rows * chunks;
  for (int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; idx < n;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = idx / chunks, j = (idx % chunks) * 8;
    float g[8], u[8];
    load8<T>(gate_up + r * 2 * f + j, g);
    load8<T>(gate_up + r * 2 * f + f + j, u);
    alignas(16) T o[8];
#pragma unroll
    for (int e = 0; e < 8; ++e) o[e] = Cvt<T>::t(rnd<T>(g[e] / (1.0f + expf(-g[e]))) * u[e]);  // at::silu, then * up
    *reinterpret_cast<uint4*>(out + r * f + j) = *reinterpret_cast<const uint4*>(o);
  }
}

// ---- batch-1 GEMV ------------------------------------------------------------------------------

constexpr int kGemvWarps = 8;  // warps per block
constexpr int kGemvRows = 2;   // output rows per warp

// y[r] = x . w[r, :] (+ bias[r]) for one input row: each warp streams kGemvRows weight rows in
// 16-byte loads (fp32 accumulation, one rounding, like cuBLAS), x from shared memory. k % 8 == 0.
template <typename T>
__global__ void __launch_bounds__(kGemvWarps * 32)
    gemv_kernel(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ bias,
                T* __restrict__ y, int64_t n_out, int k) {
  extern __shared__ uint4 x_s[];  // k / 8 chunks
  const int chunks = k / 8;
  for (int c = threadIdx.x; c < chunks; c += blockDim.x) x_s[c] = reinterpret_cast<const uint4*>(x)[c];
  __syncthreads();
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t r0 = (static_cast<int64_t>(blockIdx.x) * kGemvWarps + warp) * kGemvRows;
  float sum[kGemvRows] = {};
  const uint4* wr[kGemvRows];
#pragma unroll
  for (int r = 0; r < kGemvRows; ++r)
    wr[r] = reinterpret_cast<const uint4*>(w + (r0 + r < n_out ? r0 + r : n_out - 1) * static_cast<int64_t>(k));
#pragma unroll 4
  for (int c = lane; c < chunks; c += 32) {
    uint4 raw[kGemvRows];
#pragma unroll
    for (int r = 0; r < kGemvRows; ++r) raw[r] = wr[r][c];
    float xv[8];
    convert<T, 8>(x_s[c], xv);
#pragma unroll
    for (int r = 0; r < kGemvRows; ++r) {
      float wv[8];
      convert<T, 8>(raw[r], wv);
#pragma unroll
      for (int e = 0; e < 8; ++e) sum[r] += xv[e] * wv[e];
    }
  }
#pragma unroll
  for (int r = 0; r < kGemvRows; ++r) {
    const float total = warp_sum(sum[r]);
    if (lane == 0 && r0 + r < n_out)
      y[r0 + r] = Cvt<T>::t(total + (bias ? Cvt<T>::f(bias[r0 + r]) : 0.0f));
  }
}

int last_error() { return static_cast<int>(cudaGetLastError()); }

bool pow2_in(int64_t v, int64_t lo, int64_t hi) { return v >= lo && v <= hi && (v & (v - 1)) == 0; }

template <typename T>
int attention_launch(const void* q, const void* k, const void* v, const bool* valid,
                     const int64_t* slot, void* out, float* ws, int64_t batch, int64_t heads,
                     int64_t kv_heads, int64_t d, int64_t max_len, int splits, cudaStream_t st) {
  const int chunk = static_cast<int>((max_len + splits - 1) / splits);
  const dim3 grid(splits, static_cast<unsigned>(kv_heads), static_cast<unsigned>(batch));
  const int g = static_cast<int>(heads / kv_heads);
  float* ws_ml = ws;
  float* ws_acc = ws + batch * heads * splits * 2;
  const float scale = 1.0f / sqrtf(static_cast<float>(d));
  auto go = [&](auto kernel) {
    kernel<<<grid, kWarps * 32, 0, st>>>(static_cast<const T*>(q), static_cast<const T*>(k),
                                         static_cast<const T*>(v), valid, slot, ws_ml, ws_acc,
                                         static_cast<T*>(out), static_cast<int>(heads),
                                         static_cast<int>(kv_heads), max_len, chunk, scale);
  };
  auto by_group = [&](auto d_tag) {
    constexpr int D = decltype(d_tag)::value;
    if (g <= 2) go(attention_split_kernel<T, D, 2>);
    else if (g <= 4) go(attention_split_kernel<T, D, 4>);
    else go(attention_split_kernel<T, D, 8>);
  };
  switch (d) {
    case 16: by_group(std::integral_constant<int, 16>{}); break;
    case 32: by_group(std::integral_constant<int, 32>{}); break;
    case 64: by_group(std::integral_constant<int, 64>{}); break;
    case 128: by_group(std::integral_constant<int, 128>{}); break;
    case 256: by_group(std::integral_constant<int, 256>{}); break;
    default: return static_cast<int>(cudaErrorInvalidValue);
  }
  if (int e = last_error()) return e;
  if (splits == 1) return 0;  // the split kernel wrote the output
  attention_combine_kernel<T><<<dim3(static_cast<unsigned>(heads), static_cast<unsigned>(batch)),
                                static_cast<unsigned>(d), 0, st>>>(ws_ml, ws_acc, static_cast<T*>(out),
                                                                    static_cast<int>(heads),
                                                                    static_cast<int>(d), splits);
  return last_error();
}

}  // namespace

int rms_norm(Dtype dt, const void* x, const void* residual, void* sum_out, const void* weight,
             void* out, int64_t rows, int64_t cols, float eps, void* stream) {
  const int64_t chunks = cols / 8;
  if (cols % 8 != 0 || chunks > 1024 * kNormChunks) return static_cast<int>(cudaErrorInvalidValue);
  const auto st = static_cast<cudaStream_t>(stream);
  // As many threads as 16-byte chunks (whole warps, at most 1024).
  const int threads = static_cast<int>(std::min<int64_t>(1024, (chunks + 31) / 32 * 32));
  auto go = [&](auto tag) {
    using T = decltype(tag);
    rms_norm_kernel<T><<<static_cast<unsigned>(rows), threads, 0, st>>>(
        static_cast<const T*>(x), static_cast<const T*>(residual), static_cast<T*>(sum_out),
        static_cast<const T*>(weight), static_cast<T*>(out), static_cast<int>(cols), eps);
  };
  if (dt == Dtype::kBf16) go(__nv_bfloat16{});
  else go(__half{});
  return last_error();
}

int qk_norm_rope_cache(Dtype dt, const void* qkv, const void* qk_norm, const void* cos,
                       const void* sin_signed, void* q_out, void* k_cache, void* v_cache,
                       const int64_t* slot, int64_t batch, int64_t heads, int64_t kv_heads,
                       int64_t head_dim, int64_t max_len, float eps, void* stream) {
  if (!pow2_in(head_dim, 16, 1024)) return static_cast<int>(cudaErrorInvalidValue);
  const auto st = static_cast<cudaStream_t>(stream);
  const dim3 grid(static_cast<unsigned>(heads + 2 * kv_heads), static_cast<unsigned>(batch));
  const size_t smem = sizeof(float) * 2 * head_dim;
  auto go = [&](auto tag) {
    using T = decltype(tag);
    qk_norm_rope_cache_kernel<T><<<grid, static_cast<unsigned>(head_dim), smem, st>>>(
        static_cast<const T*>(qkv), static_cast<const T*>(qk_norm), static_cast<const T*>(cos),
        static_cast<const T*>(sin_signed), static_cast<T*>(q_out), static_cast<T*>(k_cache),
        static_cast<T*>(v_cache), slot, static_cast<int>(heads), static_cast<int>(kv_heads),
        static_cast<int>(head_dim), max_len, eps);
  };
  if (dt == Dtype::kBf16) go(__nv_bfloat16{});
  else go(__half{});
  return last_error();
}

bool decode_attention_supported(int64_t heads, int64_t kv_heads, int64_t head_dim) {
  return kv_heads > 0 && heads % kv_heads == 0 && heads / kv_heads <= kMaxGroup &&
         pow2_in(head_dim, 16, 256);
}

int decode_attention_splits(int64_t batch, int64_t kv_heads, int64_t max_len, int sm_count) {
  // Enough blocks for two waves of the SMs, but at least 4 slots per warp of a split (an 8-slot
  // tile for two of the four warps at G = 4; the measured configuration, bench/RESULTS.md).
  const int64_t want = (2 * static_cast<int64_t>(sm_count) + batch * kv_heads - 1) / (batch * kv_heads);
  const int64_t most = (max_len + 4 * kWarps - 1) / (4 * kWarps);
  return static_cast<int>(std::max<int64_t>(1, std::min(want, most)));
}

int64_t decode_attention_workspace(int64_t batch, int64_t heads, int64_t head_dim, int splits) {
  return batch * heads * splits * (head_dim + 2);
}

int decode_attention(Dtype dt, const void* q, const void* k_cache, const void* v_cache,
                     const bool* valid, const int64_t* slot, void* out, float* workspace,
                     int64_t batch, int64_t heads, int64_t kv_heads, int64_t head_dim,
                     int64_t max_len, int splits, void* stream) {
  if (!decode_attention_supported(heads, kv_heads, head_dim) || splits < 1)
    return static_cast<int>(cudaErrorInvalidValue);
  const auto st = static_cast<cudaStream_t>(stream);
  if (dt == Dtype::kBf16)
    return attention_launch<__nv_bfloat16>(q, k_cache, v_cache, valid, slot, out, workspace, batch,
                                           heads, kv_heads, head_dim, max_len, splits, st);
  return attention_launch<__half>(q, k_cache, v_cache, valid, slot, out, workspace, batch, heads,
                                  kv_heads, head_dim, max_len, splits, st);
}

int silu_mul(Dtype dt, const void* gate_up, void* out, int64_t rows, int64_t f, void* stream) {
  if (f % 8 != 0) return static_cast<int>(cudaErrorInvalidValue);
  const auto st = static_cast<cudaStream_t>(stream);
  const int64_t n = rows * (f / 8);
  const int threads = 256;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((n + threads - 1) / threads, 65535));
  auto go = [&](auto tag) {
    using T = decltype(tag);
    silu_mul_kernel<T><<<blocks, threads, 0, st>>>(static_cast<const T*>(gate_up),
                                                   static_cast<T*>(out), rows, f);
  };
  if (dt == Dtype::kBf16) go(__nv_bfloat16{});
  else go(__half{});
  return last_error();
}

int gemv(Dtype dt, const void* x, const void* weight, const void* bias, void* y, int64_t n_out,
         int64_t k, void* stream) {
  if (k % 8 != 0 || k > 8 * 6144) return static_cast<int>(cudaErrorInvalidValue);  // x in 96 KB of shared memory
  const auto st = static_cast<cudaStream_t>(stream);
  const int64_t rows_per_block = kGemvWarps * kGemvRows;
  const unsigned blocks = static_cast<unsigned>((n_out + rows_per_block - 1) / rows_per_block);
  const size_t smem = static_cast<size_t>(k) * 2;
  auto go = [&](auto tag) {
    using T = decltype(tag);
    if (smem > 48 * 1024) {  // once per type: the largest x this launcher accepts
      static const cudaError_t allowed = cudaFuncSetAttribute(
          gemv_kernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, 8 * 6144 * 2);
      (void)allowed;
    }
    gemv_kernel<T><<<blocks, kGemvWarps * 32, smem, st>>>(
        static_cast<const T*>(x), static_cast<const T*>(weight), static_cast<const T*>(bias),
        static_cast<T*>(y), n_out, static_cast<int>(k));
  };
  if (dt == Dtype::kBf16) go(__nv_bfloat16{});
  else go(__half{});
  return last_error();
}

}  // namespace qb::model::kernels
