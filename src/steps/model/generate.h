// Batched inference on token ids: greedy generation with a KV cache, log-probabilities of
// continuations (multiple-choice scoring), last-position logits. Inputs are host id lists,
// checked here (non-empty, ids in [0, V)), left-padded into one batch and run on the model's
// device. These functions may throw c10::Error only for device failures (out of memory).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "steps/model/model.h"
#include "steps/model/score.h"  // continuation scoring (multiple choice, perplexity)
#include "util/status.h"

namespace qb::model {

// A left-padded batch: row b holds its ids right-aligned.
struct PaddedBatch {
  at::Tensor ids;    // [B, T] int64, padding = pad_id
  at::Tensor valid;  // [B, T] bool, false on padding
};
// Errors: an empty batch, an empty sequence, an id outside [0, vocab_size).
Result<PaddedBatch> left_pad(const std::vector<std::vector<int64_t>>& seqs, int64_t vocab_size,
                             at::Device device, int64_t pad_id = 0);

struct GenerateOptions {
  int64_t max_new_tokens = 256;
  bool stop_at_eos = true;             // stop at the model's eos_token_ids()
  std::vector<int64_t> stop_token_ids; // further stop tokens, e.g. <|im_end|>
  // Host syncs to test "every row finished" happen every this many steps; 0 = automatic (1 on
  // the CPU, where a sync costs nothing; 16 on a GPU, which may then run up to 15 steps ahead:
  // rows that finished earlier still emit nothing).
  int64_t stop_check_interval = 0;
  // Attention over the cache runs on slots [0, length) (false) or on all T_max preallocated
  // slots with the unused ones masked (true): constant shapes, as CUDA-graph capture needs.
  bool static_shapes = false;
  // Decode steps replay a CUDA graph (implies static_shapes; CUDA models only).
  bool cuda_graph = false;
  // When set, receives the prefill's logits at the last prompt position, [B, V] fp32 on the
  // CPU (what last_logits() gives for the prompts, without a second forward).
  at::Tensor* prefill_logits = nullptr;
  // Test and benchmark hook that emulates a model which stops (a random-weight model never
  // does): empty, or one entry per prompt; prompt i emits the first stop token
  // (stop_token_ids[0], else the model's first eos id) as its token number forced_stop_steps[i]
  // (0 = the first generated token) instead of the model's choice, and so stops there with
  // FinishReason::kStop after that many tokens. A negative entry never forces.
  std::vector<int64_t> forced_stop_steps;
};

// The stop tokens of `options` for `model` (stop_token_ids, then eos ids if stop_at_eos), and
// checks of forced_stop_steps against `n_prompts` (one entry each; a stop token to force).
Result<std::vector<int64_t>> stop_tokens(const Model& model, const GenerateOptions& options,
                                         size_t n_prompts);

// Wall-clock split of one generate_greedy call (filled when asked for: that costs one extra
// host sync after the prefill).
struct GenerateStats {
  double prefill_seconds = 0;  // prompt forward + first token
  double decode_seconds = 0;   // every later token
  int64_t batch = 0;
  int64_t prompt_columns = 0;  // padded prompt length T
  int64_t decode_steps = 0;    // forward passes after the prefill
};

enum class FinishReason { kStop, kLength };

struct Generation {
  std::vector<int64_t> tokens;  // generated ids, the stop token excluded
  FinishReason finish = FinishReason::kLength;
  int64_t stop_token = -1;      // the id that stopped it (kStop)
};

// Greedy decoding of each prompt (batched, left-padded; results in prompt order).
Result<std::vector<Generation>> generate_greedy(const Model& model,
                                                const std::vector<std::vector<int64_t>>& prompts,
                                                const GenerateOptions& options = {},
                                                GenerateStats* stats = nullptr);

// Logits at the last position of each sequence: [B, V] fp32 on the CPU.
Result<at::Tensor> last_logits(const Model& model, const std::vector<std::vector<int64_t>>& seqs);

}  // namespace qb::model
