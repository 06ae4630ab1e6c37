// Prompt text for MMLU and GSM8K — the user message; the chat template is the model side's job.
//
// evalscope 1.12.0 (generative; quoted from evalscope/utils/multi_choices.py and
// evalscope/benchmarks/gsm8k/gsm8k_adapter.py):
//   MMLU  SINGLE_ANSWER_TEMPLATE_COT with {letters} = "A,B,C,D" and {choices} = "A) …\nB) …";
//         few-shot: FEW_SHOT_TEMPLATE ("Here are some examples of how to answer similar
//         questions:\n\n{fewshot}\n\n") before it, each example "{question}\n{choices}\nANSWER: {X}",
//         examples joined by "\n\n", taken from the first few_shot_num dev items of the subject.
//   GSM8K "{question}\nPlease reason step by step, and put your final answer within \boxed{}.";
//         few-shot: "Here are some examples of how to solve similar problems:\n\n{fewshot}\n\n"
//         before it, each example "{question}\n\nReasoning:\n{reasoning}\n\nANSWER: \boxed{{target}}",
//         from the first few_shot_num train items.
// lm-evaluation-harness (log-likelihood; lm_eval/tasks/mmlu/default/_default_template_yaml):
//   "The following are multiple choice questions (with answers) about {subject, '_' -> ' '}.\n\n"
//   + for each dev example: "{question.strip()}\nA. …\nB. …\nC. …\nD. …\nAnswer: {X}\n\n"
//   + "{question.strip()}\nA. …\nD. …\nAnswer:", scored by the log-likelihood of " A" … " D".
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "steps/eval/dataset.h"

namespace qb::eval {

inline constexpr std::string_view kMmluTemplateCot =
    "Answer the following multiple choice question. The last line of your response should be of the following "
    "format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of {letters}. Think step by step before "
    "answering.\n\n{question}\n\n{choices}";
inline constexpr std::string_view kMmluFewShotTemplate =
    "Here are some examples of how to answer similar questions:\n\n{fewshot}\n\n";
inline constexpr std::string_view kGsm8kTemplate =
    "{question}\nPlease reason step by step, and put your final answer within \\boxed{{}}.";
inline constexpr std::string_view kGsm8kFewShotTemplate =
    "Here are some examples of how to solve similar problems:\n\n{fewshot}\n\n";

// Python str.format for the named fields given ("{{" and "}}" are literal braces). Values are
// inserted as they are, never re-scanned.
std::string format_template(std::string_view tmpl, const std::vector<std::pair<std::string, std::string>>& fields);

std::string mmlu_choices_text(const std::array<std::string, 4>& choices);  // "A) …\nB) …\nC) …\nD) …"
std::string mmlu_fewshot_example(const MmluItem& item);                   // "{q}\n{choices}\nANSWER: X"
std::string mmlu_generative_prompt(const MmluItem& item, const std::vector<const MmluItem*>& fewshot);

std::string gsm8k_fewshot_example(const Gsm8kItem& item);
std::string gsm8k_prompt(const Gsm8kItem& item, const std::vector<const Gsm8kItem*>& fewshot);

struct LoglikelihoodPrompt {
  std::string context;                      // ends with "Answer:"
  std::array<std::string, 4> continuations;  // " A", " B", " C", " D"
};
LoglikelihoodPrompt mmlu_loglikelihood_prompt(const MmluItem& item, const std::vector<const MmluItem*>& fewshot);

}  // namespace qb::eval
