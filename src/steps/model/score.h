// Log-probabilities of continuations on token ids: lm-eval's log-likelihood requests (multiple
// choice, with its max_length truncation), the rolling windows of perplexity documents (with
// per-token top-k and comparison ids for fidelity). Multiple choice with a shared context (one
// prefill per context) is score_continuations_shared (shared_context_scoring.h). Inputs
// are host id lists, checked here (non-empty, ids in [0, V)). These functions may throw
// c10::Error only for device failures (out of memory). Kept apart from generate.h's decoding.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "steps/model/model.h"
#include "util/status.h"

namespace qb::model {

struct ScoreRequest {
  std::vector<int64_t> context;       // non-empty
  std::vector<int64_t> continuation;  // non-empty
};

struct ContinuationScore {
  double logprob = 0;                 // Σ token_logprobs
  std::vector<double> token_logprobs; // log p(continuation[i] | context, continuation[:i])
  bool greedy = false;                // every continuation token is the argmax
  // With ScoreOptions (K = continuation length, k = top_k / compare width), on the CPU:
  at::Tensor argmax;            // [K] int64: the most likely token at each position
  at::Tensor top_ids;           // [K, k] int64 (top_k > 0): the k most likely tokens, descending
  at::Tensor top_logprobs;      // [K, k] fp32: their log-probabilities
  at::Tensor compare_logprobs;  // [K, k] fp32 (compare_ids): the log-probabilities of those ids
};

struct ScoreOptions {
  // lm-eval's truncation: the model sees (context + continuation)[-(max_length + 1):][:-1];
  // 0 = the whole sequence (minus its last token, whose prediction is never needed).
  int64_t max_length = 0;
  int64_t top_k = 0;
  // Per request, [K_b, k] int64 token ids whose log-probabilities to return (fidelity against
  // another model's top-k); empty = none.
  std::vector<at::Tensor> compare_ids;
  // The vocabulary projection and log-softmax run over at most this many positions at a time,
  // which bounds the [positions, V] fp32 logits (long rolling windows).
  int64_t position_chunk = 1024;
};

// One batched forward over all requests (context + continuation, left-padded); log-softmax in
// fp32 at the continuation positions only.
Result<std::vector<ContinuationScore>> score_continuations(const Model& model,
                                                           const std::vector<ScoreRequest>& reqs,
                                                           const ScoreOptions& options = {});

// The multiple-choice form: one prompt, several continuations (" A", " B", ...).
Result<std::vector<ContinuationScore>> logprobs_of_continuations(
    const Model& model, const std::vector<int64_t>& prompt,
    const std::vector<std::vector<int64_t>>& continuations);

}  // namespace qb::model
