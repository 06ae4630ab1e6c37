// evalscope 1.12.0's symbolic_equal(a, b) (evalscope/metrics/math/parser.py), the last resort of
// math_equal once neither side is a plain number:
//
//   _parse(s): the first of parse_latex, parse_expr, latex2sympy that does not raise, each tried
//              on s with "\\" collapsed to "\" and then on s; else the text itself.
//              parse_latex always raises under evalscope's pins (see python_expr.h).
//   equal:     str(a) == str(b) or a == b, a.equals(b) or simplify(a - b) == 0,
//              or isclose(float(N(a)), float(N(b)), rel_tol=1e-4).
//
// What this port decides exactly: identical texts (same parse, same str), every pair of
// constant expressions (their values; see sympy_value.h for why that covers the first checks),
// zoo against zoo (a == b), and a side left as text, whose N() is sympify(text) — parse_expr
// with "^" read as "**" ("2.5^-1" is 0.4 there although both parsers rejected it).
// What it does not: expressions with free symbols are never equal unless their texts are
// identical (SymPy's simplify would prove "x+1" equal to "1+x"); GSM8K references are numbers,
// so this never decides a GSM8K answer. Parses outside the modelled subset report kUnsupported.
//
// Why no computer-algebra library (SymEngine, GiNaC): what decides evalscope's verdicts is not
// algebra but how its two parsers read the text — "2^10" is a Python XOR, "2(3)" a mixed number,
// "{18}" a set, "3\%" an error — and a CAS would read all of them "correctly", i.e. differently.
// Once parsed, the comparison needs only the value of a constant expression, which doubles give
// to far better than the 1e-4 relative tolerance. So the two parsers are ported and no library
// is needed.
#pragma once

#include <string>
#include <string_view>

namespace qb::eval {

struct SymbolicVerdict {
  enum class Outcome { kEqual, kNotEqual, kUnsupported };
  Outcome outcome = Outcome::kNotEqual;
  std::string detail;  // e.g. "latex2sympy: 2.5 vs parse_expr: 2.5", or what was not modelled
  bool equal() const { return outcome == Outcome::kEqual; }
};

SymbolicVerdict symbolic_equal(std::string_view a, std::string_view b);

}  // namespace qb::eval
