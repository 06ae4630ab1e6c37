// The frozen eval set and what the eval step does with it: build it from a collection schema
// (sample step), read it back, score one prediction, aggregate a report.
//
// File format (JSONL, one entry per line, in draw order; version 1). evalscope's DatasetEntry
// fields, so evalscope can read it as a collection dump:
//   index         0.. in file order
//   prompt        evalscope's Sample: {"input": [{"role": "user", "content": <prompt text>}],
//                 "choices": [...] (MMLU), "target": <gold>, "id": <position in subset>,
//                 "group_id": <same>, "subset_key": <subject> (MMLU), "metadata": {...}}
//   tags, categories (collection names, root first), task_type, weight (dataset share / items
//   drawn from it, as evalscope), dataset_name ("mmlu" | "gsm8k"), subset_name
// and qbuild's own:
//   gold          "B" / "72" (GSM8K: the text after "####")
//   prompt_style  "generative" (evalscope) | "loglikelihood" (lm-evaluation-harness, MMLU)
//   chat_template whether the model side wraps the prompt in its chat template
//   continuations [" A", " B", " C", " D"] (loglikelihood only; the prompt is the context)
//   contexts      one context per continuation (lm-eval's multiple-input tasks: winogrande)
//   prompt_style  also "rolling": a perplexity document (the prompt is the text scored;
//                 metadata {"words", "bytes"} of the original document)
//   record_index  position of the record in its split; source "demo_mmlu/all/test.jsonl:17"
//   fewshot_indices positions of the few-shot records in the few-shot split
//   format_version 1
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "steps/eval/collection.h"
#include "steps/eval/dataset.h"
#include "steps/eval/scorer.h"
#include "steps/eval/stats.h"
#include "util/status.h"

namespace qb::eval {

inline constexpr int kEvalSetFormatVersion = 1;

struct EvalEntry {
  int64_t index = 0;
  std::string dataset_name, subset_name, task_type;
  std::vector<std::string> tags, categories;
  double weight = 0;
  std::string prompt;  // the user message (or, for loglikelihood, the context)
  std::string gold;
  std::string prompt_style = "generative";
  bool chat_template = true;
  std::vector<std::string> continuations;
  // lm-eval's multiple-input tasks (winogrande): one context per continuation; empty = every
  // continuation follows `prompt`.
  std::vector<std::string> contexts;
  std::vector<std::string> choices;  // MMLU; lm-eval multiple choice: doc_to_choice (acc_norm)
  int64_t subset_id = 0;             // evalscope Sample.id: position within the subset
  int64_t record_index = 0;
  std::string source;
  std::vector<int64_t> fewshot_indices;
  nlohmann::json metadata = nlohmann::json::object();

