// Observers: statistics over calibration batches that become static scales (llm-compressor
// 0.14.0.1, observers/base.py, min_max.py, mse.py, mse_quant.py; the eager, non-Triton code
// path). An observer owns its running min/max in the qparam shape (see reduce_min_max) and in
// the observed dtype; qparams() turns them into scales with calculate_qparams().
//
//   Observer obs(args, Role::kInputActivation);      // kind from effective_observer()
//   for (batch : calibration) obs.observe(x);        // x [..., in]
//   QB_ASSIGN_OR_RETURN(QParams qp, obs.qparams());  // input_scale [1]
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

#include "steps/qmath/qparams.h"
#include "steps/qmath/quant_args.h"

namespace qb::qmath {

class Observer {
 public:
  // kind = effective_observer(args, role); for a dynamic activation there is nothing to observe
  // and create() fails.
  static Result<Observer> create(const QuantArgs& args, Role role);

  // Folds one batch in. Weights: [out, in]; activations: [..., in]. An empty tensor is ignored
  // (as in the reference). A weight observer, like the reference's, keeps its first
  // observation. May throw c10::Error (shape mismatch with earlier batches).
  void observe(const at::Tensor& x);

  bool has_statistics() const { return min_vals_.defined(); }
  std::int64_t num_batches() const { return num_batches_; }
  const at::Tensor& min_vals() const { return min_vals_; }
  const at::Tensor& max_vals() const { return max_vals_; }
  ObserverKind kind() const { return kind_; }

  // Errors: not_found "observer has no statistics (no calibration batch reached it)".
  Result<QParams> qparams() const;

 private:
  Observer(QuantArgs args, Role role, ObserverKind kind)
      : args_(std::move(args)), role_(role), kind_(kind) {}
  QuantArgs args_;
  Role role_;
  ObserverKind kind_;
  at::Tensor min_vals_, max_vals_;
  std::int64_t num_batches_ = 0;
};

// The MSE grid search of llm-compressor's eager _grid_search_mse for one observation `x` (the
// memoryless step): returns the (min, max) in the qparam shape minimising
// Σ |fake_quantize(x) - x|^norm. May throw c10::Error.
std::pair<at::Tensor, at::Tensor> mse_search(const at::Tensor& x, const QuantArgs& args,
                                             Role role);

}  // namespace qb::qmath
