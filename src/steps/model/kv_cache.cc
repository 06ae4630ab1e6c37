#include "steps/model/kv_cache.h"

#include <limits>

#include "steps/model/attention.h"

namespace qb::model {

KvCache KvCache::create(const ModelConfig& config, int64_t batch, int64_t max_len,
                        at::ScalarType dtype, at::Device device) {
  KvCache c;
  c.batch_ = batch;
  c.max_len_ = max_len;
  const auto opts = at::TensorOptions().dtype(dtype).device(device);
  for (int64_t i = 0; i < config.num_layers; ++i) {
    c.keys_.push_back(at::zeros({batch, config.num_kv_heads, max_len, config.head_dim}, opts));
    c.values_.push_back(at::zeros({batch, config.num_kv_heads, max_len, config.head_dim}, opts));
  }
  c.key_valid_ = at::zeros({batch, max_len}, opts.dtype(at::kBool));
  c.next_position_ = at::zeros({batch}, opts.dtype(at::kLong));
  c.slot_ = at::zeros({1}, opts.dtype(at::kLong));
  return c;
}

at::Tensor KvCache::begin_step(const at::Tensor& valid) {
  const int64_t t = valid.size(1);
  if (device_slot(t)) {
    key_valid_.index_copy_(1, slot_, valid);
  } else {
    key_valid_.narrow(1, length_, t).copy_(valid);
  }
  const at::Tensor counts = valid.to(at::kLong).cumsum(1);                  // [B, T]
  // A valid token's position is the number of valid tokens before it in its row.
  const at::Tensor positions = next_position_.unsqueeze(1) + counts - valid.to(at::kLong);
  next_position_.add_(counts.select(1, t - 1));
  return positions;                                                          // [B, T]
}

std::pair<at::Tensor, at::Tensor> KvCache::append(int64_t layer, const at::Tensor& k,
                                                  const at::Tensor& v) {
  const int64_t t = k.size(2);
  at::Tensor& keys = keys_[layer];
  at::Tensor& values = values_[layer];
  if (device_slot(t)) {
    keys.index_copy_(2, slot_, k);
    values.index_copy_(2, slot_, v);
  } else {
    keys.narrow(2, length_, t).copy_(k);
    values.narrow(2, length_, t).copy_(v);
  }
  const int64_t slots = attended_slots(t);
  return {keys.narrow(2, 0, slots), values.narrow(2, 0, slots)};  // [B, KVH, S, D]
}

void KvCache::advance(int64_t t) {
  length_ += t;
  slot_.add_(t);
}

at::Tensor KvCache::mask(int64_t t, at::ScalarType dtype) const {
  if (device_slot(t)) {
    // Slots after this one are not valid yet, so validity alone is the causal mask; this step's
    // own slot was marked by begin_step().
    const at::Tensor zero = at::zeros({}, key_valid_.options().dtype(dtype));
    const at::Tensor neg_inf =
        at::full({}, -std::numeric_limits<double>::infinity(), zero.options());
    return at::where(key_valid_.unsqueeze(1).unsqueeze(1), zero, neg_inf);  // [B, 1, 1, T_max]
  }
  return attention_mask(key_valid_, length_, t, attended_slots(t), dtype);
}

void KvCache::reset() {
  length_ = 0;
  key_valid_.zero_();
  next_position_.zero_();
  slot_.zero_();
}

// Copies every member, row-wise where it has rows: a member added to KvCache belongs here too.
KvCache KvCache::select_rows(const at::Tensor& rows) const {
  KvCache c;
  c.batch_ = rows.size(0);
  c.max_len_ = max_len_;
  c.length_ = length_;
  c.static_shapes_ = static_shapes_;
  for (size_t i = 0; i < keys_.size(); ++i) {
    c.keys_.push_back(keys_[i].index_select(0, rows));
    c.values_.push_back(values_[i].index_select(0, rows));
  }
  c.key_valid_ = key_valid_.index_select(0, rows);
  c.next_position_ = next_position_.index_select(0, rows);
  c.slot_ = slot_.clone();
  return c;
}

}  // namespace qb::model
