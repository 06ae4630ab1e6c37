// Observers (see observer.h): llm-compressor 0.14.0.1 observers/min_max.py, mse.py and the
// eager _grid_search_mse of mse_quant.py, operation by operation.
#include "steps/qmath/observer.h"

#include <limits>

namespace qb::qmath {
namespace {

// observers/helpers.py lerp: start * (1 - w) + end * w, in the statistics' dtype.
at::Tensor lerp(const at::Tensor& start, const at::Tensor& end, double w) {
  return start * (1.0 - w) + end * w;
}

double dtype_max(at::ScalarType t) {
  switch (t) {
    case at::kBFloat16: return 3.3895313892515355e38;
    case at::kHalf: return 65504.0;
    case at::kFloat: return std::numeric_limits<float>::max();
    default: return std::numeric_limits<double>::max();
  }
}

}  // namespace

std::pair<at::Tensor, at::Tensor> mse_search(const at::Tensor& x, const QuantArgs& args,
                                             Role role) {
  const auto& o = args.observer_options;
  auto observed = flatten_for_calibration(x, args, role);
  // expand = 1.0 (the default of the "mse"/"memoryless_mse" observers): min * 1.0 is exact.
  auto min_val = at::amin(observed, {0, -1});
  auto max_val = at::amax(observed, {0, -1});
  auto best_error = at::full_like(min_val, dtype_max(min_val.scalar_type()));
  auto best_min = min_val.clone();
  auto best_max = max_val.clone();
  // The candidates are fake-quantized per element of the qparam shape, as the reference does
  // with a copy of the args whose strategy is "token" (plain broadcasting).
  QuantArgs token_args = args;
  token_args.strategy = Strategy::kToken;
  token_args.group_size = 0;
  const int total_steps = static_cast<int>(o.maxshrink * o.grid);
  int no_improve = 0;
  for (int i = 0; i < total_steps; ++i) {
    const double p = 1.0 - static_cast<double>(i) / o.grid;
    auto shr_min = min_val * p;
    auto shr_max = max_val * p;
    auto qp = calculate_qparams(shr_min, shr_max, args);
    auto q = fake_quantize(observed, qp.scale.unsqueeze(-1), qp.zero_point.unsqueeze(-1),
                           token_args)
                 .to(observed.scalar_type());
    auto err = at::sum((q - observed).abs().pow(o.norm), at::IntArrayRef{0, -1});
    auto improved = err < best_error;
    if (improved.any().item<bool>()) {
      best_error = at::where(improved, err, best_error);
      best_min = at::where(improved, shr_min, best_min);
      best_max = at::where(improved, shr_max, best_max);
      no_improve = 0;
    } else if (++no_improve >= o.patience) {
      break;
    }
  }
  return {best_min, best_max};
}

Result<Observer> Observer::create(const QuantArgs& args, Role role) {
  QB_TRY(check_quant_args(args));  // int, or fp8 (fp8.h): calculate_qparams dispatches on type
  auto kind = effective_observer(args, role);
  if (!kind) return invalid_argument("observer: dynamic activations have no observer");
  if (role == Role::kInputActivation &&
      (args.strategy == Strategy::kChannel || args.strategy == Strategy::kGroup ||
       args.strategy == Strategy::kToken))
    return invalid_argument(std::string("observer: static input activations support only the "
                                        "tensor strategy, got ") +
                            strategy_name(args.strategy));
  return Observer(args, role, *kind);
}

void Observer::observe(const at::Tensor& x) {
  if (x.numel() == 0) return;
  if (role_ == Role::kWeight && has_statistics()) return;  // base.py: weights observed once
  at::Tensor mn, mx;
  if (kind_ == ObserverKind::kMemorylessMse || kind_ == ObserverKind::kMse) {
    std::tie(mn, mx) = mse_search(x, args_, role_);
  } else {
    std::tie(mn, mx) = reduce_min_max(x, args_, role_);
  }
  switch (kind_) {
    case ObserverKind::kMemorylessMinMax:
    case ObserverKind::kMemorylessMse:
      break;
    case ObserverKind::kStaticMinMax:
      if (has_statistics()) {
        mn = at::minimum(mn, min_vals_);
        mx = at::maximum(mx, max_vals_);
      }
      break;
    case ObserverKind::kMinMax:
    case ObserverKind::kMse: {
      const double c = args_.observer_options.averaging_constant;
      if (has_statistics() && c != 1.0) {
        mn = lerp(min_vals_, mn, c);
        mx = lerp(max_vals_, mx, c);
      }
      break;
    }
  }
  min_vals_ = mn;
  max_vals_ = mx;
  ++num_batches_;
}

Result<QParams> Observer::qparams() const {
  if (!has_statistics())
    return not_found("observer has no statistics (no calibration batch reached it)");
  return calculate_qparams(min_vals_, max_vals_, args_);
}

}  // namespace qb::qmath
