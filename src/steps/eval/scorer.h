// Scoring one raw model output the way evalscope 1.12.0 does, with every intermediate step kept
// so that `qbuild score` can show why an answer counted or not.
//
// evalscope's pipeline for one generated sample (DefaultDataAdapter.calculate_metrics):
//   1. completion: the assistant message's text. ChatMessageAssistant's validator splits off the
//      first <think>…</think> block (regex <think( signature="…")?( redacted="true")?\s*>(.*?)</think>,
//      DOTALL, anywhere in the text) and strips what is left; without such a block the text is
//      kept as it is. This happens for every output, whatever enable_thinking was: a model that
//      thinks without being asked is scored on its answer, not on its reasoning. A "</think>"
//      without its "<think>" (a template that opens the block in the prompt) is not removed.
//   2. filters: the benchmark's filter ensemble; GSM8K and MMLU have none unless the user sets
//      `filters`, e.g. {remove_until: "</think>"} (text after the first delimiter).
//   3. extract_answer: GSM8K parser.extract_answer (math_answer.h); MMLU parse_answers with 4
//      options, letters joined sorted (choice_answer.h).
//   4. metric: GSM8K Accuracy(numeric=True): math_equal(extracted, strip_answer_string(gold));
//      MMLU Accuracy: strip().lower() of both equal.
//
// kScorerVersion names these rules. It is hashed into the keys of score nodes: change it whenever
// extraction or correctness changes, so that cached scores are recomputed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "spec/eval_spec.h"
#include "util/status.h"

namespace qb::eval {

// The version string lives with the score node's spec (spec/eval_spec.h), which hashes it.
inline constexpr std::string_view kScorerVersion = spec::kScorerVersion;

enum class Benchmark { kGsm8k, kMmlu };
Result<Benchmark> parse_benchmark(std::string_view name);  // "gsm8k" | "mmlu"
const char* benchmark_name(Benchmark b);

struct ScorerOptions {
  std::string remove_until;  // evalscope's remove_until filter, e.g. "</think>" (empty: off)
  // Step 1 above (evalscope always does it); false scores the text with its think block (the
  // score spec's strip_thinking).
  bool strip_think_block = true;
};

struct ScoreTrace {
  std::string completion;     // the output without its first <think>…</think> block
  bool think_removed = false;
  std::string filtered;       // the completion after the filters
  std::string rule;           // the extraction rule that fired
  std::string extracted;      // the answer compared ("" when none was found)
  std::string reference;      // the gold as compared (GSM8K: strip_answer_string(gold))
  bool correct = false;
  std::string verdict;        // why correct or not (math_equal's deciding rule; MMLU: the match)
};

// evalscope's parse_content_with_reasoning: the text without its first think block, stripped;
// the text unchanged (not stripped) when it has none.
std::string strip_think_block(std::string_view output, bool* removed = nullptr);

// One record of the file `qbuild score` reads, a JSON object per line:
//   {"output": "<raw model output>", "gold": "<gold answer>" (GSM8K also a number),
//    "choices": ["...", ...] (MMLU, required: only their number matters)}
// Other fields are ignored. Errors say which field is wrong.
struct ScoreInput {
  std::string output;
  std::string gold;
  int num_choices = 0;  // MMLU
};
Result<ScoreInput> parse_score_input(std::string_view json_line, Benchmark benchmark);

// One output against its gold. MMLU: `num_choices` options labelled A, B, …; the gold must be
// one of them. Errors only for a gold that cannot be scored.
Result<ScoreTrace> score_output(Benchmark benchmark, std::string_view output, std::string_view gold,
                                int num_choices, const ScorerOptions& options = {});

}  // namespace qb::eval
