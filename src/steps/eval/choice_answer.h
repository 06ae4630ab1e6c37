// Multiple-choice answer extraction, a port of evalscope 1.12.0's
// evalscope/utils/multi_choices.py parse_answers() for single-answer questions (MMLU), as
// MultiChoiceAdapter.extract_answer calls it:
//   1. Scan the "ANSWER:" markers (regex (?i)ANSWER\s*:\s*\**\s*) from the last one back; after
//      a marker try a bracketed label [\(\[（【]\s*([A-Za-z\d](?:\s*[,，/、]\s*[A-Za-z\d])*)\s*[\)\]）】]
//      then a plain one ([A-Za-z\d][A-Za-z\d ,/、]*); keep the leading run of tokens that are
//      labels (letters of the allowed options; "and"/"or" between two labels is stepped over).
//      The first marker (from the end) with a non-empty run wins.
//   2. With no such marker, the last uppercase character of the text decides: it is the answer if
//      it is an allowed letter, otherwise there is no answer.
//   3. The run, stripped and without trailing '.', must be exactly one allowed letter; anything
//      else ("AB", "B and C") is no answer — no fallback then.
// Returns the letter, or "" for no answer (scored wrong, like evalscope's empty set).
#pragma once

#include <string>
#include <string_view>

namespace qb::eval {

// `num_choices` options labelled A, B, C, …  (MMLU: 4).
std::string extract_choice_answer(std::string_view completion, int num_choices = 4);

// The extraction with the rule that decided: "ANSWER: label", "last capital letter", or why
// there is no answer.
struct ChoiceExtraction {
  std::string letter;  // "" for no answer
  std::string rule;
};
ChoiceExtraction extract_choice_answer_traced(std::string_view completion, int num_choices = 4);

// evalscope's Accuracy (exact_match): normalize_text(a) == normalize_text(b), where
// normalize_text is strip() + lower().
bool exact_match(std::string_view prediction, std::string_view reference);

// evalscope's RemoveUntilFilter (`filters: {remove_until: '</think>'}`): the text after the
// first `delimiter`, or the whole text when it does not occur.
std::string remove_until(std::string_view text, std::string_view delimiter);

}  // namespace qb::eval
