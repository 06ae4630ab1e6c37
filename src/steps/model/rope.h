// Rotary position embedding, in transformers' "rotate_half" convention (the two halves of each
// head are the pairs, not interleaved even/odd elements):
//   inv_freq[i] = 1 / theta^(2i / D), i < D/2       ("llama3" then rescales the bands)
//   angle[p, j] = p * inv_freq[j mod D/2]           (emb = cat(freqs, freqs))
//   rope(x) = x * cos + rotate_half(x) * sin,  rotate_half([a, b]) = [-b, a]
// cos/sin are computed in fp32 and cast to the compute dtype, as transformers does. The sign of
// rotate_half is folded into the sin table (sin_signed = [-sin, sin] over the two halves):
// (-b)·s and b·(-s) are the same IEEE product, so the result is bit-identical.
#pragma once

#include <ATen/ATen.h>

#include "steps/model/model_config.h"

namespace qb::model {

// [D/2] fp32 on `device`, bit-for-bit the same arithmetic as transformers' rope init functions.
at::Tensor rope_inv_freq(const ModelConfig& config, at::Device device);

struct RopeTables {
  at::Tensor cos;         // [B, T, 1, D] compute dtype (broadcast over heads)
  at::Tensor sin_signed;  // [B, T, 1, D] compute dtype: [-sin, sin] by halves
};

// positions [B, T] int64 -> tables. May throw c10::Error.
RopeTables rope_tables(const at::Tensor& inv_freq, const at::Tensor& positions,
                       at::ScalarType dtype);

// x [B, T, heads, D] -> same shape. May throw c10::Error.
at::Tensor apply_rope(const at::Tensor& x, const RopeTables& rope);

}  // namespace qb::model
