// RMSNorm as transformers computes it (Qwen3RMSNorm / LlamaRMSNorm): statistics in fp32, the
// normalized value cast back to the input dtype, then multiplied by the weight in its dtype:
//   y = w * (x_f32 * rsqrt(mean(x_f32², -1) + eps)).to(x.dtype)
#pragma once

#include <ATen/ATen.h>

namespace qb::model {

// x [..., n], weight broadcastable to [..., n] ([n], or [heads, n] for per-head norms). The
// normalization is at::rms_norm without a weight (one fused kernel on CUDA, fp32 inside, one
// rounding to x's dtype); the weight multiply follows in the weight's dtype. May throw
// c10::Error.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

// The same, op by op exactly as transformers writes it; tests compare the two.
at::Tensor rms_norm_reference(const at::Tensor& x, const at::Tensor& weight, double eps);

}  // namespace qb::model
