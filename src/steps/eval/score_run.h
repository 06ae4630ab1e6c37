// Scoring a generation (the `score` node's work, torch-free): every raw output of a generate
// node scored against its eval-set entry with evalscope's rules (score_generation /
// score_loglikelihoods), the report (accuracy ± stderr per dataset and subset), and the files a
// score artifact holds:
//   predictions/<dataset>.jsonl  one line per item: index, subset, prompt, output, extracted, gold,
//                                correct, finish, output_tokens (loglikelihoods in that mode;
//                                shuffle_seed for gpqa_diamond with shuffle_seeds)
//   items.jsonl                  index, dataset, correct, extracted (paired comparisons read it)
//   report.json                  the report, with whatever the caller adds (fidelity, keys)
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "steps/eval/eval_set.h"
#include "steps/eval/raw_outputs.h"
#include "util/status.h"

namespace qb::eval {

struct ScoreRun {
  std::vector<Score> scores;      // parallel to the entries
  nlohmann::ordered_json report;  // make_report()
};

// `outputs` parallel to `entries`. Errors name the item.
Result<ScoreRun> score_outputs(const std::vector<EvalEntry>& entries, const std::vector<RawOutput>& outputs,
                               const ScoreOptions& opts);

Status write_score_outputs(const std::filesystem::path& out_dir, const std::vector<EvalEntry>& entries,
                           const std::vector<RawOutput>& outputs, const std::vector<Score>& scores,
                           const nlohmann::ordered_json& report);

// The numbers of a report that the results CSV shows (meta["scores"] of a score artifact):
// {"datasets": {ds: {acc, stderr, n[, acc_norm, acc_norm_stderr][, seeds, seed_std, seed_min,
// seed_max]} | {word_perplexity, byte_perplexity, bits_per_byte, n}}, "overall": {acc, stderr, n}}.
// The seed columns only for a dataset with shuffle_seeds (make_report), whose acc is the mean over
// seeds (so recovery is of the mean); seed_std only with two seeds or more.
nlohmann::json scores_of(const nlohmann::ordered_json& report);

// Recovery of a variant against the base model, per benchmark: variant / base of acc_norm where
// the task reports it (lm-eval's arc, hellaswag, piqa), else acc; for perplexity tasks of
// 1 / word_perplexity, i.e. base_ppl / variant_ppl (1 = nothing lost, as for accuracy). Adds
// scores["datasets"][ds]["recovery"] and scores["recovery_mean"] (the mean over the benchmarks
// both have; a base score of 0 gives none) and returns the report's "recovery" block, or
// nullopt when no benchmark has one.
std::optional<nlohmann::ordered_json> recovery(const nlohmann::json& base_scores, nlohmann::json& scores);

// items.jsonl of a score artifact: per-item correctness in entry order. Errors name the file.
Result<std::vector<bool>> read_item_correctness(const std::filesystem::path& artifact_dir, size_t expected);

}  // namespace qb::eval
