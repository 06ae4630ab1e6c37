// The automatic check after a transform: the source and the transformed model, both in fp32 on
// the step's device, run the same fixed prompts (unbatched, no padding, no cache); their logits
// are compared in float64.
//
// Metrics (positions = every token of every prompt):
//   max_rel_error       max over prompts of ‖Δ‖_F / ‖logits_source‖_F   (what the check tests)
//   max_abs_logit_diff  max |Δ| over all positions and vocabulary entries
//   mean_kl             mean over positions of KL(p_source ‖ p_transformed), nats
//   top1_agreement      fraction of positions whose argmax agrees
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "steps/model/model.h"
#include "util/status.h"

namespace qb::transforms {

struct EquivalenceMetrics {
  double max_rel_error = 0;
  double max_abs_logit_diff = 0;
  double mean_kl = 0;
  double top1_agreement = 1;
  int64_t num_prompts = 0;
  int64_t num_tokens = 0;
  nlohmann::json to_json() const;
  std::string summary() const;  // "max relative logit error 3.1e-06, max |Δlogit| …"
};

// The default prompts when a check is given none: 4 sequences of 16, 24, 32 and 48 token ids
// drawn from SplitMix64(0x5EED) modulo vocab_size (fixed, so results are reproducible).
std::vector<std::vector<int64_t>> default_prompt_ids(int64_t vocab_size);

// Logits [T, V] (fp32, CPU) of each prompt. Errors: an empty prompt, an id outside
// [0, vocab_size); forward-pass exceptions (c10::Error) become kInternal statuses.
Result<std::vector<at::Tensor>> prompt_logits(const model::Model& m,
                                              const std::vector<std::vector<int64_t>>& prompts);

// Compares per-prompt logits (same shapes). Errors: mismatching counts or shapes.
Result<EquivalenceMetrics> compare_logits(const std::vector<at::Tensor>& reference,
                                          const std::vector<at::Tensor>& candidate);

}  // namespace qb::transforms
