// MMLU-Pro rows and prompts, evalscope 1.12.0's (see mmlu_pro.h).
#include "steps/eval/mmlu_pro.h"

#include <fmt/format.h>

#include "steps/eval/lm_eval_tasks.h"  // str_field, str_list
#include "steps/eval/prompts.h"         // format_template
#include "steps/eval/py_text.h"
#include "steps/eval/rows.h"

namespace qb::eval {

namespace {

constexpr const char* kSystemWithExamples =
    "The following are multiple choice questions (with answers) about {subject}. Think step by step and then "
    "finish your answer with 'ANSWER: [LETTER]' (without quotes) where [LETTER] is the correct letter choice.\n"
    "\n"
    "{examples}\n";
constexpr const char* kUserPrompt =
    "Answer the following multiple choice question. The last line of your response should be of the following "
    "format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of {letters}. Think step by step before "
    "answering.\n"
    "\n"
    "Question:\n"
    "{question}\n"
    "Options:\n"
    "{choices}\n";

std::string letter(size_t i) { return std::string(1, static_cast<char>('A' + i)); }

Result<MmluProItem> mmlu_pro_item(const Row& row) {
  MmluProItem it;
  it.where = row.where;
  QB_ASSIGN_OR_RETURN(it.question, str_field(row, "question"));
  auto opts = row.fields.find("options");
  if (opts == row.fields.end()) return invalid_argument(fmt::format("{}: missing field 'options'", row.where));
  QB_ASSIGN_OR_RETURN(it.options, str_list(*opts, row.where, "options"));
  if (it.options.empty() || it.options.size() > 26)
    return invalid_argument(fmt::format("{}: field 'options': {} options (expected 1 to 26)", row.where, it.options.size()));
  QB_ASSIGN_OR_RETURN(std::string answer, str_field(row, "answer"));
  if (answer.size() != 1 || answer[0] < 'A' || answer[0] >= 'A' + static_cast<int>(it.options.size()))
    return invalid_argument(fmt::format("{}: field 'answer': \"{}\" is not one of the letters A..{}", row.where, answer,
                                        letter(it.options.size() - 1)));
  it.answer = answer[0] - 'A';
  QB_ASSIGN_OR_RETURN(std::string category, str_field(row, "category"));
  it.category = py::lower_ascii(category);  // Python's lower(); MMLU-Pro's categories are ASCII
  if (auto c = row.fields.find("cot_content"); c != row.fields.end() && !c->is_null()) {
    QB_ASSIGN_OR_RETURN(it.cot_content, str_field(row, "cot_content"));
  }
  if (auto q = row.fields.find("question_id"); q != row.fields.end() && q->is_number_integer())
    it.question_id = q->get<int64_t>();
  return it;
}

}  // namespace

const std::vector<std::string>& mmlu_pro_subjects() {
  static const std::vector<std::string> k = {"computer science", "math",       "chemistry", "engineering", "law",
                                             "biology",          "health",     "physics",   "business",    "philosophy",
                                             "economics",        "other",      "psychology", "history"};
  return k;
}

Result<std::vector<MmluProItem>> load_mmlu_pro(const std::filesystem::path& root, std::string_view split,
                                               FileFormat format) {
  QB_ASSIGN_OR_RETURN(SplitFiles sf, find_hf_split(root, "default", split, format));
  QB_ASSIGN_OR_RETURN(std::vector<Row> rows, read_split_rows(root, sf));
  std::vector<MmluProItem> out;
  for (const Row& row : rows) {
    QB_ASSIGN_OR_RETURN(MmluProItem it, mmlu_pro_item(row));
    it.index = static_cast<int64_t>(out.size());
    out.push_back(std::move(it));
  }
  if (out.empty())
    return invalid_argument(fmt::format("dataset 'mmlu_pro': split '{}' in '{}' has no items (empty files?)", split,
                                        root.string()));
  return out;
}

std::string mmlu_pro_fewshot_example(const MmluProItem& item) {
  // sample_to_fewshot
  std::string out = "Question:\n" + item.question + "\nOptions:";
  for (size_t i = 0; i < item.options.size(); ++i) out += "\n" + letter(i) + " " + item.options[i];
  std::string ans = py::replace_all(item.cot_content, "The answer is", "ANSWER:");
  // ans_opt = ans.split('ANSWER:')[-1].split('.')[0].strip().strip('(').strip(')')
  const size_t last = ans.rfind("ANSWER:");
  std::string opt = last == std::string::npos ? ans : ans.substr(last + 7);
  opt = opt.substr(0, opt.find('.'));
  opt = py::strip_chars(py::strip_chars(py::strip(opt), "("), ")");
  ans = py::replace_all(ans, "ANSWER: (" + opt + ")", "ANSWER: " + opt);
  return out + "\n" + ans;
}

std::string mmlu_pro_prompt(const MmluProItem& item, const std::vector<const MmluProItem*>& fewshot) {
  std::string choices, letters;
  for (size_t i = 0; i < item.options.size(); ++i) {
    choices += (i ? "\n" : "") + letter(i) + ") " + item.options[i];
    letters += (i ? "," : "") + letter(i);
  }
  const std::string prompt =
      format_template(kUserPrompt, {{"letters", letters}, {"question", item.question}, {"choices", choices}});
  if (fewshot.empty()) return prompt;
  std::string examples;
  for (size_t i = 0; i < fewshot.size(); ++i) examples += (i ? "\n\n" : "") + mmlu_pro_fewshot_example(*fewshot[i]);
  return format_template(kSystemWithExamples, {{"subject", item.category}, {"examples", examples}}) + "\n" + prompt;
}

}  // namespace qb::eval
