// Running one model over a frozen eval set (the shared core of the `eval` and `base_eval` kinds):
// prompts tokenized (chat template as the eval set says), generative items decoded greedily in
// batches sorted by length, log-likelihood items scored in one forward per batch, every answer
// scored with evalscope's rules, and — for fidelity — the next-token logits at each prompt's last
// position.
//
// Resume: every finished batch appends its raw results to <partial_dir>/predictions.jsonl
// (flushed and fsynced) before the next starts. A rerun of the same node (same key, so the same
// partial_dir) reads them back and computes only what is missing; a torn last line is ignored.
// Fidelity logits of generative items come from their generation's prefill; items resumed from
// disk and log-likelihood items get one extra prefill each at the end (not resumed: cheap).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "steps/eval/eval_set.h"
#include "util/status.h"

namespace qb::steps {

struct EvalRunOptions {
  std::filesystem::path model_dir;     // Hugging Face folder with tokenizer.json
  std::filesystem::path eval_set_dir;  // a sample artifact: eval_set.jsonl, sample_params.json
  at::Device device = at::kCPU;
  std::optional<at::ScalarType> dtype;  // compute dtype (default: the checkpoint's)
  // eval_params: {"max_new_tokens": {"mmlu": 512, "gsm8k": 1024}, "batch_size": 32}
  nlohmann::json params = nlohmann::json::object();
  std::filesystem::path partial_dir;  // resume file lives here (empty: no resume)
  bool want_logits = false;
};

struct ItemResult {
  std::string output;                  // generated text (generative) or "" (loglikelihood)
  int64_t output_tokens = 0;
  std::string finish;                  // "stop" | "length" | "" (loglikelihood)
  std::vector<double> loglikelihoods;  // loglikelihood items: one per continuation
  eval::Score score;
  bool resumed = false;                // read back from the partial file
};

struct EvalRunResult {
  std::vector<eval::EvalEntry> entries;   // the eval set, in order
  nlohmann::json sample_params;           // the eval set's sample_params.json ({} when absent)
  std::vector<ItemResult> items;          // parallel to entries
  nlohmann::ordered_json report;          // eval::make_report()
  at::Tensor last_logits;                 // [N, V] fp32 on the CPU (want_logits), row i = entry i
  int64_t resumed = 0;
  nlohmann::ordered_json stats;           // tokens, seconds, rates
};

Result<EvalRunResult> run_eval_set(const EvalRunOptions& opts);

// Artifact files both kinds write into `out_dir`:
//   predictions/<dataset>.jsonl  one line per item: index, subset, prompt, output, extracted, gold,
//                                correct, finish, output_tokens (loglikelihoods for that mode)
//   items.jsonl                  index, dataset, correct, extracted (paired comparisons read it)
//   report.json                  `report` as given
Status write_eval_outputs(const std::filesystem::path& out_dir, const EvalRunResult& r,
                          const nlohmann::ordered_json& report);

// items.jsonl of an earlier artifact: per-item correctness in entry order. Errors name the file.
Result<std::vector<bool>> read_item_correctness(const std::filesystem::path& artifact_dir, size_t expected);

}  // namespace qb::steps
