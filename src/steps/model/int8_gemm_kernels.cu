// W8A8 int8 GEMM with the scales in the epilogue (interface and rounding contract:
// quant_kernels.h).
//
// Why: the ATen path (qmath::scaled_int8_linear) ran at::_int_mm (cuBLASLt) and then ~6
// elementwise kernels over the int32 [M, N] result (cast, two scale products, a cast back):
// on an H100, Qwen3-8B shape, W8A8 prefill was 0.50x and decode 0.64-0.73x bf16
// (bench/RESULTS.md). Here the int32 accumulators never leave registers: the epilogue scales
// them and writes bf16 once.
//
//   M > 16:  CUTLASS 3's sm90 kernel (TMA loads, wgmma s8 x s8 -> s32, warp-specialized
//            ping-pong consumers) with an epilogue visitor tree float(acc) * s_x[m] * s_w[n].
//            cuBLASLt is the alternative: its int8 kernels reach ~0.9-1.2x bf16 on this GPU
//            (issue 17's measurement of _int_mm) and its scaling epilogues take per-tensor
//            scales, not a per-token x per-channel outer product. vLLM serves W8A8 through the
//            same CUTLASS kernels; the tile configurations below are theirs for sm90 int8.
//   M <= 16 and the codes fit 64 KB of shared memory: a dp4a GEMV that streams the weights
//            once (decode is bound by weight bytes, which int8 halves).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "steps/model/quant_kernels.h"

#ifdef QB_CUTLASS_KERNELS
#include "cute/tensor.hpp"
#include "cutlass/cutlass.h"
#include "cutlass/epilogue/collective/collective_builder.hpp"
#include "cutlass/epilogue/fusion/sm90_callbacks_tma_warpspecialized.hpp"
#include "cutlass/gemm/collective/collective_builder.hpp"
#include "cutlass/gemm/device/gemm_universal_adapter.h"
#include "cutlass/gemm/kernel/gemm_universal.hpp"
#include "cutlass/util/packed_stride.hpp"
#endif

