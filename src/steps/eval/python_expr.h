// SymPy's parse_expr(s) (sympy 1.14, standard transformations, evaluate=True) for the strings
// evalscope's symbolic_equal hands it: the second of its parsers (sympy's own parse_latex always
// raises there, because evalscope pins an antlr4 runtime other than the 4.11 that SymPy's LaTeX
// grammar needs).
//
// parse_expr tokenizes the text as Python, rewrites the tokens (numbers become Integer(...) /
// Float(...), unknown names Symbol(...) or Function(...), "n!" factorial(n), "n!!"
// factorial2(n)), then evaluates it as a Python expression. What that means for answers:
//   "2^10"  is Python's XOR of two Integers: 8      "10^6" is 12      "2.5^2" raises (Float ^)
//   "2**10" is 1024   "7.5/3" is 2.5   "1/2" is Rational(1, 2)   "5!" is 120   "2(3)" raises
//   "2^{10}" raises (an Integer XOR a set), so latex2sympy gets it; so does any text with a
//   backslash, a Unicode minus, or two juxtaposed operands ("5apples", "2x", "3 4").
// Modelled: Python's number literals and precedence (| ^ & << >> + - * / // % ** unary ~ + -),
// parentheses, tuples, lists, sets and dicts (as non-numbers), comparisons (non-numbers),
// names (Symbols, and SymPy's constants E, I, pi, oo, zoo, nan, EulerGamma, Catalan,
// GoldenRatio, TribonacciConstant), the functions sqrt, exp, log, ln, Abs, abs, factorial,
// floor, ceiling, Max/Min/max/min, round, and the factorial notation.
// Not modelled (kUnsupported): other SymPy functions, subscripts, attributes, strings,
// keywords, repeated decimals "0.[3]", arithmetic between containers and numbers that Python
// would allow (list repetition).
#pragma once

#include <string_view>

#include "steps/eval/sympy_value.h"

namespace qb::eval::sym {

struct PythonExprOptions {
  // sympify(text) — what N() does with a string — adds convert_xor ("^" is "**") and, for N's
  // rational=True, rationalize (float literals become Rationals).
  bool convert_xor = false;
  bool rationalize = false;
};

Parsed parse_python_expr(std::string_view s, const PythonExprOptions& options = {});

}  // namespace qb::eval::sym
