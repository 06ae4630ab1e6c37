// evalscope's symbolic_equal over the two parser ports (see symbolic_equal.h).
#include "steps/eval/symbolic_equal.h"

#include <cmath>

#include <fmt/format.h>

#include "steps/eval/latex_expr.h"
#include "steps/eval/py_text.h"
#include "steps/eval/python_expr.h"

namespace qb::eval {

namespace {

using sym::Parsed;
using sym::Value;

struct Side {
  enum class Kind { kObject, kText, kUnsupported };
  Kind kind = Kind::kText;
  Value value;          // kObject: the parsed value; kText: what N(text) gives
  std::string parser;   // "parse_expr" / "latex2sympy" / "text"
  std::string note;     // kUnsupported
  std::string str;      // str() of the object where known; the text itself for kText
  int py_bool = -1;     // a Python bool's 0 / 1
};

// _parse(s): parse_expr, then latex2sympy, each on s with "\\" -> "\" first and then on s.
Side parse_side(std::string_view s) {
  std::string collapsed = py::replace_all(s, "\\\\", "\\");
  for (int which = 0; which < 2; ++which) {
    for (const std::string& text : {collapsed, std::string(s)}) {
      Parsed p = which == 0 ? sym::parse_python_expr(text) : sym::parse_latex_expr(text);
      const char* name = which == 0 ? "parse_expr" : "latex2sympy";
      if (p.outcome == Parsed::Outcome::kOk) return Side{Side::Kind::kObject, p.value, name, "", p.str, p.py_bool};
      if (p.outcome == Parsed::Outcome::kUnsupported) {
        return Side{Side::Kind::kUnsupported, Value::symbolic(), name, p.note, "", -1};
      }
    }
  }
  // Left as text: N(text) is sympify(text, rational=True), i.e. parse_expr with convert_xor and
  // rationalize; where that raises too, no float.
  Parsed n = sym::parse_python_expr(s, {.convert_xor = true, .rationalize = true});
  if (n.outcome == Parsed::Outcome::kUnsupported) {
    return Side{Side::Kind::kUnsupported, Value::symbolic(), "N(text)", n.note, "", -1};
  }
  return Side{Side::Kind::kText, n.outcome == Parsed::Outcome::kOk ? n.value : Value::symbolic(), "text", "",
              std::string(s), -1};
}

// math.isclose(b, a, rel_tol=1e-4)
bool isclose(double a, double b) {
  if (a == b) return true;
  if (std::isinf(a) || std::isinf(b)) return false;
  double diff = std::fabs(b - a);
  return diff <= 1e-4 * std::fabs(b) || diff <= 1e-4 * std::fabs(a);
}

std::string describe(const Side& s) {
  if (s.kind == Side::Kind::kUnsupported) return fmt::format("{}: not modelled ({})", s.parser, s.note);
  auto f = s.value.to_float();
  if (f) return fmt::format("{}: {}", s.parser, *f);
  switch (s.value.kind()) {
    case Value::Kind::kComplexInfinity: return s.parser + ": zoo";
    case Value::Kind::kNonReal: return s.parser + ": not real";
    default: return s.parser + ": no number";
  }
}

}  // namespace

SymbolicVerdict symbolic_equal(std::string_view a, std::string_view b) {
  using O = SymbolicVerdict::Outcome;
  Side pa = parse_side(a), pb = parse_side(b);
  std::string detail = describe(pa) + " vs " + describe(pb);
  // Identical texts parse identically: str(a) == str(b).
  if (a == b) return {O::kEqual, "identical text"};
  if (pa.kind == Side::Kind::kUnsupported || pb.kind == Side::Kind::kUnsupported) return {O::kUnsupported, detail};
  // str(a) == str(b): e.g. \mathrm{18} is Symbol('18'), printed like Integer 18.
  if (!pa.str.empty() && pa.str == pb.str) return {O::kEqual, "same str(): " + pa.str};
  // a == b between a Python bool and the Integer 0 or 1 (True == Integer(1)).
  for (const auto& [x, y] : {std::pair{&pa, &pb}, std::pair{&pb, &pa}}) {
    if (x->py_bool >= 0 && y->kind == Side::Kind::kObject && y->value.is_Integer() && y->value.exact() &&
        y->value.p() == x->py_bool) {
      return {O::kEqual, "a Python bool equals the integer " + std::to_string(x->py_bool)};
    }
  }
  // a == b for two parsed zoo (the singleton compares equal to itself).
  if (pa.kind == Side::Kind::kObject && pb.kind == Side::Kind::kObject &&
      pa.value.kind() == Value::Kind::kComplexInfinity && pb.value.kind() == Value::Kind::kComplexInfinity) {
    return {O::kEqual, detail};
  }
  auto fa = pa.value.to_float(), fb = pb.value.to_float();
  if (fa && fb && isclose(*fa, *fb)) return {O::kEqual, detail};
  return {O::kNotEqual, detail};
}

}  // namespace qb::eval
