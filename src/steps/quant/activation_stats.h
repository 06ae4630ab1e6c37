// Statistics of one Linear's calibration inputs for the quantize report: the exact absmax and
// percentiles of |x| estimated from a uniform random sample of at most kMaxSample values
// (drawn per batch with a seeded generator, so reports are reproducible).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

#include <nlohmann/json.hpp>

namespace qb::quant {

class ActivationStats {
 public:
  static constexpr std::int64_t kMaxSample = 1 << 20;
  static constexpr std::int64_t kPerBatch = 1 << 16;
  explicit ActivationStats(std::uint64_t seed) : seed_(seed) {}
  // x: [..., in], any floating dtype and device. May throw c10::Error.
  void add(const at::Tensor& x);
  // {"absmax", "p50", "p99", "p99_9", "p99_99", "tokens", "sampled"}; {} when nothing was added.
  nlohmann::json to_json() const;

 private:
  std::uint64_t seed_;
  at::Tensor absmax_;  // 0-dim float64 on the inputs' device
  std::int64_t tokens_ = 0, batches_ = 0, sampled_ = 0;
  at::Tensor sample_;  // fp32 [sampled_] of |x|, on the inputs' device (percentiles sort there)
};

}  // namespace qb::quant
