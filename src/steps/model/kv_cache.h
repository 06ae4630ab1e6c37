// KvCache: preallocated keys and values for every layer, [B, KVH, T_max, D] each, plus the
// per-slot validity and per-row position counters that make left-padded batches work.
//
// Each row has its own next slot (slot()[b], mirrored on the host by row_length(b)). In the
// column layout (the default) all rows move together: a forward of T tokens writes slots
// [length, length + T) of every row, then length += T. A padding token's slot is marked invalid
// and never attended to; a row's positions count only its valid tokens, so a left-padded prompt
// gets positions 0, 1, ... from its first real token, as transformers' generate does.
// Nothing is reallocated after create(): decoding writes into the buffers in place.
//
// Per-row slots (set_row_slots, continuous batching): rows drift apart. copy_rows() puts
// sequences prefilled in another cache into chosen rows (their later slots invalidated) while
// the other rows keep their state, and a one-token step writes row b's token at slot()[b]. A
// row that reaches the last slot keeps writing it (its outputs are then unused: the caller
// sized T_max for every sequence it decodes, and only finished, idle rows run that far). A
// forward of several tokens still needs every row at the same slot (aligned()).
//
// Static shapes (set_static_shapes): attention spans all T_max slots, the unused ones masked,
// and a one-token step finds its slots in a device tensor rather than in host state, so a decode
// step issues the same kernels with the same arguments every time and can be captured in a CUDA
// graph. Otherwise attention spans only the slots written so far (up to the longest row), which
// is cheaper.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <utility>
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
  int64_t length() const { return length_; }  // slots filled so far (the longest row's)
  int64_t row_length(int64_t b) const { return row_length_.at(b); }
  bool aligned() const;                       // every row at the same slot
  int64_t remaining() const { return max_len_ - length_; }

  void set_static_shapes(bool on) { static_shapes_ = on; }
  bool static_shapes() const { return static_shapes_; }
  // Per-row slots for one-token steps (see above); set before the first step.
  void set_row_slots(bool on) { row_slots_ = on; }
  bool row_slots() const { return row_slots_; }
  // Key slots a forward of T new tokens attends over: T_max, or length() + T.
  int64_t attended_slots(int64_t t) const { return static_shapes_ ? max_len_ : length_ + t; }

  // Records T new slots: valid [B, T] bool. Returns their positions [B, T] int64 (each row's
  // running count of valid tokens; padding slots get the row's next position, unused). Does not
  // advance length(): advance() does, after every layer has written. May throw c10::Error (also
  // for T > 1 on rows that are not aligned).
  at::Tensor begin_step(const at::Tensor& valid);
  // Writes k/v [B, KVH, T, D] into slots [length(), length() + T) of `layer` (one token: row b's
  // slot()[b]), returns views of the keys and values of slots [0, attended_slots(T)). May throw
  // c10::Error.
  std::pair<at::Tensor, at::Tensor> append(int64_t layer, const at::Tensor& k,
                                           const at::Tensor& v);
  // The step's T slots are written: every row's next slot moves by T (host and device).
  void advance(int64_t t);
  // A CUDA-graph replay ran one captured step: its device work (including the slot counters)
  // is done, only the host counts move.
  void count_replayed_step() { advance_host(1); }

  // Rows dst_rows[i] take over slots [0, src.length()) of src's rows src_rows[i] (keys, values,
  // validity) and their positions; their later slots become invalid and their next slot is
  // src.length(). `src` must be aligned, with the same layers, head shape, dtype and device and
  // at most max_len() slots. Errors: mismatched caches or rows out of range. May throw
  // c10::Error (device failures).
  Status copy_rows(const KvCache& src, const std::vector<int64_t>& src_rows,
                   const std::vector<int64_t>& dst_rows);

  const at::Tensor& key_valid() const { return key_valid_; }  // [B, T_max] bool
  // The buffers themselves, for kernels that write a step's keys and values in place (the fused
  // decode step): [B, KVH, T_max, D] each, and the device slot counters [B] int64 (row b's next
  // slot, == row_length(b)).
  const at::Tensor& keys(int64_t layer) const { return keys_.at(layer); }
  const at::Tensor& values(int64_t layer) const { return values_.at(layer); }
  const at::Tensor& slot() const { return slot_; }
  // Additive mask [B, 1, T, S] for the next T tokens (S = attended_slots(T)), in `dtype`.
  at::Tensor mask(int64_t t, at::ScalarType dtype) const;

  // Forgets everything (length 0, no valid slots); buffers are kept.
  void reset();

 private:
  // One-token steps with static shapes or per-row slots index their slots through slot_
  // (device) instead of length_.
  bool device_slot(int64_t t) const { return t == 1 && (static_shapes_ || row_slots_); }
  void advance_host(int64_t t);

  int64_t batch_ = 0, max_len_ = 0, length_ = 0;
  bool static_shapes_ = false, row_slots_ = false;
  std::vector<int64_t> row_length_;        // [B] host mirror of slot_
  std::vector<at::Tensor> keys_, values_;  // per layer [B, KVH, T_max, D]
  at::Tensor key_valid_;                   // [B, T_max] bool
  at::Tensor next_position_;               // [B] int64
  at::Tensor slot_;                        // [B] int64 on the device, == row_length_
};

}  // namespace qb::model
