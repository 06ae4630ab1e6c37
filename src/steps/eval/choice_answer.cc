// Port of evalscope 1.12.0 parse_answers() (single answer); see choice_answer.h.
#include "steps/eval/choice_answer.h"

#include <set>

#include "steps/eval/py_regex.h"
#include "steps/eval/py_text.h"

namespace qb::eval {

namespace {

const py::Regex& marker_re() {
  static const py::Regex re(R"(ANSWER\s*:\s*\**\s*)", /*ignore_case=*/true);
  return re;
}
const py::Regex& bracketed_label_re() {
  static const py::Regex re(R"([\(\[（【]\s*([A-Za-z\d](?:\s*[,，/、]\s*[A-Za-z\d])*)\s*[\)\]）】])");
  return re;
}
const py::Regex& plain_label_re() {
  static const py::Regex re(R"(([A-Za-z\d][A-Za-z\d ,/、]*))");
  return re;
}
const py::Regex& label_token_re() {
  static const py::Regex re(R"([A-Za-z\d]+)");
  return re;
}

bool is_label_word(const std::string& word, const std::set<std::string>& allowed) {
  if (allowed.count(word)) return true;
  // set(word).issubset(allowed): every character is an allowed (one-character) label.
  for (const py::CodePoint& p : py::code_points(word)) {
    if (!allowed.count(word.substr(p.offset, p.size))) return false;
  }
  return true;
}

std::string label_prefix(const std::string& capture, const std::set<std::string>& allowed) {
  std::vector<py::Match> tokens = label_token_re().finditer(capture);
  size_t end = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string word = tokens[i].group(capture);
    if (is_label_word(word, allowed)) {
      end = tokens[i].end();
      continue;
    }
    bool follows_label = end > 0;
    bool precedes_label = i + 1 < tokens.size() && is_label_word(tokens[i + 1].group(capture), allowed);
    std::string lower = py::lower_ascii(word);
    if (follows_label && precedes_label && (lower == "and" || lower == "or")) continue;
    break;
  }
  return capture.substr(0, end);
}

std::optional<std::string> last_labelled_answer(const std::string& text, const std::set<std::string>& allowed) {
  std::vector<py::Match> markers = marker_re().finditer(text);
  for (size_t k = markers.size(); k-- > 0;) {
    size_t tail = markers[k].end();
    for (const py::Regex* re : {&bracketed_label_re(), &plain_label_re()}) {
      auto label = re->match(text, tail);
      if (!label) continue;
      std::string prefix = label_prefix(label->group(text, 1), allowed);
      if (!prefix.empty()) return prefix;
    }
  }
  return std::nullopt;
}

}  // namespace

ChoiceExtraction extract_choice_answer_traced(std::string_view completion, int num_choices) {
  const std::string text = py::sanitize_utf8(completion);
  std::set<std::string> allowed;
  for (int i = 0; i < num_choices && i < 26; ++i) allowed.insert(std::string(1, static_cast<char>('A' + i)));

  ChoiceExtraction x;
  std::optional<std::string> matched = last_labelled_answer(text, allowed);
  if (!matched) {
    auto cps = py::code_points(text);
    for (size_t k = cps.size(); k-- > 0;) {
      if (py::is_upper(cps[k].cp)) {
        std::string letter = text.substr(cps[k].offset, cps[k].size);
        x.rule = allowed.count(letter) ? "last capital letter" : "last capital letter '" + letter + "' is no option";
        x.letter = allowed.count(letter) ? letter : "";
        return x;
      }
    }
    x.rule = "no ANSWER label and no capital letter";
    return x;
  }
  std::string m = py::rstrip_chars(py::strip(*matched), ".");
  x.rule = allowed.count(m) ? "ANSWER: label" : "ANSWER: label '" + m + "' is not one option";
  x.letter = allowed.count(m) ? m : "";
  return x;
}

std::string extract_choice_answer(std::string_view completion, int num_choices) {
  return extract_choice_answer_traced(completion, num_choices).letter;
}

bool exact_match(std::string_view prediction, std::string_view reference) {
  return py::lower_ascii(py::strip(prediction)) == py::lower_ascii(py::strip(reference));
}

std::string remove_until(std::string_view text, std::string_view delimiter) {
  size_t at = text.find(delimiter);
  if (delimiter.empty() || at == std::string_view::npos) return std::string(text);
  return std::string(text.substr(at + delimiter.size()));
}

}  // namespace qb::eval
