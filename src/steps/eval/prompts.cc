// evalscope and lm-evaluation-harness prompt formats (see prompts.h for the quoted sources).
#include "steps/eval/prompts.h"

#include "steps/eval/py_text.h"

namespace qb::eval {

std::string format_template(std::string_view t, const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '{' && i + 1 < t.size() && t[i + 1] == '{') {
      out += '{';
      ++i;
    } else if (t[i] == '}' && i + 1 < t.size() && t[i + 1] == '}') {
      out += '}';
      ++i;
    } else if (t[i] == '{') {
      size_t close = t.find('}', i);
      std::string_view name = t.substr(i + 1, close - i - 1);
      bool found = false;
      for (const auto& [k, v] : fields) {
        if (k == name) {
          out += v;
          found = true;
          break;
        }
      }
      if (!found) out.append(t.substr(i, close - i + 1));  // templates are ours: never happens
      i = close;
    } else {
      out += t[i];
    }
  }
  return out;
}

std::string mmlu_choices_text(const std::array<std::string, 4>& choices) {
  std::string out;
  for (size_t i = 0; i < 4; ++i) {
    if (i) out += '\n';
    out += std::string(1, static_cast<char>('A' + i)) + ") " + choices[i];
  }
  return out;
}

std::string mmlu_fewshot_example(const MmluItem& item) {
  return item.question + "\n" + mmlu_choices_text(item.choices) + "\nANSWER: " +
         std::string(1, static_cast<char>('A' + item.answer));
}

std::string mmlu_generative_prompt(const MmluItem& item, const std::vector<const MmluItem*>& fewshot) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"question", item.question}, {"choices", mmlu_choices_text(item.choices)}, {"letters", "A,B,C,D"}};
  if (fewshot.empty()) return format_template(kMmluTemplateCot, fields);
  std::string shots;
  for (size_t i = 0; i < fewshot.size(); ++i) shots += (i ? "\n\n" : "") + mmlu_fewshot_example(*fewshot[i]);
  fields.emplace_back("fewshot", shots);
  return format_template(std::string(kMmluFewShotTemplate) + std::string(kMmluTemplateCot), fields);
}

std::string gsm8k_fewshot_example(const Gsm8kItem& item) {
  return item.question + "\n\nReasoning:\n" + item.reasoning + "\n\nANSWER: \\boxed{" + item.target + "}";
}

std::string gsm8k_prompt(const Gsm8kItem& item, const std::vector<const Gsm8kItem*>& fewshot) {
  if (fewshot.empty()) return format_template(kGsm8kTemplate, {{"question", item.question}});
  std::string shots;
  for (size_t i = 0; i < fewshot.size(); ++i) shots += (i ? "\n\n" : "") + gsm8k_fewshot_example(*fewshot[i]);
  return format_template(std::string(kGsm8kFewShotTemplate) + std::string(kGsm8kTemplate),
                         {{"fewshot", shots}, {"question", item.question}});
}

namespace {
std::string harness_doc_to_text(const MmluItem& item) {
  std::string out = py::strip(item.question);
  for (size_t i = 0; i < 4; ++i) out += "\n" + std::string(1, static_cast<char>('A' + i)) + ". " + item.choices[i];
  return out + "\nAnswer:";
}
}  // namespace

LoglikelihoodPrompt mmlu_loglikelihood_prompt(const MmluItem& item, const std::vector<const MmluItem*>& fewshot) {
  LoglikelihoodPrompt p;
  p.context = "The following are multiple choice questions (with answers) about " +
              py::replace_all(item.subject, "_", " ") + ".\n\n";
  for (const MmluItem* ex : fewshot) {
    p.context += harness_doc_to_text(*ex) + " " + std::string(1, static_cast<char>('A' + ex->answer)) + "\n\n";
  }
  p.context += harness_doc_to_text(item);
  p.continuations = {" A", " B", " C", " D"};
  return p;
}

}  // namespace qb::eval
