// Grouped-query attention over an additive mask, two implementations that tests compare:
//   kSdpa       at::scaled_dot_product_attention. One query token (decode): the G query heads
//               that share a KV head are folded into the query-length axis, so no KV copy and
//               no enable_gqa support is needed; several tokens (prefill): enable_gqa.
//   kReference  the plain formula as transformers' eager path computes it: repeat_kv,
//               softmax(q kᵀ · D^-1/2 + mask) in fp32 cast back, times v.
// Legend: B batch, H query heads, KVH key/value heads, G = H / KVH, T query tokens, S key slots,
// D head_dim.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace qb::model {

enum class AttentionImpl { kSdpa, kReference };

// q [B, H, T, D], k/v [B, KVH, S, D], mask [B, 1, T, S] additive (0 or -inf) in q's dtype, with
// at least one 0 per row. Returns [B, H, T, D]. May throw c10::Error.
at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const at::Tensor& mask, AttentionImpl impl);

// Additive mask for T new tokens written at cache slots [offset, offset + T) over key slots
// [0, S), S >= offset + T: slot j is visible to the query at slot i when key_valid[b, j] and
// j <= i; a query always sees its own slot (so a padding query's row is never empty; its output
// is unused). key_valid [B, >= S] bool. Returns [B, 1, T, S] in `dtype`. May throw c10::Error.
at::Tensor attention_mask(const at::Tensor& key_valid, int64_t offset, int64_t t, int64_t s,
                          at::ScalarType dtype);

}  // namespace qb::model
