#include "steps/model/kv_cache.h"

#include <algorithm>
#include <limits>
#include <set>
#include <string>

#include "steps/model/attention.h"

namespace qb::model {

KvCache KvCache::create(const ModelConfig& config, int64_t batch, int64_t max_len,
                        at::ScalarType dtype, at::Device device) {
  KvCache c;
  c.batch_ = batch;
  c.max_len_ = max_len;
  c.row_length_.assign(static_cast<size_t>(batch), 0);
  const auto opts = at::TensorOptions().dtype(dtype).device(device);
  // Zeros, not empty: a masked slot still enters q·kᵀ (+ -inf) and p·v, so it must be finite.
  for (int64_t i = 0; i < config.num_layers; ++i) {
    c.keys_.push_back(at::zeros({batch, config.num_kv_heads, max_len, config.head_dim}, opts));
    c.values_.push_back(at::zeros({batch, config.num_kv_heads, max_len, config.head_dim}, opts));
  }
  c.key_valid_ = at::zeros({batch, max_len}, opts.dtype(at::kBool));
  c.next_position_ = at::zeros({batch}, opts.dtype(at::kLong));
  c.slot_ = at::zeros({batch}, opts.dtype(at::kLong));
  return c;
}

bool KvCache::aligned() const {
  return std::all_of(row_length_.begin(), row_length_.end(), [&](int64_t l) { return l == length_; });
}

at::Tensor KvCache::begin_step(const at::Tensor& valid) {
  const int64_t t = valid.size(1);
  if (device_slot(t)) {
    key_valid_.scatter_(1, slot_.unsqueeze(1), valid);
  } else {
    TORCH_CHECK(aligned(), "KV cache: a forward of ", t, " tokens needs every row at the same slot");
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
    // Row b's token goes to slot slot_[b].
    const at::Tensor at_slot = slot_.view({batch_, 1, 1, 1}).expand(k.sizes());  // [B, KVH, 1, D]
    keys.scatter_(2, at_slot, k);
    values.scatter_(2, at_slot, v);
  } else {
    keys.narrow(2, length_, t).copy_(k);
    values.narrow(2, length_, t).copy_(v);
  }
  const int64_t slots = attended_slots(t);
  return {keys.narrow(2, 0, slots), values.narrow(2, 0, slots)};  // [B, KVH, S, D]
}

void KvCache::advance_host(int64_t t) {
  const bool clamp = row_slots_ && t == 1;
  for (int64_t& l : row_length_) l = clamp ? std::min(l + 1, max_len_ - 1) : l + t;
  length_ = row_length_.empty() ? 0 : *std::max_element(row_length_.begin(), row_length_.end());
}

void KvCache::advance(int64_t t) {
  slot_.add_(t);
  if (row_slots_ && t == 1) slot_.clamp_max_(max_len_ - 1);  // idle rows park at the last slot
  advance_host(t);
}

Status KvCache::copy_rows(const KvCache& src, const std::vector<int64_t>& src_rows,
                          const std::vector<int64_t>& dst_rows) {
  if (src_rows.size() != dst_rows.size())
    return invalid_argument("KV cache copy: " + std::to_string(src_rows.size()) + " source rows for " +
                            std::to_string(dst_rows.size()) + " destination rows");
  if (src.keys_.size() != keys_.size() || src.keys_.empty() ||
      src.keys_[0].size(1) != keys_[0].size(1) || src.keys_[0].size(3) != keys_[0].size(3) ||
      src.keys_[0].scalar_type() != keys_[0].scalar_type() || src.keys_[0].device() != keys_[0].device())
    return invalid_argument("KV cache copy: the caches differ in layers, head shape, dtype or device");
  if (!src.aligned()) return invalid_argument("KV cache copy: the source rows are not at one slot");
  const int64_t len = src.length_;
  if (len > max_len_)
    return invalid_argument("KV cache copy: " + std::to_string(len) + " slots do not fit a cache of " +
                            std::to_string(max_len_));
  std::set<int64_t> seen;
  for (size_t i = 0; i < dst_rows.size(); ++i) {
    if (src_rows[i] < 0 || src_rows[i] >= src.batch_)
      return invalid_argument("KV cache copy: source row " + std::to_string(src_rows[i]) + " is out of range");
    if (dst_rows[i] < 0 || dst_rows[i] >= batch_ || !seen.insert(dst_rows[i]).second)
      return invalid_argument("KV cache copy: destination row " + std::to_string(dst_rows[i]) +
                              " is out of range or given twice");
  }
  if (dst_rows.empty()) return Status::ok();
  const at::Tensor si = at::tensor(src_rows, at::kLong).to(slot_.device());
  const at::Tensor di = at::tensor(dst_rows, at::kLong).to(slot_.device());
  for (size_t l = 0; l < keys_.size() && len > 0; ++l) {
    keys_[l].narrow(2, 0, len).index_copy_(0, di, src.keys_[l].narrow(2, 0, len).index_select(0, si));
    values_[l].narrow(2, 0, len).index_copy_(0, di, src.values_[l].narrow(2, 0, len).index_select(0, si));
  }
  key_valid_.index_fill_(0, di, false);
  if (len > 0) key_valid_.narrow(1, 0, len).index_copy_(0, di, src.key_valid_.narrow(1, 0, len).index_select(0, si));
  next_position_.index_copy_(0, di, src.next_position_.index_select(0, si));
  slot_.index_fill_(0, di, len);
  for (int64_t d : dst_rows) row_length_[static_cast<size_t>(d)] = len;
  length_ = *std::max_element(row_length_.begin(), row_length_.end());
  return Status::ok();
}

at::Tensor KvCache::mask(int64_t t, at::ScalarType dtype) const {
  if (device_slot(t)) {
    // Slots after each row's own are not valid yet, so validity alone is the causal mask; this
    // step's own slots were marked by begin_step().
    const at::Tensor valid = key_valid_.narrow(1, 0, attended_slots(1));
    const at::Tensor zero = at::zeros({}, key_valid_.options().dtype(dtype));
    const at::Tensor neg_inf =
        at::full({}, -std::numeric_limits<double>::infinity(), zero.options());
    return at::where(valid.unsqueeze(1).unsqueeze(1), zero, neg_inf);  // [B, 1, 1, S]
  }
  return attention_mask(key_valid_, length_, t, attended_slots(t), dtype);
}

void KvCache::reset() {
  length_ = 0;
  std::fill(row_length_.begin(), row_length_.end(), 0);
  key_valid_.zero_();
  next_position_.zero_();
  slot_.zero_();
}

}  // namespace qb::model
