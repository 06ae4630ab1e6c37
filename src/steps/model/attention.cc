#include "steps/model/attention.h"

#include <cmath>
#include <limits>

namespace qb::model {

namespace {

at::Tensor attention_reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const at::Tensor& mask) {
  const int64_t groups = q.size(1) / k.size(1);
  const at::Tensor kr = k.repeat_interleave(groups, 1);                          // [B, H, S, D]
  const at::Tensor vr = v.repeat_interleave(groups, 1);                          // [B, H, S, D]
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  const at::Tensor scores = at::matmul(q, kr.transpose(2, 3)) * scale + mask;    // [B, H, T, S]
  const at::Tensor probs = at::softmax(scores, -1, at::kFloat).to(q.scalar_type());
  return at::matmul(probs, vr);                                                  // [B, H, T, D]
}

at::Tensor attention_sdpa(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          const at::Tensor& mask) {
  const int64_t b = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3);
  const int64_t kvh = k.size(1);
  if (t == 1 && h != kvh) {
    // Decode: [B, H, 1, D] -> [B, KVH, G, D]; heads kvh*G .. kvh*G+G-1 share KV head kvh, exactly
    // repeat_kv's grouping. The mask row [B, 1, 1, S] broadcasts over the G "tokens".
    const at::Tensor qg = q.reshape({b, kvh, h / kvh, d});
    const at::Tensor out = at::scaled_dot_product_attention(qg, k, v, mask);     // [B, KVH, G, D]
    return out.reshape({b, h, 1, d});
  }
  return at::scaled_dot_product_attention(q, k, v, mask, 0.0, false, std::nullopt,
                                          /*enable_gqa=*/h != kvh);               // [B, H, T, D]
}

}  // namespace

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const at::Tensor& mask, AttentionImpl impl) {
  return impl == AttentionImpl::kSdpa ? attention_sdpa(q, k, v, mask)
                                      : attention_reference(q, k, v, mask);
}

at::Tensor attention_mask(const at::Tensor& key_valid, int64_t offset, int64_t t, int64_t s,
                          at::ScalarType dtype) {
  const auto dev = key_valid.device();
  const auto i64 = at::TensorOptions().dtype(at::kLong).device(dev);
  const at::Tensor query_slot = at::arange(offset, offset + t, i64).unsqueeze(1);        // [T, 1]
  const at::Tensor key_slot = at::arange(0, s, i64).unsqueeze(0);               // [1, S]
  const at::Tensor causal = key_slot <= query_slot;                             // [T, S]
  const at::Tensor self = key_slot == query_slot;                               // [T, S]
  const at::Tensor valid = key_valid.narrow(1, 0, s).unsqueeze(1).unsqueeze(1); // [B, 1, 1, S]
  const at::Tensor allowed = valid.logical_and(causal).logical_or(self);        // [B, 1, T, S]
  const at::Tensor zero = at::zeros({}, at::TensorOptions().dtype(dtype).device(dev));
  const at::Tensor neg_inf =
      at::full({}, -std::numeric_limits<double>::infinity(), zero.options());
  return at::where(allowed, zero, neg_inf);
}

}  // namespace qb::model
