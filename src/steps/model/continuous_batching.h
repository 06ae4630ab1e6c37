// Continuous batching: greedy generation of many prompts through a fixed pool of B rows over
// one KV cache with per-row slots (kv_cache.h). A row whose sequence emits a stop token or
// reaches its token budget is refilled with the next pending prompt, so the pool keeps decoding
// at full width instead of waiting, as a static batch does, for its longest member.
//
//   admission   prompts enter in an order that keeps those of one shared prefix together and,
//               within that, the longest first (an out-of-memory shows up at once).
//   refill      the prompts entering free rows are prefilled as batches of at most
//               prefill_tokens padded tokens in a temporary cache, whose rows are then copied
//               into the pool's (KvCache::copy_rows); decoding pauses meanwhile (the decode step
//               keeps its fixed shapes for CUDA-graph replay, so prefill tokens cannot ride along
//               in it). A prompt longer than prefill_tokens is prefilled alone, in one forward.
//   prefixes    with share_prefixes, prompts that share a prefix (shared_prefix.h) get its keys
//               and values from one prefill of it, kept until the last of them has entered;
//               only their suffixes are prefilled.
//   decode      rounds of up to stop_check_interval one-token steps of the whole pool (the
//               eager or the CUDA-graph DecodeStep), then one host sync reads the round's
//               tokens; a round never runs past the earliest budget end, so a row that reaches
//               its budget is refilled without a wasted step. Idle rows (nothing left to admit)
//               keep stepping, masked and unused.
//
// Each row computes exactly what generate_greedy() computes for its prompt (the same layers on
// the same keys and values); only the batch around it differs, so greedy tokens are the same up
// to the last bits of low-precision arithmetic — on the CPU fixtures they are identical
// (tests/model/continuous_batching_test.cc).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "steps/model/generate.h"
#include "steps/model/model.h"
#include "util/status.h"

namespace qb::model {

struct ContinuousOptions {
  int64_t slots = 32;                   // rows of the pool (B); fewer when there are fewer prompts
  std::vector<int64_t> max_new_tokens;  // per prompt (>= 1); empty: GenerateOptions' for all
  bool share_prefixes = true;
  int64_t min_shared_prefix = 16;       // tokens a prefix must have to be shared
  int64_t prefill_tokens = 16384;       // padded tokens per refill forward (at least one prompt)
  // Free rows wait until this many are free (or nothing else runs) before a refill, so that a
  // refill forward has enough rows to run efficiently; 0 = automatic (B / 16, at least 1).
  int64_t min_refill_rows = 0;
};

struct ContinuousStats {
  double prefill_seconds = 0;    // refill forwards (prefixes, prompts, copies into the pool)
  double decode_seconds = 0;     // decode rounds
  int64_t slots = 0;             // B
  int64_t decode_steps = 0;      // one-token steps of the pool
  int64_t used_row_steps = 0;    // row-steps that produced a kept token (or the stop token)
  int64_t steady_steps = 0;      // decode steps while prompts were still waiting to enter
  int64_t steady_used_row_steps = 0;
  int64_t prefill_forwards = 0;  // refill forwards (not counting prefix prefills)
  int64_t prefill_tokens = 0;    // padded tokens of the refill forwards
  int64_t prefixes = 0;          // shared prefixes prefilled
  int64_t shared_tokens = 0;     // prompt tokens taken from a shared prefix instead of prefilled
  // Fraction of the pool's row-steps that produced a kept token: overall, and while prompts
  // were waiting (the steady state, before the pool drains).
  double occupancy() const;
  double steady_occupancy() const;
};

struct FinishedGeneration {
  int64_t prompt = 0;  // index into the prompts
  Generation generation;
};

struct ContinuousCallbacks {
  // After each refill forward when GenerateOptions::prefill_logits is set or this is: the
  // prompts it admitted and their last-position logits [R, V] fp32 on the CPU.
  std::function<void(const std::vector<int64_t>& prompts, const at::Tensor& logits)> on_prefill;
  // After each decode round that finished prompts. An error stops the run and is returned.
  std::function<Status(const std::vector<FinishedGeneration>& finished)> on_finished;
};

// Greedy decoding of every prompt (results in prompt order). GenerateOptions: the stop tokens,
// stop_check_interval (0 = 1 on the CPU, 4 on a GPU), static_shapes, cuda_graph,
// prefill_logits ([N, V]) and forced_stop_steps as for generate_greedy(). Errors: as
// generate_greedy()'s, and bad ContinuousOptions. May throw c10::Error (device failures).
Result<std::vector<Generation>> generate_continuous(const Model& model,
                                                    const std::vector<std::vector<int64_t>>& prompts,
                                                    const GenerateOptions& options,
                                                    const ContinuousOptions& continuous,
                                                    const ContinuousCallbacks& callbacks = {},
                                                    ContinuousStats* stats = nullptr);

}  // namespace qb::model