namespace qb::model::kernels {

namespace {

constexpr int kGemvWarps = 8;       // warps per block
constexpr int kGemvRows = 2;        // weight rows per warp
constexpr int64_t kGemvMaxM = 16;   // rows the GEMV takes at most
constexpr int64_t kGemvSmem = 64 * 1024;

template <typename T>
__device__ __forceinline__ T to_out(float v);
template <>
__device__ __forceinline__ __nv_bfloat16 to_out(float v) { return __float2bfloat16_rn(v); }
template <>
__device__ __forceinline__ __half to_out(float v) { return __float2half_rn(v); }

__device__ __forceinline__ int dot16(const uint4& a, const uint4& b, int acc) {
  acc = __dp4a(static_cast<int>(a.x), static_cast<int>(b.x), acc);
  acc = __dp4a(static_cast<int>(a.y), static_cast<int>(b.y), acc);
  acc = __dp4a(static_cast<int>(a.z), static_cast<int>(b.z), acc);
  return __dp4a(static_cast<int>(a.w), static_cast<int>(b.w), acc);
}

// y[m, n] = (float(sum_k a[m,k] w[n,k]) * sa[m]) * sw[n] for M rows of codes held in shared
// memory; each warp streams kGemvRows weight rows 16 bytes a lane.
template <typename T, int M>
__global__ void __launch_bounds__(kGemvWarps * 32)
    int8_gemv_kernel(const int8_t* __restrict__ a, const float* __restrict__ sa,
                     const int8_t* __restrict__ w, const float* __restrict__ sw,
                     T* __restrict__ y, int64_t n, int k) {
  extern __shared__ uint4 a_s[];  // M * k / 16 chunks
  const int chunks = k / 16;
  for (int c = threadIdx.x; c < M * chunks; c += blockDim.x) a_s[c] = reinterpret_cast<const uint4*>(a)[c];
  __syncthreads();
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t r0 = (static_cast<int64_t>(blockIdx.x) * kGemvWarps + warp) * kGemvRows;
  int acc[kGemvRows][M] = {};
  const uint4* wr[kGemvRows];
#pragma unroll
  for (int r = 0; r < kGemvRows; ++r)
    wr[r] = reinterpret_cast<const uint4*>(w + (r0 + r < n ? r0 + r : n - 1) * static_cast<int64_t>(k));
#pragma unroll 4
  for (int c = lane; c < chunks; c += 32) {
    uint4 raw[kGemvRows];
#pragma unroll
    for (int r = 0; r < kGemvRows; ++r) raw[r] = __ldg(wr[r] + c);
#pragma unroll
    for (int m = 0; m < M; ++m) {
      const uint4 av = a_s[m * chunks + c];
#pragma unroll
      for (int r = 0; r < kGemvRows; ++r) acc[r][m] = dot16(raw[r], av, acc[r][m]);
    }
  }
#pragma unroll
  for (int r = 0; r < kGemvRows; ++r)
#pragma unroll
    for (int m = 0; m < M; ++m) {
      int s = acc[r][m];
#pragma unroll
      for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);  // exact
      if (lane == m % 32 && r0 + r < n) {
        const float v = __fmul_rn(__fmul_rn(__int2float_rn(s), sa[m]), sw[r0 + r]);
        y[m * n + r0 + r] = to_out<T>(v);
      }
    }
}

template <typename T, int M>
int gemv_launch(const int8_t* a, const float* sa, const int8_t* w, const float* sw, void* y,
                int64_t n, int64_t k, cudaStream_t st) {
  const int64_t per_block = kGemvWarps * kGemvRows;
  const unsigned blocks = static_cast<unsigned>((n + per_block - 1) / per_block);
  const size_t smem = static_cast<size_t>(M) * static_cast<size_t>(k);
  if (smem > 48 * 1024) {
    static const cudaError_t once = cudaFuncSetAttribute(
        int8_gemv_kernel<T, M>, cudaFuncAttributeMaxDynamicSharedMemorySize, kGemvSmem);
    (void)once;
  }
  int8_gemv_kernel<T, M><<<blocks, kGemvWarps * 32, smem, st>>>(a, sa, w, sw, static_cast<T*>(y),
                                                               n, static_cast<int>(k));
  return static_cast<int>(cudaGetLastError());
}

template <typename T>
int gemv_dispatch(const int8_t* a, const float* sa, const int8_t* w, const float* sw, void* y,
                  int64_t m, int64_t n, int64_t k, cudaStream_t st) {
  // Row blocks of 8, 4, 2, 1: every row count <= 16 in at most three launches.
  int rc = 0;
  int64_t done = 0;
  while (done < m && rc == 0) {
    const int64_t left = m - done;
    T* yo = static_cast<T*>(y) + done * n;
    const int8_t* ao = a + done * k;
    if (left >= 8) rc = gemv_launch<T, 8>(ao, sa + done, w, sw, yo, n, k, st), done += 8;
    else if (left >= 4) rc = gemv_launch<T, 4>(ao, sa + done, w, sw, yo, n, k, st), done += 4;
    else if (left >= 2) rc = gemv_launch<T, 2>(ao, sa + done, w, sw, yo, n, k, st), done += 2;
    else rc = gemv_launch<T, 1>(ao, sa + done, w, sw, yo, n, k, st), done += 1;
  }
  return rc;
}

#ifdef QB_CUTLASS_KERNELS
using namespace cute;

// One CUTLASS 3 sm90 int8 GEMM: D = bf16/fp16(float(A·Bᵀ) * col_scale[m] * row_scale[n]).
template <typename OutT, typename TileShape, typename ClusterShape>
struct Sm90Int8Gemm {
  using ElementA = int8_t;
  using ElementB = int8_t;
  using ElementD = OutT;
  using ElementAcc = int32_t;
  using LayoutA = cutlass::layout::RowMajor;
  using LayoutB = cutlass::layout::ColumnMajor;  // B [N, K] row-major is K-major: "column major"
  using LayoutD = cutlass::layout::RowMajor;
  static constexpr int kAlignAB = 16;
  static constexpr int kAlignD = 16 / sizeof(OutT);

