// One output, scored as evalscope 1.12.0 scores it (see scorer.h).
#include "steps/eval/scorer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "steps/eval/choice_answer.h"
#include "steps/eval/math_answer.h"
#include "steps/eval/py_regex.h"
#include "steps/eval/py_text.h"

namespace qb::eval {

Result<Benchmark> parse_benchmark(std::string_view name) {
  if (name == "gsm8k") return Benchmark::kGsm8k;
  if (name == "mmlu") return Benchmark::kMmlu;
  if (name == "mmlu_pro") return Benchmark::kMmlu;  // the same extraction, with the item's options
  if (name == "math_500") return Benchmark::kGsm8k;  // Math500Adapter: GSM8K's extract_answer and math_equal
  if (name == "gpqa_diamond") return Benchmark::kMmlu;  // GPQAAdapter: MultiChoiceAdapter's parse_answers
  return invalid_argument(
      fmt::format("unknown dataset '{}' (known: gsm8k, mmlu, mmlu_pro, math_500, gpqa_diamond)", name));
}

const char* benchmark_name(Benchmark b) { return b == Benchmark::kGsm8k ? "gsm8k" : "mmlu"; }

std::string strip_think_block(std::string_view output, bool* removed) {
  // evalscope/api/messages/utils.py parse_content_with_reasoning
  static const py::Regex think(R"re((?s)<think(?:\s+signature="([^"]*)")?(?:\s+redacted="(true)")?\s*>(.*?)</think>)re");
  const std::string text = py::sanitize_utf8(output);
  auto m = think.search(text);
  if (removed) *removed = m.has_value();
  if (!m) return text;
  return py::strip(text.substr(0, m->start()) + text.substr(m->end()));
}

Result<ScoreInput> parse_score_input(std::string_view json_line, Benchmark benchmark) {
  nlohmann::json j = nlohmann::json::parse(json_line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid_argument("not valid JSON");
  if (!j.is_object()) return invalid_argument("expected a JSON object {\"output\": ..., \"gold\": ...}");
  ScoreInput in;
  auto output = j.find("output");
  if (output == j.end()) return invalid_argument("field 'output' is missing");
  if (!output->is_string()) return invalid_argument("field 'output': expected a string, got " + output->dump());
  in.output = output->get<std::string>();
  auto gold = j.find("gold");
  if (gold == j.end()) return invalid_argument("field 'gold' is missing");
  if (gold->is_string()) {
    in.gold = gold->get<std::string>();
  } else if (gold->is_number() && benchmark == Benchmark::kGsm8k) {
    in.gold = gold->dump();
  } else {
    return invalid_argument(fmt::format("field 'gold': expected a {}, got {}",
                                        benchmark == Benchmark::kGsm8k ? "string or a number" : "letter string",
                                        gold->dump()));
  }
  if (benchmark == Benchmark::kMmlu) {
    auto choices = j.find("choices");
    if (choices == j.end()) return invalid_argument("field 'choices' is missing (mmlu needs the options)");
    if (!choices->is_array() || choices->empty() || choices->size() > 26) {
      return invalid_argument("field 'choices': expected a list of 1 to 26 options, got " + choices->dump());
    }
    in.num_choices = static_cast<int>(choices->size());
  }
  return in;
}

Result<ScoreTrace> score_output(Benchmark benchmark, std::string_view output, std::string_view gold,
                                int num_choices, const ScorerOptions& options) {
  ScoreTrace t;
  t.completion = options.strip_think_block ? strip_think_block(output, &t.think_removed) : std::string(output);
  t.filtered = options.remove_until.empty() ? t.completion : remove_until(t.completion, options.remove_until);
  if (benchmark == Benchmark::kMmlu) {
    if (num_choices < 1 || num_choices > 26) {
      return invalid_argument(fmt::format("mmlu: {} choices (expected 1 to 26)", num_choices));
    }
    const std::string g = py::strip(py::sanitize_utf8(gold));
    if (g.size() != 1 || g[0] < 'A' || g[0] >= 'A' + num_choices) {
      return invalid_argument(fmt::format("mmlu: gold \"{}\" is not one of the letters A..{}", std::string(gold),
                                          static_cast<char>('A' + num_choices - 1)));
    }
    ChoiceExtraction x = extract_choice_answer_traced(t.filtered, num_choices);
    t.rule = x.rule;
    t.extracted = x.letter;
    t.reference = std::string(gold);
    t.correct = exact_match(t.extracted, t.reference);
    t.verdict = t.extracted.empty() ? "no answer" : t.correct ? "same letter" : "different letter";
    return t;
  }
  MathExtraction x = extract_math_answer_traced(t.filtered);
  t.rule = x.rule;
  t.extracted = x.answer;
  t.reference = strip_answer_string(gold);
  MathVerdict v = math_equal_traced(t.extracted, t.reference);
  t.correct = v.equal;
  t.verdict = v.rule;
  return t;
}

}  // namespace qb::eval
