// The benchmarks qbuild evaluates, one row each: every per-task default lives here (the config
// layer, the sampler and the docs read it from this table).
//
//   name   task_type  few-shot default               max few-shot  max_new_tokens  subsets
//   mmlu   knowledge  generative 5 (evalscope      5 (dev split: 512             57 subjects,
//                     1.12.0's MMLUAdapter);       5 per subject)                evalscope's
//                     loglikelihood 0 (lm-eval                                    order
//                     0.4.13's mmlu task: no
//                     num_fewshot)
//   gsm8k  math       4 (evalscope 1.12.0)            100           1024            main
//   mmlu_pro knowledge 5 (evalscope 1.12.0's         5 (validation: 2048           14 categories,
//                     MMLUProAdapter; generative    5 per category)               evalscope's
//                     in both modes)                                               order
//   math_500 math     0 (evalscope 1.12.0's         0 (no train   2048            Level 1..5
//                     Math500Adapter)               split)
//   gpqa_diamond knowledge 0 (evalscope 1.12.0's   0 (its 5-shot 2048            default
//                     GPQAAdapter; answers in a      examples are
//                     per-question sha256 order)     not supported)
//
// lm-evaluation-harness 0.4.13 tasks (log-likelihood only; zero-shot, the harness's default;
// the eval split as the harness evaluates it):
//   arc_challenge, arc_easy  multiple choice  test split        acc, acc_norm
//   hellaswag                multiple choice  validation split  acc, acc_norm (its preprocessing)
//   winogrande               multiple choice  validation split  acc (partial evaluation: one
//                                                               context per option)
//   piqa                     multiple choice  validation split  acc, acc_norm
//   wikitext                 perplexity       test split of wikitext_document_level (every
//                                             document, not drawn): word/byte perplexity,
//                                             bits_per_byte over rolling windows
//   perplexity               perplexity       any plain text (.txt: one document per file) or
//                                             JSONL of documents ({"text": ...}); no detokenizer
//
// max_new_tokens: MMLU answers "think step by step, then ANSWER: X"; GSM8K needs multi-step
// arithmetic and a cut-off answer loses its \boxed{}. Generation stops earlier at <|im_end|>,
// so the cap only bounds runaway outputs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qb::spec {

// How a task is evaluated: kGenerative (text generated and scored; MMLU also by log-likelihood
// in loglikelihood mode), kMultipleChoice (log-likelihood of each choice, lm-eval's
// multiple_choice), kPerplexity (lm-eval's loglikelihood_rolling over whole documents).
enum class TaskKind { kGenerative, kMultipleChoice, kPerplexity };

struct TaskInfo {
  std::string_view name;       // "mmlu": the dataset kind and data/datasets/<name>/
  std::string_view task_type;  // label copied into the eval set
  std::int64_t few_shot_generative;     // default in generative mode (evalscope's)
  std::int64_t few_shot_loglikelihood;  // default in loglikelihood mode (lm-evaluation-harness's)
  std::int64_t max_few_shot;   // what the few-shot split can give
  std::int64_t max_new_tokens;
  const std::vector<std::string>* subsets;  // in the reference's order
  TaskKind kind = TaskKind::kGenerative;
};

const std::vector<TaskInfo>& tasks();
const TaskInfo* find_task(std::string_view name);  // nullptr when unknown
// The few-shot default of `task` in `mode` ("generative" | "loglikelihood"); 0 for an unknown task.
std::int64_t default_few_shot_num(std::string_view task, std::string_view mode);
std::vector<std::string_view> task_names();
// Whether `task` generates text in `mode` (then it has a max_new_tokens budget).
bool generates_text(std::string_view task, std::string_view mode);
// Whether `task` is a perplexity task (all its documents are evaluated: not drawn by the sampler).
bool is_perplexity_task(std::string_view task);

// cais/mmlu's 57 subjects in evalscope's SUBJECT_MAPPING order (the default subset_list).
const std::vector<std::string>& mmlu_subjects();

}  // namespace qb::spec