  using Accum = cutlass::epilogue::fusion::Sm90AccFetch;
  using ScaleX = cutlass::epilogue::fusion::Sm90ColBroadcast<0, TileShape, float, float,
                                                             Stride<_1, _0, int64_t>>;
  using ScaleW = cutlass::epilogue::fusion::Sm90RowBroadcast<0, TileShape, float, float,
                                                             Stride<_0, _1, int64_t>>;
  using MulX = cutlass::epilogue::fusion::Sm90Compute<cutlass::multiplies, float, float,
                                                      cutlass::FloatRoundStyle::round_to_nearest>;
  using MulW = cutlass::epilogue::fusion::Sm90Compute<cutlass::multiplies, ElementD, float,
                                                      cutlass::FloatRoundStyle::round_to_nearest>;
  // (float(acc) * s_x) * s_w: the CPU's order, each product rounded in fp32.
  using Evt = cutlass::epilogue::fusion::Sm90EVT<
      MulW, cutlass::epilogue::fusion::Sm90EVT<MulX, Accum, ScaleX>, ScaleW>;

  using Epilogue = typename cutlass::epilogue::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, TileShape, ClusterShape,
      cutlass::epilogue::collective::EpilogueTileAuto, ElementAcc, float, void, LayoutD, kAlignD,
      ElementD, LayoutD, kAlignD, cutlass::epilogue::TmaWarpSpecialized, Evt>::CollectiveOp;
  using Mainloop = typename cutlass::gemm::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, ElementA, LayoutA, kAlignAB, ElementB,
      LayoutB, kAlignAB, ElementAcc, TileShape, ClusterShape,
      cutlass::gemm::collective::StageCountAutoCarveout<static_cast<int>(
          sizeof(typename Epilogue::SharedStorage))>,
      cutlass::gemm::KernelTmaWarpSpecializedPingpong>::CollectiveOp;
  using Kernel = cutlass::gemm::kernel::GemmUniversal<Shape<int, int, int, int>, Mainloop, Epilogue>;
  using Gemm = cutlass::gemm::device::GemmUniversalAdapter<Kernel>;

  static typename Gemm::Arguments args(const int8_t* a, const float* sa, const int8_t* w,
                                       const float* sw, void* y, int m, int n, int k) {
    using StrideA = typename Kernel::StrideA;
    using StrideB = typename Kernel::StrideB;
    using StrideD = typename Kernel::StrideD;
    const StrideA sA = cutlass::make_cute_packed_stride(StrideA{}, cute::make_shape(m, k, 1));
    const StrideB sB = cutlass::make_cute_packed_stride(StrideB{}, cute::make_shape(n, k, 1));
    const StrideD sD = cutlass::make_cute_packed_stride(StrideD{}, cute::make_shape(m, n, 1));
    typename Gemm::Arguments arg{cutlass::gemm::GemmUniversalMode::kGemm,
                                 {m, n, k, 1},
                                 {a, sA, w, sB},
                                 {{}, nullptr, sD, static_cast<ElementD*>(y), sD}};
    // Evt arguments: {{accum, scale_x, mul_x}, scale_w, mul_w}.
    arg.epilogue.thread = {{{}, {sa, 0.0f, {}}, {}}, {sw, 0.0f, {}}, {}};
    return arg;
  }

  static int64_t workspace(int m, int n, int k) {
    return static_cast<int64_t>(Gemm::get_workspace_size(args(nullptr, nullptr, nullptr, nullptr,
                                                              nullptr, m, n, k)));
  }