  nlohmann::ordered_json to_json() const;
  static Result<EvalEntry> from_json(const nlohmann::json& j, const std::string& where);
};

struct SampleOptions {
  int64_t total = 0;    // items in the collection
  uint64_t seed = 42;   // random.seed(seed) before evalscope's WeightedSampler
  std::filesystem::path datasets_root;  // data/datasets: relative dataset_dir args resolve here
};

// Per-dataset args (evalscope DatasetInfo.args) understood here, with defaults:
//   dataset_dir  folder under datasets_root (default: the dataset name)
//   format       auto | jsonl | csv | parquet (default auto)
//   subset_list  MMLU subjects (default: evalscope's 57, in its order; present ones only)
//   few_shot_num default_few_shot_num(): MMLU 5 (from dev), GSM8K 4 (from train) as evalscope;
//                MMLU loglikelihood 0 as lm-evaluation-harness (see below)
//   prompt_style generative (default) | loglikelihood (MMLU only)
//   apply_chat_template default true for generative, false for loglikelihood
//   shuffle_seeds gpqa_diamond's answer orders (spec::DatasetSpec::shuffle_seeds; absent: [0],
//                evalscope's order, and no metadata.shuffle_seed on the entries)
Result<std::vector<EvalEntry>> build_eval_set(const CollectionNode& schema, const SampleOptions& opts);

// Every document of a perplexity task (spec/tasks.h), in order (not drawn: lm-eval evaluates
// the whole split). Indices are left 0: the caller numbers the eval set.
Result<std::vector<EvalEntry>> perplexity_entries(const std::string& task, const std::filesystem::path& dir,
                                                  FileFormat format, const std::string& task_type,
                                                  const std::vector<std::string>& tags,
                                                  const std::vector<std::string>& categories);

// The few-shot examples a dataset gets when its config does not say, one per mode:
//   mmlu generative    5  evalscope 1.12.0 (MMLUAdapter: few_shot_num=5, train_split='dev')
//   mmlu loglikelihood 0  lm-evaluation-harness 0.4.13 (tasks/mmlu/default sets no num_fewshot;
//                         the 5-shot leaderboard numbers come from --num_fewshot 5)
//   gsm8k              4  evalscope 1.12.0 (GSM8KAdapter: few_shot_num=4, train_split='train')
int default_few_shot_num(std::string_view dataset, std::string_view prompt_style);

std::string eval_set_to_jsonl(const std::vector<EvalEntry>& entries);
// Errors name "<file>:<line>" and the field.
Result<std::vector<EvalEntry>> load_eval_set(const std::filesystem::path& file);

using ScoreOptions = ScorerOptions;  // scorer.h
struct Score {
  int64_t index = 0;
  std::string extracted;  // the letter / the normalized number / the choice index ("" when none)
  bool correct = false;
  // lm-eval multiple choice with acc_norm (arc, hellaswag, piqa): argmax of ll / len(choice).
  std::optional<bool> correct_norm;
};
// A generated output (generative entries), scored by score_output() (scorer.h): the first
// <think>…</think> block removed, then the filters, extraction and metric of evalscope 1.12.0.
Result<Score> score_generation(const EvalEntry& e, std::string_view output, const ScoreOptions& opts = {});
// Log-likelihoods of the continuations (loglikelihood entries): the argmax (first on ties, as
// numpy's) is the answer, as lm-evaluation-harness's acc; for the lm-eval multiple-choice tasks
// with acc_norm also the argmax of ll / len(choice) (len in code points, the harness's
// completion_len). MMLU answers with a letter, the others with the choice index.
Result<Score> score_loglikelihoods(const EvalEntry& e, const std::vector<double>& loglikelihoods);
// Whether a task reports acc_norm (lm-eval's metric_list).
bool has_acc_norm(std::string_view dataset);

// lm-eval's perplexity metrics of one task from its documents' rolling log-likelihoods:
// word_perplexity = exp(-Σll / Σwords), byte_perplexity = exp(-Σll / Σbytes),
// bits_per_byte = -Σll / Σbytes / ln 2 (weighted_perplexity and bits_per_byte aggregations).
struct Perplexity {
  int64_t documents = 0, tokens = 0, words = 0, bytes = 0;
  double loglikelihood = 0;
  double word_perplexity = 0, byte_perplexity = 0, bits_per_byte = 0;
  double token_perplexity = 0;  // exp(-Σll / Σtokens): the model's own, llama.cpp's PPL
};
Perplexity aggregate_perplexity(const std::vector<double>& loglikelihoods, const std::vector<int64_t>& tokens,
                                const std::vector<int64_t>& words, const std::vector<int64_t>& bytes);

// Scored entries only: perplexity ("rolling") entries have no score and are left out.
// acc_norm and acc_norm_stderr are added for datasets whose scores have correct_norm.
// {"datasets": [{"dataset_name", "n", "correct", "acc", "stderr", "macro_acc", "weighted_acc",
//                "subsets": [{"subset_name", …}]}],
//  "overall": {"n", "correct", "acc", "stderr"}, "weighted_acc": Σ weight·correct / Σ weight}
// Datasets and subsets in order of first appearance. Every entry needs exactly one score.
// macro_acc and weighted_acc are evalscope's dataset-level macro_avg. (mean of the subsets'
// accuracies) and weighted_avg. (Σ weight·correct / Σ weight).
// A dataset sampled with several answer orders (gpqa_diamond's shuffle_seeds: entries with
// metadata.shuffle_seed) also has "shuffle_seeds": {"what", "questions", "seeds": [{"seed", "n",
// "correct", "acc", "stderr"}], "mean", "stderr", "std" (two seeds or more), "min", "max"}
// (seed_accuracy, stats.h), and its "acc" / "stderr" are that mean and its stderr over
// questions; "n" and "correct" count items (questions × seeds), as "overall" does.
Result<nlohmann::ordered_json> make_report(const std::vector<EvalEntry>& entries, const std::vector<Score>& scores);

// evalscope's MMLU SUBJECT_MAPPING keys, in its order (the default subset_list).
const std::vector<std::string>& mmlu_subjects();

}  // namespace qb::eval
