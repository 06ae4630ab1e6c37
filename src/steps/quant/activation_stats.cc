// Activation statistics for the quantize report (see activation_stats.h).
#include "steps/quant/activation_stats.h"

namespace qb::quant {

void ActivationStats::add(const at::Tensor& x) {
  if (x.numel() == 0) return;
  // |x|'s max from one min/max pass (no |x| copy), kept on x's device: no host sync per call,
  // so the calibration forwards stay queued.
  auto [lo, hi] = at::aminmax(x.detach());
  auto m = at::maximum(lo.neg(), hi).to(at::kDouble);
  absmax_ = absmax_.defined() ? at::maximum(absmax_, m) : m;
  tokens_ += x.numel() / x.size(-1);
  if (sampled_ >= kMaxSample) {
    ++batches_;
    return;
  }
  auto a = x.detach().reshape({-1});
  auto gen = at::detail::createCPUGenerator(seed_ + static_cast<std::uint64_t>(batches_++));
  const auto k = std::min<std::int64_t>({kPerBatch, a.numel(), kMaxSample - sampled_});
  auto idx = at::randint(a.numel(), {k}, gen, at::TensorOptions().dtype(at::kLong)).to(a.device());
  auto part = a.index_select(0, idx).abs().to(at::kFloat);  // stays on the device
  sample_ = sample_.defined() ? at::cat({sample_, part}) : part;
  sampled_ += k;
}

nlohmann::json ActivationStats::to_json() const {
  if (!sample_.defined()) return nlohmann::json::object();
  auto q = at::quantile(sample_, at::tensor({0.5, 0.99, 0.999, 0.9999}, at::kFloat)
                                      .to(sample_.device()))
               .cpu();
  return {{"absmax", absmax_.item<double>()},        {"p50", q[0].item<double>()},
          {"p99", q[1].item<double>()}, {"p99_9", q[2].item<double>()},
          {"p99_99", q[3].item<double>()}, {"tokens", tokens_},
          {"sampled", sampled_}};
}

}  // namespace qb::quant
