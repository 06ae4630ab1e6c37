// SmoothQuant and AWQ arithmetic (see smoothing_math.h). Each line mirrors one line of
// llm-compressor 0.14.0.1; the comments name it.
#include "steps/quant/smoothing_math.h"

#include "steps/qmath/observer.h"
#include "steps/qmath/qparams.h"

namespace qb::quant {

at::Tensor smoothquant_scales(const at::Tensor& act_min, const at::Tensor& act_max,
                              const std::vector<at::Tensor>& balance_weights, double alpha) {
  // _apply_smoothing: activation_scales = max_channel_vals - min_channel_vals
  const at::Tensor activation_scales = act_max - act_min;
  // _calculate_smoothing_scales
  std::vector<at::Tensor> ws;
  for (const auto& w : balance_weights) ws.push_back(std::get<0>(w.abs().max(0, /*keepdim=*/true)));
  const at::Tensor weight_scales = 2.0 * std::get<0>(at::cat(ws, 0).max(0));
  at::Tensor scales = activation_scales.pow(alpha) / weight_scales.pow(1 - alpha);
  scales = at::where(weight_scales > 0.0, scales, activation_scales);
  // torch.maximum(scales, torch.Tensor([MINIMUM_SMOOTHING_SCALE]).to(scales.device))
  const at::Tensor floor = at::full({1}, 1e-5, at::TensorOptions().dtype(at::kFloat)).to(scales.device());
  return at::maximum(scales, floor);
}

at::Tensor scale_columns(const at::Tensor& w, const at::Tensor& s) {
  // module.weight * scales.view(1, -1), written back into the parameter
  return (w * s.view({1, -1})).to(w.scalar_type());
}

at::Tensor divide_outputs(const at::Tensor& w, const at::Tensor& s) {
  // norm: weight / scales (weight.div_(scales)); Linear: weight[-n:].div_(scales.view(-1, 1));
  // bias: bias.div_(scales). In-place division computes in the promoted dtype and casts back,
  // as this does.
  const std::int64_t n = s.size(0);
  at::Tensor out = w.clone();
  at::Tensor tail = out.narrow(0, w.size(0) - n, n);
  tail.copy_(w.dim() == 1 ? (tail / s).to(w.scalar_type()) : (tail / s.view({-1, 1})).to(w.scalar_type()));
  return out;
}

at::Tensor awq_weight_mean(const std::vector<at::Tensor>& weights, const std::vector<spec::QuantArgs>& args) {
  // _compute_layer_means
  at::Tensor total_sum;
  std::int64_t total_count = 0;
  for (std::size_t k = 0; k < weights.size(); ++k) {
    at::Tensor weight = weights[k].clone();
    const auto orig_shape = weight.sizes().vec();
    std::int64_t chunk = 0;
    switch (args[k].strategy) {
      case spec::Strategy::kTensor: chunk = weight.numel(); break;
      case spec::Strategy::kChannel: chunk = weight.size(1); break;
      default: chunk = args[k].group_size; break;
    }
    weight = weight.reshape({-1, chunk});
    weight.abs_();
    weight.div_(weight.amax(1, /*keepdim=*/true) + 1e-6);
    weight = weight.reshape(orig_shape);
    total_count += weight.size(0);
    const at::Tensor sum = weight.sum(0, /*keepdim=*/false, at::kDouble);
    total_sum = total_sum.defined() ? total_sum + sum : sum;
  }
  return total_sum / static_cast<double>(total_count);
}

at::Tensor awq_scales(const at::Tensor& x_mean, const at::Tensor& w_mean, double ratio, bool duo) {
  // _compute_best_scale
  at::Tensor scales;
  if (duo) scales = (x_mean.pow(ratio) / (w_mean.pow(1 - ratio) + 1e-4)).clamp_min(1e-4);
  else scales = x_mean.pow(ratio).clamp_min(1e-4).view({-1});
  scales = scales / (scales.max() * scales.min()).sqrt();
  scales.masked_fill_(at::isinf(scales), 1);
  scales.masked_fill_(at::isnan(scales), 1);
  return scales;
}

Result<at::Tensor> awq_candidate(const at::Tensor& w, const at::Tensor& scales, const spec::QuantArgs& args) {
  const at::Tensor sv = scales.view({1, -1}).to(w.device());
  // balance_layer.weight.data.copy_(orig * _scalesview)
  const at::Tensor ws = (w * sv).to(w.scalar_type());
  // observe(..., "weight") with the memoryless min-max observer, then forward_quantize
  spec::QuantArgs a = args;
  a.observer = spec::ObserverKind::kMemorylessMinMax;
  QB_ASSIGN_OR_RETURN(qmath::Observer obs, qmath::Observer::create(a, spec::Role::kWeight));
  obs.observe(ws);
  QB_ASSIGN_OR_RETURN(qmath::QParams qp, obs.qparams());
  const at::Tensor fq = qmath::fake_quantize(ws, qp.scale, qp.zero_point, a);
  // (forward_quantize(...) / _scalesview).to(balance_layer.weight.dtype)
  return (fq / sv).to(w.scalar_type());
}

}  // namespace qb::quant
