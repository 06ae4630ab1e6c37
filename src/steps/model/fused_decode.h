// The fused one-token decode step on CUDA: ATen-facing wrappers of decode_kernels.h, used by
// DecoderLayer::forward for a one-token step over a KV cache (see model.cc) when the model is on
// a CUDA device in bf16/fp16 and this build has the kernels. Per layer it replaces ~20 small
// kernels (norms, RoPE, cache writes, masked attention over every static slot, SwiGLU, residual
// adds) with five or six around the projections, which at batch 1 run as GEMVs.
#pragma once

#include <ATen/ATen.h>

#include <utility>

#include "steps/model/linear.h"
#include "steps/model/model_config.h"

namespace qb::model::fused {

// Whether this build has the kernels (CMake found a CUDA compiler and libtorch has CUDA).
bool available();
// Whether a model of this shape, dtype and device can decode through the fused kernels.
bool supports(const ModelConfig& config, at::ScalarType dtype, at::Device device);

// All may throw c10::Error (a failed launch names the kernel).
// weight * rms_norm(x) over the last dim; x [..., C] contiguous.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);
// (x + a, weight * rms_norm(x + a)).
std::pair<at::Tensor, at::Tensor> add_rms_norm(const at::Tensor& x, const at::Tensor& a,
                                               const at::Tensor& weight, double eps);
// qkv [B, 1, (H + 2 KVH) * D] -> q [B, H, D] (q_norm, RoPE); k (k_norm, RoPE) and v written to
// slot slot[b] of row b of k_cache / v_cache [B, KVH, S, D] (slot [B] int64: each row's own
// next slot, KvCache::slot()); H follows from qkv's size.
// qk_norm [H + 2 KVH, D] or undefined.
at::Tensor qk_norm_rope_cache(const at::Tensor& qkv, const at::Tensor& qk_norm,
                              const at::Tensor& cos, const at::Tensor& sin_signed,
                              const at::Tensor& k_cache, const at::Tensor& v_cache,
                              const at::Tensor& slot, double eps);
// q [B, H, D] over slots [0, slot[b]] of row b's caches where valid [B, S] -> [B, H, D].
at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& k_cache,
                            const at::Tensor& v_cache, const at::Tensor& valid,
                            const at::Tensor& slot);
// gate_up [..., 2F] -> silu(gate) * up [..., F].
at::Tensor silu_mul(const at::Tensor& gate_up);
// f.forward(x), through the batch-1 GEMV kernel when x is one row and f a DenseLinear in x's
// dtype on x's device (cuBLAS picks GEMM tiles and split-K for one row; a plain weight stream
// is faster there); otherwise f.forward(x) itself.
at::Tensor linear(const Linear& f, const at::Tensor& x);

}  // namespace qb::model::fused
