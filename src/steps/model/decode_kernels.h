// CUDA kernels of the fused one-token decode step (decode_kernels.cu), behind a plain C++
// interface so that only the .cu file needs nvcc. Built only where CMake finds a CUDA compiler
// and libtorch has CUDA (QB_DECODE_KERNELS); fused_decode.h is the ATen-facing side.
//
// Every pointer is a device pointer to contiguous data; `stream` is a cudaStream_t. The 16-bit
// kernels round to the compute dtype exactly where the eager op-by-op path does (each eager op
// computes in fp32 and rounds its result), so the fused step follows the eager one up to the
// order of fp32 reductions. Each launcher returns 0 or the CUDA error code of the launch.
#pragma once

#include <cstdint>

namespace qb::model::kernels {

enum class Dtype { kBf16, kFp16 };

// out = weight * rms_norm(x) per row of `cols`; with `residual`, x + residual first (rounded),
// written to `sum_out`, then normalized. rows x cols.
int rms_norm(Dtype dt, const void* x, const void* residual, void* sum_out, const void* weight,
             void* out, int64_t rows, int64_t cols, float eps, void* stream);

// One token per row: qkv [B, H + 2 KVH, D] (the fused projection's output) -> q [B, H, D]
// after the per-head q_norm (qk_norm [H + 2 KVH, D] rows, or null: no norm) and RoPE (cos /
// sin_signed [B, D]); k the same with k_norm, written with v into slot slot[b] of row b of the
// caches [B, KVH, max_len, D] (slot [B]). D a power of two in [16, 1024].
int qk_norm_rope_cache(Dtype dt, const void* qkv, const void* qk_norm, const void* cos,
                       const void* sin_signed, void* q_out, void* k_cache, void* v_cache,
                       const int64_t* slot, int64_t batch, int64_t heads, int64_t kv_heads,
                       int64_t head_dim, int64_t max_len, float eps, void* stream);

// Grouped-query attention of one new token per row over slots [0, slot[b]] of row b's caches,
// skipping slots whose valid[b, s] is false: q [B, H, D] -> out [B, H, D]. Split over the slots
// into `splits` parts (flash-decoding), combined in a second kernel; `workspace` holds
// decode_attention_workspace(...) floats.
bool decode_attention_supported(int64_t heads, int64_t kv_heads, int64_t head_dim);
int decode_attention_splits(int64_t batch, int64_t kv_heads, int64_t max_len, int sm_count);
int64_t decode_attention_workspace(int64_t batch, int64_t heads, int64_t head_dim, int splits);
int decode_attention(Dtype dt, const void* q, const void* k_cache, const void* v_cache,
                     const bool* valid, const int64_t* slot, void* out, float* workspace,
                     int64_t batch, int64_t heads, int64_t kv_heads, int64_t head_dim,
                     int64_t max_len, int splits, void* stream);

// One input row: y [n_out] = weight [n_out, k] · x [k] (+ bias [n_out]); k % 8 == 0, k <= 49152.
int gemv(Dtype dt, const void* x, const void* weight, const void* bias, void* y, int64_t n_out,
         int64_t k, void* stream);

// gate_up [rows, 2F] (gate | up) -> silu(gate) * up [rows, F].
int silu_mul(Dtype dt, const void* gate_up, void* out, int64_t rows, int64_t f, void* stream);

}  // namespace qb::model::kernels
