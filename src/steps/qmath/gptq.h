// GPTQ (Frantar et al. 2022, https://arxiv.org/abs/2210.17323) as llm-compressor 0.14.0.1
// implements it (modifiers/gptq/gptq_quantize.py quantize_weight, helpers.py), on one Linear:
//
//   H  = Σ_batches 2·xᵀx / num_samples         (HessianAccumulator; fp32; x scaled by √2 first,
//                                               num_samples counts sequences: the leading dim;
//                                               bf16/fp16 inputs on CUDA: a bf16 GEMM with fp32
//                                               output, products exact for them, fp32
//                                               accumulation, then ×2)
//   scale, zp from the weight observer on the ORIGINAL weight (its own dtype), fixed for the
//   whole run — also per group: groups are scaled before any error feedback
//   actorder=weight: perm = argsort(diag H, descending) (stable), permute W columns and H
//   dead columns (diag H == 0, after permutation): diag := 1, W[:, d] := 0
//   damp: diag H += dampening_frac · mean(diag H)
//   Hinv = upper Cholesky factor of H⁻¹ (cholesky, cholesky_inverse, cholesky upper)
//   if the first Cholesky fails: Hinv := I and the result equals RTN with the same scales
//   (llm-compressor logs a warning and counts the module as an RTN fallback; so do we)
//   for each block of block_size columns, for each column i in it:
//     q = fake_quantize(w_i) with column i's scale (group: scale of its original column's group)
//     err = (w_i - q) / Hinv[i, i];  loss += err² / 2;  W[:, i:block_end] -= err ⊗ Hinv[i, i:block_end]
//   then W[:, block_end:] -= Err_block · Hinv[block, block_end:]
//   un-permute; the integer codes are quantize(result.to(weight dtype), scale, zp), which is
//   what compressed-tensors' compressor stores.
// fp8 args (qmath/fp8.h): the same loop with e4m3 rounding (clamp ±448, nearest e4m3) in place of
// the integer rounding; block strategy: column i's scale is scale[row / rows, g_idx[i] ] with
// g_idx = original column / cols (column_scale_window); codes are float8_e4m3fn.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

#include "steps/qmath/qparams.h"
#include "steps/qmath/quant_args.h"
#include "util/status.h"

namespace qb::qmath {

// Σ 2·xᵀx over calibration inputs of one Linear, in fp32 on the device of the first input.
class HessianAccumulator {
 public:
  explicit HessianAccumulator(std::int64_t in_features) : in_features_(in_features) {}
  // x: [B, T, in] (adds B samples) or [T, in] (adds 1 sample, as the reference unsqueezes it).
  // Errors: last dim != in_features, rank not 2 or 3.
  Status add(const at::Tensor& x);
  std::int64_t num_samples() const { return num_samples_; }
  std::int64_t in_features() const { return in_features_; }
  // H / num_samples, fp32 [in, in]. Errors: no samples.
  Result<at::Tensor> finalize() const;

 private:
  std::int64_t in_features_;
  at::Tensor sum_;  // fp32 [in, in]
  std::int64_t num_samples_ = 0;
};

struct GptqOptions {
  std::int64_t block_size = 128;
  double dampening_frac = 0.01;
  // CUDA: replay each full block's column loop from a captured CUDA graph (identical results,
  // one launch per block instead of ~10 per column); false runs the loop eagerly.
  bool cuda_graph = true;
  // args.actorder decides the column order.
};

struct GptqResult {
  at::Tensor q;            // int8 (fp8 args: float8_e4m3fn) [out, in], the codes the checkpoint stores
  QParams qparams;         // scale in the weight's dtype, [out,1] / [1] / [out, in/group]
  at::Tensor dequantized;  // [out, in] in the weight's dtype: the fake-quantized weight
  double loss = 0.0;       // Σ err²/2 over all rows and columns (llm-compressor's "loss")
  at::Tensor row_losses;   // [out] fp32 on the weight's device: each row's Σ err²/2
  bool rtn_fallback = false;  // Cholesky failed: the result is RTN
};

// weight: [out, in] floating (model dtype; scales are computed in it); hessian: fp32 [in, in],
// already divided by num_samples (HessianAccumulator::finalize). Runs on weight's device.
// Errors: check_int_args, token strategy, shapes, group_size not dividing in, block_size < 1,
// dampening_frac < 0. A failed Cholesky is not an error (rtn_fallback = true, logged).
Result<GptqResult> gptq_quantize(const at::Tensor& weight, const at::Tensor& hessian,
                                 const QuantArgs& args, const GptqOptions& opts = {});

}  // namespace qb::qmath
