// The arithmetic of the smoothing stages, operation by operation as llm-compressor 0.14.0.1
// computes it (the same ATen ops on the same dtypes, so CPU fp32 results are bit-identical):
//
// SmoothQuant (modifiers/transform/smoothquant/base.py _apply_smoothing,
// _calculate_smoothing_scales) — per mapping, from the smooth layer's output observed over the
// whole calibration set (per-channel running min and max, in the model dtype):
//   act_j = max_j - min_j                         (the dynamic range, not max |X_j|)
//   w_j   = 2 · max over balance layers of max_i |W_ij|
//   s_j   = act_j^α / w_j^(1-α), or act_j where w_j == 0
//   s_j   = max(s_j, 1e-5)                        (a float32 floor: promotes bf16 scales to fp32)
//   balance W ← W · s (columns), smooth norm γ ← γ / s (a Linear smooth layer: rows ÷ s, bias ÷ s)
//
// AWQ (modifiers/transform/awq/base.py _compute_best_scale, _compute_layer_means, _smooth) —
// per mapping, x̄ = mean over calibration tokens of |x| at the first balance layer's input
// (float32), w̄ = mean over balance layers of |W| normalised per quantization group (float64);
// for each (ratio r, duo) of the grid:
//   s = clamp(x̄^r / (w̄^(1-r) + 1e-4), min 1e-4)    (duo: float64)
//   s = clamp(x̄^r, min 1e-4)                        (not duo: float32)
//   s = s / sqrt(max(s) · min(s)); inf and nan → 1
//   each targeted balance layer: W' = (fake_quantize(W·s) / s).to(dtype), W·s rounded to the
//   weight dtype first and observed with memoryless min-max; untargeted ones keep W
//   loss = Σ_batches Σ (parent(W) - parent(W'))² / #elements   (float32, batch order)
// the first strict minimum wins; then balance W ← W · s, smooth layer ÷ s as above.
#pragma once

#include <ATen/ATen.h>

#include <optional>
#include <vector>

#include "spec/quant_args.h"
#include "util/status.h"

namespace qb::quant {

// SmoothQuant's scales [C] (see above). act_min/act_max [C] in the model dtype; weights
// [out_k, C]. Result dtype: float32 for bf16/fp32 models (the floor's promotion).
at::Tensor smoothquant_scales(const at::Tensor& act_min, const at::Tensor& act_max,
                              const std::vector<at::Tensor>& balance_weights, double alpha);

// Smoothing applied to one tensor, as llm-compressor writes it back into the parameter (the
// result cast to the tensor's dtype): balance weights [out, C] · s; norm weights [C] ÷ s;
// Linear smooth weights [C', in]: the last C rows ÷ s; biases [C'] ÷ s (last C entries).
at::Tensor scale_columns(const at::Tensor& w, const at::Tensor& s);
at::Tensor divide_outputs(const at::Tensor& w, const at::Tensor& s);

// AWQ's w̄ [in] (float64) over the targeted balance weights and their args.
at::Tensor awq_weight_mean(const std::vector<at::Tensor>& weights, const std::vector<spec::QuantArgs>& args);
// AWQ's candidate scales for one grid point. `w_mean` is needed when duo.
at::Tensor awq_scales(const at::Tensor& x_mean, const at::Tensor& w_mean, double ratio, bool duo);
// Q(W·s)/s in W's dtype (see above). Errors: the weight observer's (group size, shape).
Result<at::Tensor> awq_candidate(const at::Tensor& w, const at::Tensor& scales, const spec::QuantArgs& args);

}  // namespace qb::quant
