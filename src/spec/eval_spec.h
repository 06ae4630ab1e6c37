// The typed specs of the evaluation nodes. An eval config (pipline/3-eval/*.yaml) becomes three
// kinds of node, each keyed by exactly its own spec, so that a change reruns only what it
// affects:
//
//   sample    SampleSpec    datasets × sampling → the frozen eval set (data/<dataset_name>.jsonl)
//   generate  GenerateSpec  model × eval set → raw outputs (GPU, expensive, resumable)
//   score     ScoreSpec     raw outputs × scorer → extracted answers, correctness, reports,
//                           fidelity statistics (CPU, seconds)
//
// Canonical JSON:
//   SampleSpec   {"datasets": [{"name", "weight", "task_type", "tags" (sorted), "few_shot_num",
//                  "subset_list" (in the given order: evalscope draws subsets in that order;
//                  [] = every subset in the reference order), "format", "shuffle_seeds" (only
//                  when not evalscope's single order, so older keys are unchanged)}] (in file
//                  order: the sampler gives the remainder to the last), "total_samples", "seed", "mode",
//                  "enable_thinking", "prompt_format"}
//   GenerateSpec {"max_new_tokens": {"<task>": int} (generative tasks only), "batch_size",
//                 "decoding": "greedy", "device", "compute_dtype", "logits": "none"|"keep"|"compare",
//                 "max_length": int (only when the eval has lm-eval multiple-choice or perplexity
//                 tasks, so the keys of other evals are unchanged; 0 = the model's
//                 max_position_embeddings, lm-eval HFLM's default),
//                 "batching": "continuous" (only when not "static", so older keys stay),
//                 "data_parallel": N (only when > 1, likewise)}
//   ScoreSpec    {"scorer": <scorer version>, "strip_thinking": bool, "fidelity": bool}
// Defaults: the member initializers below and the task table (spec/tasks.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/issues.h"
#include "util/status.h"

namespace qb::spec {

// Bumped when the eval prompt templates change, so frozen eval sets are re-made.
inline constexpr const char* kPromptFormatVersion = "evalscope-compatible/1";
// Names the scoring rules (extraction, normalization, correctness): bumped whenever they change,
// so every score node re-scores (from the raw outputs, without regenerating).
inline constexpr const char* kScorerVersion = "evalscope-1.12.0/qbuild-scorer-1";

inline constexpr std::int64_t kMaxTotalSamples = 10'000'000;
inline constexpr std::int64_t kMaxNewTokens = 131'072;
inline constexpr std::int64_t kMaxBatchSize = 65'536;
inline constexpr std::int64_t kMaxContextLength = 1'048'576;
// Each shuffle seed is a full pass over the drawn GPQA questions: a bound on the generation cost.
inline constexpr std::size_t kMaxShuffleSeeds = 100;

struct DatasetSpec {
  std::string name;                      // a task of spec/tasks.h: "mmlu" | "gsm8k"
  double weight = 1.0;
  std::string task_type;                 // default: the task's
  std::vector<std::string> tags;         // sorted, unique
  std::int64_t few_shot_num = 0;         // default: the task's
  std::vector<std::string> subset_list;  // given order; empty = every subset
  std::string format = "auto";           // auto | jsonl | csv | parquet: which files of a folder
  // gpqa_diamond only: the answer orders each drawn question is asked in, one item per
  // (question, seed), in this order (steps/eval/gpqa.h says what seed k is). nullopt = evalscope's
  // single order, seed 0 (the config writes [0] as nullopt). The report gives the accuracy per
  // seed, their mean as the benchmark's score, and the spread over seeds.
  std::optional<std::vector<std::int64_t>> shuffle_seeds;
  bool operator==(const DatasetSpec&) const = default;
};

// The rules of a shuffle_seeds list (a non-empty list of distinct non-negative integers, at most
// kMaxShuffleSeeds), at `path` and its items: shared by SampleSpec::validate and the sampler's
// own args (steps/eval/eval_set.cc), so the config and the step refuse the same lists.
void validate_shuffle_seeds(const std::vector<std::int64_t>& seeds, const std::string& path, Issues& issues);

struct SampleSpec {
  std::vector<DatasetSpec> datasets;
  std::int64_t total_samples = 0;  // required, unless every dataset is a perplexity task (then 0)
  std::uint64_t seed = 42;         // evalscope's
  // generative (evalscope) | loglikelihood (lm-eval; switches MMLU only: the lm-eval tasks of
  // spec/tasks.h are log-likelihood or perplexity tasks in either mode)
  std::string mode = "generative";
  bool enable_thinking = false;     // Qwen3's chat template with or without the thinking block
  std::string prompt_format = kPromptFormatVersion;

