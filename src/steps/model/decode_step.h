// DecodeStep: one greedy decoding step over a KV cache, tokens [B] -> next tokens [B] (argmax of
// the logits that follow them), appending the tokens' keys and values to the cache.
//
//   eager       Model::forward_hidden + lm_head + argmax, op by op.
//   cuda-graph  the eager step captured once in a CUDA graph and replayed: one launch per step
//               instead of ~50 per layer, which is what batch-1 decoding on a GPU is bound by.
//               Needs a CUDA model, a cache with static shapes, and a libtorch with CUDA.
#pragma once

#include <ATen/ATen.h>

#include <memory>

#include "steps/model/kv_cache.h"
#include "steps/model/model.h"
#include "util/status.h"

namespace qb::model {

class DecodeStep {
 public:
  virtual ~DecodeStep() = default;
  // tokens [B] int64 on the model's device -> next tokens [B] int64, valid until the next call.
  // May throw c10::Error.
  virtual at::Tensor step(const at::Tensor& tokens) = 0;
};

// Both keep references to `model` and `cache`, which must outlive them.
std::unique_ptr<DecodeStep> eager_decode_step(const Model& model, KvCache& cache);
// Errors: unavailable when this build's libtorch has no CUDA; invalid_argument when the model
// is not on a CUDA device or the cache does not have static shapes.
Result<std::unique_ptr<DecodeStep>> cuda_graph_decode_step(const Model& model, KvCache& cache);

}  // namespace qb::model
