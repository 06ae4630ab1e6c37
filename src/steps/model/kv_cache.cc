#include "steps/model/kv_cache.h"

#include <limits>

#include "steps/model/attention.h"
#include "steps/qmath/fp8.h"

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
  c.dtype_ = dtype;
  return c;
}

KvCache KvCache::create_fp8(const ModelConfig& config, int64_t batch, int64_t max_len,
                            at::ScalarType dtype, at::Device device,
                            const std::vector<std::pair<at::Tensor, at::Tensor>>& scales) {
  TORCH_CHECK(static_cast<int64_t>(scales.size()) == config.num_layers,
              "KvCache: fp8 scales for ", scales.size(), " of ", config.num_layers, " layers");
  KvCache c = create(config, batch, max_len, at::kFloat8_e4m3fn, device);
  c.dtype_ = dtype;
  for (const auto& [k, v] : scales)
    c.scales_.emplace_back(k.to(device, at::kFloat), v.to(device, at::kFloat));
  return c;
}

at::Tensor KvCache::k_scale(int64_t layer) const {
  return fp8() ? scales_.at(layer).first.reshape({-1}) : at::Tensor();
}

at::Tensor KvCache::v_scale(int64_t layer) const {
  return fp8() ? scales_.at(layer).second.reshape({-1}) : at::Tensor();
}

int64_t KvCache::bytes() const {
  int64_t n = 0;
  for (const auto* buffers : {&keys_, &values_})
    for (const at::Tensor& t : *buffers) n += t.numel() * static_cast<int64_t>(t.element_size());
  return n;
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
  if (fp8()) {
    const auto& [ks, vs] = scales_[layer];
    // Written through byte views: copies of e4m3 codes, whatever kernels float8 dispatches to.
    const at::Tensor kq = qmath::round_to_fp8(k.to(at::kFloat) / ks).view(at::kByte);
    const at::Tensor vq = qmath::round_to_fp8(v.to(at::kFloat) / vs).view(at::kByte);
    at::Tensor kb = keys.view(at::kByte), vb = values.view(at::kByte);
    if (device_slot(t)) {
      kb.index_copy_(2, slot_, kq);
      vb.index_copy_(2, slot_, vq);
    } else {
      kb.narrow(2, length_, t).copy_(kq);
      vb.narrow(2, length_, t).copy_(vq);
    }
    const int64_t slots = attended_slots(t);
    auto dequant = [&](const at::Tensor& q, const at::Tensor& s) {
      return (q.narrow(2, 0, slots).to(at::kFloat) * s).to(dtype_);  // [B, KVH, S, D]
    };
    return {dequant(keys, ks), dequant(values, vs)};
  }
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

}  // namespace qb::model
