// Slow, obviously-correct reference implementations, written as plain loops over elements with
// the same arithmetic (same dtypes, same operation order) as the fast tensor code they check:
// RTN of a weight, GPTQ of one Linear. Tests compare fast against reference (exact equality of
// the int8 codes and scales for RTN; max-abs error for GPTQ, whose fast path reorders sums in
// the blocked matrix products). CPU only; meant for matrices up to a few hundred columns.
#pragma once

#include <ATen/ATen.h>

#include "steps/qmath/gptq.h"
#include "steps/qmath/qparams.h"
#include "steps/qmath/quant_args.h"
#include "util/status.h"

namespace qb::qmath {

// Element-by-element min/max, scale, zero point and rounding (std::nearbyint in the
// round-to-nearest-even mode), emulating bf16/fp16 rounding of each intermediate when the
// weight has that dtype.
Result<QuantizedWeight> reference_rtn(const at::Tensor& weight, const QuantArgs& args);

// Unblocked GPTQ: one column at a time, updating every remaining column immediately, with H⁻¹'s
// upper Cholesky factor computed by textbook loops in float64 (so it also measures the fp32
// rounding of the fast path). Same scales (the fast path's observer) and same fallback rule.
Result<GptqResult> reference_gptq(const at::Tensor& weight, const at::Tensor& hessian,
                                  const QuantArgs& args, const GptqOptions& opts = {});

}  // namespace qb::qmath
