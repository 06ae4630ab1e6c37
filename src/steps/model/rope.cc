#include "steps/model/rope.h"

#include <cmath>

namespace qb::model {

at::Tensor rope_inv_freq(const ModelConfig& config, at::Device device) {
  const int64_t dim = config.head_dim;
  const auto f32 = at::TensorOptions().dtype(at::kFloat).device(device);
  // 1 / base ** (arange(0, dim, 2).float() / dim), in fp32 like the reference.
  const at::Tensor exponent = at::arange(0, dim, 2, f32.dtype(at::kLong)).to(at::kFloat) /
                              static_cast<double>(dim);                             // [D/2]
  // Python's `scalar / tensor` is tensor.reciprocal() * scalar; mirrored for identical rounding.
  at::Tensor inv_freq = at::pow(config.rope.theta, exponent).reciprocal();          // [D/2]
  if (config.rope.type != "llama3") return inv_freq;

  // Llama 3.1 band rescaling (transformers' _compute_llama3_parameters): long wavelengths are
  // divided by `factor`, short ones kept, the band in between interpolated.
  const RopeConfig& r = config.rope;
  const double old_ctx = static_cast<double>(r.original_max_position_embeddings);
  const double low_freq_wavelen = old_ctx / r.low_freq_factor;
  const double high_freq_wavelen = old_ctx / r.high_freq_factor;
  const at::Tensor wavelen = inv_freq.reciprocal() * (2 * M_PI);                    // [D/2]
  at::Tensor scaled = at::where(wavelen > low_freq_wavelen, inv_freq / r.factor, inv_freq);
  const at::Tensor smooth =
      (wavelen.reciprocal() * old_ctx - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
  const at::Tensor smoothed = (1 - smooth) * scaled / r.factor + smooth * scaled;
  const at::Tensor medium = (wavelen >= high_freq_wavelen).logical_and(wavelen <= low_freq_wavelen);
  return at::where(medium, smoothed, scaled);
}

RopeTables rope_tables(const at::Tensor& inv_freq, const at::Tensor& positions,
                       at::ScalarType dtype) {
  // A [D/2] x [1] outer product is one multiply per element, identical to the reference matmul.
  const at::Tensor freqs = positions.to(at::kFloat).unsqueeze(-1) * inv_freq;  // [B, T, D/2]
  const at::Tensor emb = at::cat({freqs, freqs}, -1).unsqueeze(2);             // [B, T, 1, D]
  const at::Tensor sin = emb.sin().to(dtype);
  const int64_t half = sin.size(-1) / 2;
  return {emb.cos().to(dtype), at::cat({-sin.narrow(-1, 0, half), sin.narrow(-1, half, half)}, -1)};
}

at::Tensor apply_rope(const at::Tensor& x, const RopeTables& rope) {
  const int64_t half = x.size(-1) / 2;
  const at::Tensor swapped = at::cat({x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * rope.cos + swapped * rope.sin_signed;                  // [B, T, h, D]
}

}  // namespace qb::model
