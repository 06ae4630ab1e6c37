// lm-evaluation-harness 0.4.13 task documents → requests (see lm_eval_tasks.h).
#include "steps/eval/lm_eval_tasks.h"

#include <algorithm>

#include <fmt/format.h>
#include <utf8proc.h>

#include "steps/eval/py_regex.h"
#include "steps/eval/py_text.h"
#include "steps/eval/rows.h"
#include "util/fs.h"

namespace qb::eval {

namespace stdfs = std::filesystem;
using nlohmann::json;

TaskSplit lm_eval_split(std::string_view task) {
  if (task == "arc_challenge") return {"ARC-Challenge", "test"};
  if (task == "arc_easy") return {"ARC-Easy", "test"};
  if (task == "winogrande") return {"winogrande_xl", "validation"};
  if (task == "wikitext") return {"wikitext-2-raw-v1", "test"};
  return {"default", "validation"};  // hellaswag, piqa (no config on the Hub)
}

int64_t py_len(std::string_view s) { return static_cast<int64_t>(py::code_points(s).size()); }

std::string py_capitalize(std::string_view s) {
  // Python 3.8+: the first character title-cased, the rest lower-cased (simple case mappings
  // here; Python's full mappings differ only for a few characters such as U+0130).
  std::string out;
  bool first = true;
  for (const auto& c : py::code_points(s)) {
    const auto cp = static_cast<utf8proc_int32_t>(c.cp);
    out += py::encode_utf8(static_cast<char32_t>(first ? utf8proc_totitle(cp) : utf8proc_tolower(cp)));
    first = false;
  }
  return out;
}

std::string hellaswag_preprocess(std::string_view text) {
  // tasks/hellaswag/utils.py:
  //   text = text.strip()
  //   text = text.replace(" [title]", ". ")
  //   text = re.sub("\\[.*?\\]", "", text)
  //   text = text.replace("  ", " ")
  static const py::Regex kBrackets(R"(\[.*?\])");
  std::string t = py::strip(text);
  t = py::replace_all(t, " [title]", ". ");
  t = kBrackets.sub(t, std::string_view(""));
  return py::replace_all(t, "  ", " ");
}

std::string wikitext_detokenize(std::string_view page) {
  // tasks/wikitext/preprocess_wikitext.py wikitext_detokenizer, line by line.
  static const py::Regex kSlash(R"(/' [0-9]/)");
  static const py::Regex kParen(R"(\(\s*([^\)]*?)\s*\))");
  static const py::Regex kSquare(R"(\[\s*([^\]]*?)\s*\])");
  static const py::Regex kCurly(R"({\s*([^}]*?)\s*})");
  static const py::Regex kDquote(R"("\s*([^"]*?)\s*")");
  static const py::Regex kSquote(R"('\s*([^']*?)\s*')");
  std::string s(page);
  using py::replace_all;
  s = replace_all(s, "s '", "s'");
  s = kSlash.sub(s, std::string_view("/'[0-9]/"));
  s = replace_all(s, " @-@ ", "-");
  s = replace_all(s, " @,@ ", ",");
  s = replace_all(s, " @.@ ", ".");
  s = replace_all(s, " : ", ": ");
  s = replace_all(s, " ; ", "; ");
  s = replace_all(s, " . ", ". ");
  s = replace_all(s, " ! ", "! ");
  s = replace_all(s, " ? ", "? ");
  s = replace_all(s, " , ", ", ");
  s = kParen.sub(s, std::string_view(R"((\1))"));
  s = kSquare.sub(s, std::string_view(R"([\1])"));
  s = kCurly.sub(s, std::string_view(R"({\1})"));
  s = kDquote.sub(s, std::string_view(R"("\1")"));
  s = kSquote.sub(s, std::string_view(R"('\1')"));
  s = replace_all(s, "= = = =", "====");
  s = replace_all(s, "= = =", "===");
  s = replace_all(s, "= =", "==");
  s = replace_all(s, " \u00b0 ", "\u00b0");
  s = replace_all(s, " \n", "\n");
  s = replace_all(s, "\n ", "\n");
  s = replace_all(s, " N ", " 1 ");
  s = replace_all(s, " 's", "'s");
  return s;
}

int64_t count_words(std::string_view page) {
  static const py::Regex kSpaces(R"(\s+)");
  return static_cast<int64_t>(kSpaces.finditer(page).size()) + 1;
}

Result<std::string> str_field(const Row& row, const char* name) {
  auto it = row.fields.find(name);
  if (it == row.fields.end()) return invalid_argument(fmt::format("{}: missing field '{}'", row.where, name));
  if (!it->is_string())
    return invalid_argument(fmt::format("{}: field '{}': expected a string, got {}", row.where, name, it->dump()));
  return it->get<std::string>();
}

Result<std::vector<std::string>> str_list(const json& v, const std::string& where, const char* name) {
  if (!v.is_array()) return invalid_argument(fmt::format("{}: field '{}': expected a list of strings", where, name));
  std::vector<std::string> out;
  for (const auto& x : v) {
    if (!x.is_string())
      return invalid_argument(fmt::format("{}: field '{}': expected a list of strings, got {}", where, name, v.dump()));
    out.push_back(x.get<std::string>());
  }
  return out;
}

namespace {

// An integer label given as a number or a digit string ("2": hellaswag's on the Hub).
Result<int> int_label(const Row& row, const char* name, int n_choices) {
  auto it = row.fields.find(name);
  if (it == row.fields.end()) return invalid_argument(fmt::format("{}: missing field '{}'", row.where, name));
  int64_t v = -1;
  if (it->is_number_integer()) {
    v = it->get<int64_t>();
  } else if (it->is_string()) {
    const std::string text = it->get<std::string>();
    if (!text.empty() && text.size() < 6 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
      v = std::stoll(text);
  }
  if (v < 0 || v >= n_choices)
    return invalid_argument(fmt::format("{}: field '{}': expected a choice index 0..{}, got {}", row.where, name,
                                        n_choices - 1, it->dump()));
  return static_cast<int>(v);
}

void shared_context(ChoiceDoc& d, std::string context, const std::vector<std::string>& choices) {
  d.contexts = {std::move(context)};
  d.choices = choices;
  for (const auto& c : choices) d.continuations.push_back(" " + c);  // target_delimiter " "
}

Result<ChoiceDoc> arc_doc(const Row& row) {
  // doc_to_text: "Question: {{question}}\nAnswer:"; doc_to_choice: "{{choices.text}}";
  // doc_to_target: "{{choices.label.index(answerKey)}}"
  ChoiceDoc d;
  QB_ASSIGN_OR_RETURN(std::string question, str_field(row, "question"));
  QB_ASSIGN_OR_RETURN(std::string key, str_field(row, "answerKey"));
  auto ch = row.fields.find("choices");
  if (ch == row.fields.end() || !ch->is_object() || !ch->contains("text") || !ch->contains("label"))
    return invalid_argument(fmt::format("{}: field 'choices': expected {{\"text\": [...], \"label\": [...]}}", row.where));
  QB_ASSIGN_OR_RETURN(auto texts, str_list((*ch)["text"], row.where, "choices.text"));
  QB_ASSIGN_OR_RETURN(auto labels, str_list((*ch)["label"], row.where, "choices.label"));
  if (texts.size() != labels.size() || texts.size() < 2)
    return invalid_argument(fmt::format("{}: field 'choices': {} texts and {} labels (need as many, at least 2)",
                                        row.where, texts.size(), labels.size()));
  auto at = std::find(labels.begin(), labels.end(), key);
  if (at == labels.end())
    return invalid_argument(fmt::format("{}: field 'answerKey': '{}' is not among the choice labels", row.where, key));
  shared_context(d, "Question: " + question + "\nAnswer:", texts);
  d.gold = static_cast<int>(at - labels.begin());
  if (auto id = row.fields.find("id"); id != row.fields.end()) d.metadata["id"] = *id;
  return d;
}

Result<ChoiceDoc> hellaswag_doc(const Row& row) {
  // process_docs: ctx = ctx_a + " " + ctx_b.capitalize();
  //   query = preprocess(activity_label + ": " + ctx); choices = [preprocess(e) for e in endings]
  ChoiceDoc d;
  QB_ASSIGN_OR_RETURN(std::string label, str_field(row, "activity_label"));
  QB_ASSIGN_OR_RETURN(std::string ctx_a, str_field(row, "ctx_a"));
  QB_ASSIGN_OR_RETURN(std::string ctx_b, str_field(row, "ctx_b"));
  auto en = row.fields.find("endings");
  if (en == row.fields.end()) return invalid_argument(fmt::format("{}: missing field 'endings'", row.where));
  QB_ASSIGN_OR_RETURN(auto endings, str_list(*en, row.where, "endings"));
  if (endings.size() < 2) return invalid_argument(fmt::format("{}: field 'endings': fewer than 2 endings", row.where));
  std::vector<std::string> choices;
  for (const auto& e : endings) choices.push_back(hellaswag_preprocess(e));
  shared_context(d, hellaswag_preprocess(label + ": " + ctx_a + " " + py_capitalize(ctx_b)), choices);
  QB_ASSIGN_OR_RETURN(d.gold, int_label(row, "label", static_cast<int>(choices.size())));
  if (auto id = row.fields.find("ind"); id != row.fields.end()) d.metadata["ind"] = *id;
  return d;
}

Result<ChoiceDoc> winogrande_doc(const Row& row) {
  // preprocess_winogrande.py: idx = sentence.index("_"); contexts (doc_to_choice) =
  // [sentence[:idx] + option1, sentence[:idx] + option2]; target = sentence[idx+1:].strip();
  // gold (doc_to_text) = {"1": 0, "2": 1}[answer]
  ChoiceDoc d;
  QB_ASSIGN_OR_RETURN(std::string sentence, str_field(row, "sentence"));
  QB_ASSIGN_OR_RETURN(std::string o1, str_field(row, "option1"));
  QB_ASSIGN_OR_RETURN(std::string o2, str_field(row, "option2"));
  QB_ASSIGN_OR_RETURN(std::string answer, str_field(row, "answer"));
  const size_t idx = sentence.find('_');
  if (idx == std::string::npos)
    return invalid_argument(fmt::format("{}: field 'sentence': no blank '_' to fill", row.where));
  if (answer != "1" && answer != "2")
    return invalid_argument(fmt::format("{}: field 'answer': expected \"1\" or \"2\", got \"{}\"", row.where, answer));
  d.contexts = {sentence.substr(0, idx) + o1, sentence.substr(0, idx) + o2};
  d.choices = d.contexts;
  const std::string target = " " + py::strip(std::string_view(sentence).substr(idx + 1));
  d.continuations = {target, target};
  d.gold = answer == "1" ? 0 : 1;
  return d;
}

Result<ChoiceDoc> piqa_doc(const Row& row) {
  // doc_to_text: "Question: {{goal}}\nAnswer:"; doc_to_choice: "{{[sol1, sol2]}}"; target: label
  ChoiceDoc d;
  QB_ASSIGN_OR_RETURN(std::string goal, str_field(row, "goal"));
  QB_ASSIGN_OR_RETURN(std::string sol1, str_field(row, "sol1"));
  QB_ASSIGN_OR_RETURN(std::string sol2, str_field(row, "sol2"));
  shared_context(d, "Question: " + goal + "\nAnswer:", {sol1, sol2});
  QB_ASSIGN_OR_RETURN(d.gold, int_label(row, "label", 2));
  return d;
}

}  // namespace

Result<std::vector<ChoiceDoc>> load_choice_docs(const stdfs::path& root, std::string_view task, FileFormat format) {
  Result<ChoiceDoc> (*make)(const Row&) = nullptr;
  if (task == "arc_challenge" || task == "arc_easy") make = arc_doc;
  else if (task == "hellaswag") make = hellaswag_doc;
  else if (task == "winogrande") make = winogrande_doc;
  else if (task == "piqa") make = piqa_doc;
  else return invalid_argument(fmt::format("'{}' is not a multiple-choice task", task));
  const TaskSplit ts = lm_eval_split(task);
  QB_ASSIGN_OR_RETURN(SplitFiles sf, find_hf_split(root, ts.config, ts.split, format));
  QB_ASSIGN_OR_RETURN(std::vector<Row> rows, read_split_rows(root, sf));
  std::vector<ChoiceDoc> out;
  for (const Row& row : rows) {
    QB_ASSIGN_OR_RETURN(ChoiceDoc d, make(row));
    d.index = static_cast<int64_t>(out.size());
    d.where = row.where;
    out.push_back(std::move(d));
  }
  if (out.empty())
    return invalid_argument(fmt::format("dataset '{}': split '{}' in '{}' has no items (empty files?)", task, ts.split,
                                        root.string()));
  return out;
}

namespace {

PerplexityDoc perplexity_doc(std::string page, std::string where, bool detokenize) {
  PerplexityDoc d;
  d.where = std::move(where);
  d.words = count_words(page);
  d.bytes = static_cast<int64_t>(page.size());
  d.text = detokenize ? wikitext_detokenize(page) : std::move(page);
  return d;
}

// The generic perplexity kind: *.txt (one document each) and *.jsonl ({"text": ...} per line).
Result<std::vector<PerplexityDoc>> plain_documents(const stdfs::path& root, FileFormat format) {
  std::error_code ec;
  if (!stdfs::is_directory(root, ec))
    return not_found(fmt::format("dataset folder '{}' does not exist (see data/HELP.md)", root.string()));
  std::vector<stdfs::path> files;
  for (const auto& e : stdfs::directory_iterator(root, ec))
    if (e.is_regular_file() && (e.path().extension() == ".txt" || e.path().extension() == ".jsonl")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<PerplexityDoc> out;
  const std::string base = root.filename().string();
  for (const auto& f : files) {
    const std::string display = base + "/" + f.filename().string();
    if (f.extension() == ".txt") {
      if (format != FileFormat::kAuto) continue;  // format: jsonl picks the JSONL files only
      QB_ASSIGN_OR_RETURN(std::string text, fs::read_file(f));
      out.push_back(perplexity_doc(py::sanitize_utf8(text), display, false));
      continue;
    }
    if (format != FileFormat::kAuto && format != FileFormat::kJsonl) continue;
    QB_ASSIGN_OR_RETURN(std::vector<Row> rows, read_jsonl_rows(f, display));
    for (const Row& row : rows) {
      QB_ASSIGN_OR_RETURN(std::string text, str_field(row, "text"));
      out.push_back(perplexity_doc(std::move(text), row.where, false));
    }
  }
  if (out.empty())
    return invalid_argument(fmt::format("dataset folder '{}': no documents (expected *.txt files or *.jsonl files of "
                                        "{{\"text\": ...}} lines)",
                                        root.string()));
  return out;
}

}  // namespace

Result<std::vector<PerplexityDoc>> load_perplexity_docs(const stdfs::path& root, std::string_view task,
                                                        FileFormat format) {
  std::vector<PerplexityDoc> out;
  if (task == "perplexity") {
    QB_ASSIGN_OR_RETURN(out, plain_documents(root, format));
  } else if (task == "wikitext") {
    const TaskSplit ts = lm_eval_split(task);
    QB_ASSIGN_OR_RETURN(SplitFiles sf, find_hf_split(root, ts.config, ts.split, format));
    QB_ASSIGN_OR_RETURN(std::vector<Row> rows, read_split_rows(root, sf));
    for (const Row& row : rows) {
      QB_ASSIGN_OR_RETURN(std::string page, str_field(row, "page"));
      out.push_back(perplexity_doc(std::move(page), row.where, true));
    }
    if (out.empty()) return invalid_argument(fmt::format("dataset 'wikitext': no documents in '{}'", root.string()));
  } else {
    return invalid_argument(fmt::format("'{}' is not a perplexity task", task));
  }
  for (size_t i = 0; i < out.size(); ++i) out[i].index = static_cast<int64_t>(i);
  return out;
}

}  // namespace qb::eval
