// latex2sympy2_extended 1.11.0's latex2sympy(s) with its defaults (NormalizationConfig:
// basic_latex, boxed="all"; ConversionConfig: mixed fractions on, lowercase symbols), the last
// of evalscope's three parsers in symbolic_equal and the one that reads LaTeX answers.
//
// latex2sympy normalizes the text (boxed contents, \left/\right, $ and quotes, \dfrac, "\ .",
// percent words...), lexes and parses it with an ANTLR grammar (PS.g4) and converts the tree to
// unevaluated SymPy objects. The parts that decide answers:
//   - implicit multiplication is a right fold, and an Integer followed by a positive Rational is a
//     mixed number: "2\frac{1}{2}" = 5/2, "-2\frac{1}{2}" = -5/2, but also "2(3)" = 5 and
//     "{1}{2}" = 3 (the Rational check sees Integers too); "3\sqrt{2}" and "2\pi" multiply;
//   - "a/b" and "\frac{a}{b}" of two Integers are Rationals; ":" divides ("3:30" = 1/10);
//   - "^" takes an atom or a braced expression: "2^{10}" = 1024, "2^10" = 1024, "2^-1" fails;
//     powers are left-associative ("2^3^2" = 64); "e" is Euler's number, "e^{x}" exp(x);
//   - "−" (U+2212), "×", "⋅", "÷", "π", "≈" are operators / constants like their commands;
//   - a top-level list ("1,2", "1;2", "\pm 3") or a braced group ("{18}") is a set, "(18)"
//     and "[18]" are 18; "x\approx 5" is 5 and "\frac{10}{3}\approx 3.33" is 10/3;
//   - "3\%" raises (the converter trips over PERCENT_NUMBER); unknown commands raise.
// Modelled: numbers, E-notation, + - * / : \times \cdot \div \over, \frac family, \sqrt[n]{},
// ^ (and degree / transpose marks, ignored), !, |x|, groups, \boxed / \phantom, \pi, e, \infty,
// letters and accents as symbols ("\text{pi}" is pi), relations, sets and tuples as non-numbers.
// Not modelled (kUnsupported): \log, \ln, \sin and the other functions, \binom, \lfloor/\lceil,
// \max/\min, sums, integrals, limits, matrices, \mod, set operations, \gamma.
#pragma once

#include <string>
#include <string_view>

#include "steps/eval/sympy_value.h"

namespace qb::eval::sym {

Parsed parse_latex_expr(std::string_view s);

// latex2sympy2_extended's normalize_latex with the default NormalizationConfig (exposed for tests).
std::string normalize_latex(std::string_view s);

}  // namespace qb::eval::sym
