// The lm-evaluation-harness 0.4.13 tasks qbuild runs by log-likelihood: their documents read
// from the Hugging Face layouts users download (data/HELP.md) and turned into requests exactly
// as the harness's task YAMLs and utils say (quoted next to each function in the .cc):
//
//   arc_challenge / arc_easy  allenai/ai2_arc {id, question, choices{text,label}, answerKey}, test
//   hellaswag                 Rowan/hellaswag {activity_label, ctx_a, ctx_b, endings[4], label},
//                             validation; tasks/hellaswag/utils.py process_docs + preprocess
//   winogrande                allenai/winogrande winogrande_xl {sentence, option1, option2,
//                             answer "1"|"2"}, validation; partial evaluation (one context per
//                             option, the text after the blank scored)
//   piqa                      baber/piqa {goal, sol1, sol2, label}, validation
//   wikitext                  EleutherAI/wikitext_document_level wikitext-2-raw-v1 {page}, test;
//                             wikitext_detokenizer; words and bytes of the *original* page
//   perplexity                .txt files (one document each) and .jsonl files ({"text": ...} per
//                             line) in a folder, in name order; no detokenizer
//
// Zero-shot only (the harness's default for all of them). Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "steps/eval/dataset.h"
#include "util/status.h"

namespace qb::eval {

// One multiple-choice document as lm-eval's ConfigurableTask.construct_requests builds it:
// request i is (contexts[contexts.size() == 1 ? 0 : i], continuations[i]).
struct ChoiceDoc {
  int64_t index = 0;                       // position in the split
  std::string where;                       // "demo_arc/ARC-Challenge/test.jsonl:3"
  std::vector<std::string> contexts;       // one shared context, or one per choice (winogrande)
  std::vector<std::string> continuations;  // per choice: target_delimiter " " + choice / target
  std::vector<std::string> choices;        // doc_to_choice (acc_norm divides by their lengths)
  int gold = 0;
  nlohmann::json metadata = nlohmann::json::object();
};

// One document of a perplexity task (loglikelihood_rolling over `text`).
struct PerplexityDoc {
  int64_t index = 0;
  std::string where;
  std::string text;    // what is scored (wikitext: the detokenized page)
  int64_t words = 0;   // len(re.split(r"\s+", page)) of the original page
  int64_t bytes = 0;   // len(page.encode("utf-8"))
};

// The subset (Hugging Face config) and the split a task is evaluated on.
struct TaskSplit {
  std::string_view config, split;
};
TaskSplit lm_eval_split(std::string_view task);

Result<std::vector<ChoiceDoc>> load_choice_docs(const std::filesystem::path& root, std::string_view task,
                                                FileFormat format = FileFormat::kAuto);
Result<std::vector<PerplexityDoc>> load_perplexity_docs(const std::filesystem::path& root, std::string_view task,
                                                        FileFormat format = FileFormat::kAuto);

// A row's string field / a JSON list of strings; errors name the row ("<file>:<line>") and field.
Result<std::string> str_field(const Row& row, const char* name);
Result<std::vector<std::string>> str_list(const nlohmann::json& v, const std::string& where, const char* name);

// The pieces, exposed for tests.
std::string wikitext_detokenize(std::string_view page);
int64_t count_words(std::string_view page);  // len(re.split(r"\s+", page))
std::string hellaswag_preprocess(std::string_view text);
std::string py_capitalize(std::string_view s);  // str.capitalize()
// Python len() of a UTF-8 string: code points (acc_norm's completion length).
int64_t py_len(std::string_view s);

}  // namespace qb::eval
