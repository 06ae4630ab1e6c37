// KvCache: preallocated keys and values for every layer, [B, KVH, T_max, D] each, plus the
// per-slot validity and per-row position counters that make left-padded batches work.
//
// Slots are columns of the padded batch, shared by all rows: a forward of T tokens writes slots
// [length, length + T) of every row, then length += T. A padding token's slot is marked invalid
// and never attended to; a row's positions count only its valid tokens, so a left-padded prompt
// gets positions 0, 1, ... from its first real token, as transformers' generate does.
// Nothing is reallocated after create(): decoding writes into the buffers in place.
//
// Static shapes (set_static_shapes): attention spans all T_max slots, the unused ones masked,
// and a one-token step finds its slot in a device tensor rather than in host state, so a decode
// step issues the same kernels with the same arguments every time and can be captured in a CUDA
// graph. Otherwise attention spans only the slots written so far, which is cheaper.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "steps/model/model_config.h"

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

  void set_static_shapes(bool on) { static_shapes_ = on; }
  bool static_shapes() const { return static_shapes_; }
  // Key slots a forward of T new tokens attends over: T_max, or length() + T.
  int64_t attended_slots(int64_t t) const { return static_shapes_ ? max_len_ : length_ + t; }

  // Records T new slots: valid [B, T] bool. Returns their positions [B, T] int64 (each row's
  // running count of valid tokens; padding slots get the row's next position, unused). Does not
  // advance length(): advance() does, after every layer has written. May throw c10::Error.
  at::Tensor begin_step(const at::Tensor& valid);
  // Writes k/v [B, KVH, T, D] into slots [length(), length() + T) of `layer`, returns views of
  // the keys and values of slots [0, attended_slots(T)). May throw c10::Error.
  std::pair<at::Tensor, at::Tensor> append(int64_t layer, const at::Tensor& k,
                                           const at::Tensor& v);
  // The step's T slots are written: length += T (host) and the device slot counter too.
  void advance(int64_t t);
  // A CUDA-graph replay ran one captured step: its device work (including the slot counter)
  // is done, only the host count moves.
  void count_replayed_step() { ++length_; }

  const at::Tensor& key_valid() const { return key_valid_; }  // [B, T_max] bool
  // The buffers themselves, for kernels that write a step's keys and values in place (the fused
  // decode step): [B, KVH, T_max, D] each, and the device slot counter [1] int64 (== length()).
  const at::Tensor& keys(int64_t layer) const { return keys_.at(layer); }
  const at::Tensor& values(int64_t layer) const { return values_.at(layer); }
  const at::Tensor& slot() const { return slot_; }
  // Additive mask [B, 1, T, S] for the next T tokens (S = attended_slots(T)), in `dtype`.
  at::Tensor mask(int64_t t, at::ScalarType dtype) const;

  // Forgets everything (length 0, no valid slots); buffers are kept.
  void reset();
  // A new cache whose row r is a copy of this cache's row rows[r] (rows: [R] int64 on the
  // device): a shared prefix computed once, then continued separately per row. May throw
  // c10::Error (out of memory).
  KvCache select_rows(const at::Tensor& rows) const;

 private:
  // One-token steps with static shapes index the slot through slot_ (device) instead of length_.
  bool device_slot(int64_t t) const { return static_shapes_ && t == 1; }

  int64_t batch_ = 0, max_len_ = 0, length_ = 0;
  bool static_shapes_ = false;
  std::vector<at::Tensor> keys_, values_;  // per layer [B, KVH, T_max, D]
  at::Tensor key_valid_;                   // [B, T_max] bool
  at::Tensor next_position_;               // [B] int64
  at::Tensor slot_;                        // [1] int64 on the device, == length_
};

}  // namespace qb::model