  static int run(const int8_t* a, const float* sa, const int8_t* w, const float* sw, void* y,
                 int m, int n, int k, void* ws, int64_t ws_bytes, cudaStream_t st) {
    Gemm gemm;
    auto arg = args(a, sa, w, sw, y, m, n, k);
    if (gemm.can_implement(arg) != cutlass::Status::kSuccess) return cudaErrorInvalidValue;
    if (static_cast<int64_t>(Gemm::get_workspace_size(arg)) > ws_bytes) return cudaErrorInvalidValue;
    if (gemm.initialize(arg, ws, st) != cutlass::Status::kSuccess) return cudaErrorInvalidValue;
    if (gemm.run(st) != cutlass::Status::kSuccess) {
      const int e = static_cast<int>(cudaGetLastError());
      return e ? e : static_cast<int>(cudaErrorLaunchFailure);
    }
    return static_cast<int>(cudaGetLastError());
  }
};

// vLLM's sm90 int8 choices: 64-row tiles up to M = 128 (decode batches), 128x128 beyond.
template <typename OutT>
using GemmSmallM = Sm90Int8Gemm<OutT, Shape<_64, _128, _128>, Shape<_2, _1, _1>>;
template <typename OutT>
using GemmLargeM = Sm90Int8Gemm<OutT, Shape<_128, _128, _128>, Shape<_2, _1, _1>>;

template <typename OutT>
int cutlass_dispatch(const int8_t* a, const float* sa, const int8_t* w, const float* sw, void* y,
                     int64_t m, int64_t n, int64_t k, void* ws, int64_t ws_bytes,
                     cudaStream_t st) {
  const int mi = static_cast<int>(m), ni = static_cast<int>(n), ki = static_cast<int>(k);
  if (m <= 128) return GemmSmallM<OutT>::run(a, sa, w, sw, y, mi, ni, ki, ws, ws_bytes, st);
  return GemmLargeM<OutT>::run(a, sa, w, sw, y, mi, ni, ki, ws, ws_bytes, st);
}
#endif

bool use_gemv(int64_t m, int64_t k) { return m <= kGemvMaxM && m * k <= kGemvSmem; }

}  // namespace

bool int8_gemm_has_cutlass() {
#ifdef QB_CUTLASS_KERNELS
  return true;
#else
  return false;
#endif
}

bool int8_gemm_supported(int64_t m, int64_t n, int64_t k) {
  if (m < 1 || n < 1 || k < 16 || k % 16 != 0 || n % 8 != 0) return false;
  if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) return false;
  return use_gemv(m, k) || int8_gemm_has_cutlass();
}

int64_t int8_gemm_workspace(int64_t m, int64_t n, int64_t k) {
#ifdef QB_CUTLASS_KERNELS
  if (!use_gemv(m, k)) {
    const int mi = static_cast<int>(m), ni = static_cast<int>(n), ki = static_cast<int>(k);
    return m <= 128 ? GemmSmallM<cutlass::bfloat16_t>::workspace(mi, ni, ki)
                    : GemmLargeM<cutlass::bfloat16_t>::workspace(mi, ni, ki);
  }
#endif
  (void)m, (void)n, (void)k;
  return 0;
}

int int8_scaled_mm(Dtype dt, const int8_t* a, const float* a_scale, const int8_t* w,
                   const float* w_scale, void* y, int64_t m, int64_t n, int64_t k,
                   void* workspace, int64_t workspace_bytes, void* stream) {
  if (!int8_gemm_supported(m, n, k)) return static_cast<int>(cudaErrorInvalidValue);
  const auto st = static_cast<cudaStream_t>(stream);
  if (use_gemv(m, k)) {
    return dt == Dtype::kBf16 ? gemv_dispatch<__nv_bfloat16>(a, a_scale, w, w_scale, y, m, n, k, st)
                              : gemv_dispatch<__half>(a, a_scale, w, w_scale, y, m, n, k, st);
  }
#ifdef QB_CUTLASS_KERNELS
  // cutlass::bfloat16_t / half_t share the layouts of __nv_bfloat16 / __half.
  return dt == Dtype::kBf16
             ? cutlass_dispatch<cutlass::bfloat16_t>(a, a_scale, w, w_scale, y, m, n, k, workspace,
                                                     workspace_bytes, st)
             : cutlass_dispatch<cutlass::half_t>(a, a_scale, w, w_scale, y, m, n, k, workspace,
                                                 workspace_bytes, st);
#else
  (void)workspace, (void)workspace_bytes;
  return static_cast<int>(cudaErrorInvalidValue);
#endif
}

}  // namespace qb::model::kernels
