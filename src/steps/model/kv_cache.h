// KvCache: preallocated keys and values for every layer, [B, KVH, T_max, D] each, plus the
// per-slot validity and per-row position counters that make left-padded batches work.
//
// Slots are columns of the padded batch, shared by all rows: a forward of T tokens writes slots
// [length, length + T) of every row, then length += T. A padding token's slot is marked invalid
// and never attended to; a row's positions count only its valid tokens, so a left-padded prompt
// gets positions 0, 1, ... from its first real token, as transformers' generate does.
// Nothing is reallocated after create(): decoding writes into the buffers in place.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "steps/model/model_config.h"
#include "util/status.h"

namespace qb::model {

class KvCache {
 public:
  // Allocates L x 2 x [batch, KVH, max_len, D] in `dtype` on `device` (zeros). May throw
  // c10::Error (out of memory).
  static KvCache create(const ModelConfig& config, int64_t batch, int64_t max_len,
                        at::ScalarType dtype, at::Device device);

  int64_t batch() const { return batch_; }
  int64_t max_len() const { return max_len_; }
  int64_t length() const { return length_; }  // slots filled so far
  int64_t remaining() const { return max_len_ - length_; }

  // Records T new slots: valid [B, T] bool. Returns their positions [B, T] int64 (each row's
  // running count of valid tokens; padding slots get the row's next position, unused). Does not
  // advance length() — advance() does, after every layer has written. May throw c10::Error.
  at::Tensor begin_step(const at::Tensor& valid);
  void advance(int64_t t) { length_ += t; }

  // Writes k/v [B, KVH, T, D] into slots [length(), length() + T) of `layer`, returns views of
  // the keys and values of slots [0, attended_slots(T)). May throw c10::Error.
  std::pair<at::Tensor, at::Tensor> append(int64_t layer, const at::Tensor& k,
                                           const at::Tensor& v);

  const at::Tensor& key_valid() const { return key_valid_; }  // [B, T_max] bool

  // Static shapes: attention always spans all T_max slots (unused ones masked), so a decode
  // step has the same shapes every time (CUDA-graph capture); otherwise it spans the slots
  // written so far, which is cheaper.
  void set_static_shapes(bool on) { static_shapes_ = on; }
  bool static_shapes() const { return static_shapes_; }
  // Key slots a forward of T new tokens attends over: T_max, or length() + T.
  int64_t attended_slots(int64_t t) const { return static_shapes_ ? max_len_ : length_ + t; }
  // Forgets everything (length 0, no valid slots); buffers are kept.
  void reset();

 private:
  int64_t batch_ = 0, max_len_ = 0, length_ = 0;
  bool static_shapes_ = false;
  std::vector<at::Tensor> keys_, values_;  // per layer [B, KVH, T_max, D]
  at::Tensor key_valid_;                   // [B, T_max] bool
  at::Tensor next_position_;               // [B] int64
};

}  // namespace qb::model
