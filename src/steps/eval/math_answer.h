// Math answer extraction and comparison for GSM8K, a port of evalscope 1.12.0's
// evalscope/metrics/math/parser.py (itself from the Qwen2.5-Math evaluation code), as
// GSM8KAdapter.extract_answer and Accuracy(numeric=True) call it:
//   prediction = extract_answer(model output); reference = strip_answer_string(target);
//   correct    = math_equal(prediction, reference).
//
// extract_answer, in order: "final answer is $…$. I hope" (Minerva); the text after the last
// "boxed" (brace-balanced when it starts with '{', else up to the next '$'); after the last
// "he answer is"; after the last "final answer is"; after the first "答案是" up to a blank line;
// after the last "ANSWER:"; else the last number (regex -?\d*\.?\d+ with commas removed). Then
// line breaks are joined, one leading ':' and one trailing '.' or '/' dropped, and the result
// normalized by strip_answer_string (units, \text{}, \frac fixes, word numbers via word2number
// 1.1, x= prefixes, trailing ".0", sorted integer lists, …) — every step ported.
//
// math_equal: equal strings (case-folded); a letter reference A–E against choice_answer_clean;
// numbers (commas removed, a trailing % divided by 100) equal within rel_tol 1e-4 to the
// reference, reference/100 or reference*100; brackets and braces dropped; bracketed tuples and
// pmatrix matrices element-wise; "x=…" sides; then SymPy's symbolic_equal, ported in
// symbolic_equal.h (parse_expr and latex2sympy for constant expressions: powers such as
// "2^{10}", mixed numbers such as "2\frac{1}{2}", the Unicode minus "−", \sqrt, \pi, ...).
// tests/golden/eval/answers.json and tests/golden/eval/scorer_oracle.json (made by evalscope
// 1.12.0) pin the behaviour.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace qb::eval {

std::string extract_math_answer(std::string_view prediction);

// The extraction with the rule that fired ("last boxed", "the answer is", "final answer is",
// "答案是", "ANSWER:", "last number", "no number", or the Minerva "final answer is $…$. I hope")
// and the text it took before strip_answer_string.
struct MathExtraction {
  std::string answer;
  std::string rule;
  std::string raw;
};
MathExtraction extract_math_answer_traced(std::string_view prediction);

// math_equal with the rule that decided ("numeric", "same text", "symbolic: …", or why not).
struct MathVerdict {
  bool equal = false;
  std::string rule;
};
MathVerdict math_equal_traced(std::string_view prediction, std::string_view reference);
std::string strip_answer_string(std::string_view s);
bool math_equal(std::string_view prediction, std::string_view reference);

// The whole GSM8K scoring: extract from the model output, normalize the target, compare.
bool gsm8k_correct(std::string_view output, std::string_view target);

// word2number 1.1's w2n.word_to_num as evalscope's convert_word_number uses it: the number
// the words spell ("one hundred and five" -> "105"), or the text unchanged when it raises.
std::string convert_word_number(std::string_view text);

// Python float() of a string (whitespace, sign, '_' between digits, inf/nan, exponent).
std::optional<double> py_float(std::string_view s);

}  // namespace qb::eval