  // A DatasetSpec for task `name` with that task's defaults in `mode`.
  static DatasetSpec dataset_defaults(const std::string& name, const std::string& mode = "generative");
  void validate(Issues& issues) const;
  nlohmann::json to_json() const;
  static Result<SampleSpec> from_json(const nlohmann::json& j);
  bool operator==(const SampleSpec&) const = default;
};

struct GenerateSpec {
  std::map<std::string, std::int64_t> max_new_tokens;  // per generative task (defaults: tasks.h)
  std::int64_t batch_size = 32;  // part of the key: padding changes low-precision numerics
  std::string decoding = "greedy";
  std::string device = "cpu";             // the project's resolved device and dtype: both
  std::string compute_dtype = "float32";  // change the outputs
  // Next-token logits at each prompt's last position (fidelity): the base model keeps them
  // (logits.safetensors), a variant compares its own with the base's (per-item KL, top-1).
  std::string logits = "none";  // none | keep | compare
  // lm-eval's max_length for log-likelihood requests and rolling windows (see the header).
  std::optional<std::int64_t> max_length;
  // static: batches of batch_size items of similar length, each run until its longest member
  // ends. continuous: a pool of batch_size rows refilled as items finish, shared prompt prefixes
  // prefilled once (steps/model/continuous_batching.h). The same greedy tokens on the CPU; on a
  // GPU the batch around an item differs, so low-precision bits may too: part of the key.
  std::string batching = "static";  // static | continuous
  // Worker processes that split this node's items (i % N), one per GPU (steps/generate/
  // data_parallel.h); 1 = one process. Part of the key: each worker batches only its own items,
  // so the batch around an item — its padding, its pool neighbours — depends on N. Measured on
  // the CPU (tests/generate, tests/pipeline): the same greedy tokens and finish reasons, but the
  // fidelity logits at each prompt's last position differ in their last bits (another padded
  // length changes the reduction order; a variant's per-item KL moved by ~1e-5 relative on the
  // demo pipeline), so KL values and the base's logits.safetensors would not be a function of a
  // key without N. On the GPU (bf16) the
  // padding changes low-precision numerics as batch_size does (its comment), so even greedy
  // tokens may differ; not measured here (no GPU for this change). Hence N, not just on/off.
  std::int64_t data_parallel = 1;
  // An eval with multiple-choice items (MMLU in loglikelihood mode, lm-eval's choice tasks)
  // scores each item's choices with one prefill of their shared context
  // (steps/model/shared_context_scoring.h), in either batching. Until 2026-12-06 static batching
  // ran one forward per choice: the same log-likelihoods to float rounding, not the same bits on
  // a GPU, so such evals carry "choice_prefill": "shared" in their key (set by the config layer;
  // absent elsewhere, so generative evals keep their keys).
  bool shared_choice_prefill = false;

  void validate(Issues& issues) const;
  nlohmann::json to_json() const;
  static Result<GenerateSpec> from_json(const nlohmann::json& j);
  bool operator==(const GenerateSpec&) const = default;
};

struct ScoreSpec {
  std::string scorer = kScorerVersion;
  // evalscope removes the first <think>…</think> block of every output before extraction,
  // whatever enable_thinking is; false scores the raw text.
  bool strip_thinking = true;
  // Aggregate the generation's per-item KL / top-1 and McNemar's test against the base model.
  bool fidelity = true;

  void validate(Issues& issues) const;
  nlohmann::json to_json() const;
  static Result<ScoreSpec> from_json(const nlohmann::json& j);
  bool operator==(const ScoreSpec&) const = default;
};

}  // namespace qb::spec
