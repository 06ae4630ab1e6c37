// MMLU-Pro as evalscope 1.12.0 evaluates it (benchmarks/mmlu_pro/mmlu_pro_adapter.py), read from
// TIGER-Lab/MMLU-Pro's Hugging Face layout (data/test-*.parquet, data/validation-*.parquet, or
// the same rows as JSONL; columns question_id, question, options, answer, answer_index,
// cot_content, category, src). Generative, chain of thought, answered "ANSWER: X" with up to 10
// options A..J; extracted by evalscope's parse_answers (choice_answer.h) with the item's own
// number of options. Quoted from the adapter:
//
//   record_to_sample: input=question, choices=options, target=answer, subset = category.lower()
//   subsets: SUBSET_LIST below (reformat_subset: one split grouped by category, in file order)
//   few-shot: few_shot_num=5 from the validation split, the first 5 of the item's subset
//     (DatasetDict.from_dataset(limit=few_shot_num)); a subset without 5 is an error there too
//   zero-shot prompt (USER_PROMPT_TEMPLATE, choices "A) text", letters "A,B,...")
//   few-shot prompt: SYSTEM_W_EXAMPLES_PROMPT_TEMPLATE(subject, examples) + "\n" + the prompt,
//     each example "Question:\n{q}\nOptions:\nA {opt}\n...\n{cot_content}" with "The answer is"
//     replaced by "ANSWER:" and "ANSWER: (X)" by "ANSWER: X"
//
// Torch-free. Golden prompts: tests/golden/scripts/mmlu_pro_oracle.py (the real adapter).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "steps/eval/dataset.h"
#include "util/status.h"

namespace qb::eval {

struct MmluProItem {
  int64_t index = 0;  // position in the split
  std::string where;  // "demo_mmlu_pro/data/test.jsonl:3"
  std::string question;
  std::vector<std::string> options;  // 1..26 (MMLU-Pro: up to 10)
  int answer = 0;                    // index of the `answer` letter
  std::string cot_content;           // the validation split's worked answer ("" in test)
  std::string category;              // lower-cased: the subset
  int64_t question_id = -1;
};

// evalscope's SUBSET_LIST (its default order: the order of the draw).
const std::vector<std::string>& mmlu_pro_subjects();

// `split` is "test" or "validation". Errors name the file and row.
Result<std::vector<MmluProItem>> load_mmlu_pro(const std::filesystem::path& root, std::string_view split,
                                               FileFormat format = FileFormat::kAuto);

std::string mmlu_pro_fewshot_example(const MmluProItem& item);
std::string mmlu_pro_prompt(const MmluProItem& item, const std::vector<const MmluProItem*>& fewshot);

}  // namespace qb::eval
