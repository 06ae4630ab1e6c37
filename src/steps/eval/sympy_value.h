// The value of a SymPy object as evalscope's symbolic_equal sees it (evalscope 1.12.0,
// evalscope/metrics/math/parser.py): what float(N(x)) gives, plus the few facts about the
// object's SymPy class that the two parsers in front of it branch on (is_Integer, is_Rational,
// func.is_Number, and the exact p/q of a Rational).
//
// Why a value and not a SymPy port: symbolic_equal(a, b) is, for two constant expressions,
//   str(a) == str(b) or a == b  or  a.equals(b)  or  simplify(a - b) == 0
//   or isclose(float(N(a)), float(N(b)), rel_tol=1e-4)
// and every one of the first four implies the last for finite real constants. GSM8K references
// are numbers, so deciding an answer needs only the prediction's numeric value and whether SymPy
// can give one at all. Expressions with free symbols, sets, tuples, relations and functions
// SymPy does not evaluate have no value (kSymbolic): float(N(·)) raises for them.
//
// Exactness: Integer and Rational carry p/q in 128-bit integers; a result that overflows keeps
// its kind but drops to a double (exact() false), which only matters for the Python parser's
// integer-only operators (^ & | << >> ~ // %) and the LaTeX parser's mixed-fraction rule; both
// treat an inexact integer as unsupported rather than guess.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qb::eval::sym {

using Int = __int128;

class Value {
 public:
  enum class Kind : uint8_t {
    kInteger,          // sympy Integer
    kRational,         // sympy Rational with q > 1
    kFloat,            // sympy Float
    kReal,             // any other real constant: an unevaluated Add/Mul/Pow of numbers, pi, E, sqrt(2)
    kInfinity,         // oo or -oo
    kComplexInfinity,  // zoo (a nonzero number over zero)
    kNaN,              // nan (0/0, oo - oo)
    kNonReal,          // a complex constant: I, 3*I, (-8)**(1/3)
    kSymbolic,         // free symbols, sets, tuples, relations, unevaluated functions: N() gives no float
  };

  static Value integer(Int p);
  static Value inexact_integer(double v);
  // sympy.Rational(p, q): reduced, sign on p; q == 0 gives zoo (nan for 0/0). An integer when q | p.
  static Value rational(Int p, Int q);
  static Value flt(double v);
  static Value real(double v);  // kReal, or kInfinity / kNaN when v is one
  static Value infinity(bool negative);
  static Value complex_infinity();
  static Value nan();
  static Value non_real();
  static Value symbolic();

  Kind kind() const { return kind_; }
  bool exact() const { return exact_; }
  Int p() const { return p_; }
  Int q() const { return q_; }
  double value() const { return v_; }

  bool is_Integer() const { return kind_ == Kind::kInteger; }
  bool is_Rational() const { return kind_ == Kind::kInteger || kind_ == Kind::kRational; }
  // SymPy's is_Number: numeric atoms (Integer, Rational, Float, oo, zoo, nan).
  bool is_Number() const;
  bool is_exact_rational() const { return is_Rational() && exact_; }
  // A real number (finite or infinite): arithmetic on it has a value.
  bool is_real() const;

  // float(N(x)): the value, NaN for nan; nullopt where SymPy raises (zoo, complex, symbolic).
  std::optional<double> to_float() const;

 private:
  static Value finite(Kind kind, double d);  // nan / inf become kNaN / kInfinity

  Kind kind_ = Kind::kSymbolic;
  bool exact_ = false;
  Int p_ = 0, q_ = 1;
  double v_ = 0;
};

// Exact 128-bit arithmetic helpers (nullopt on overflow).
std::optional<Int> checked_add(Int a, Int b);
std::optional<Int> checked_mul(Int a, Int b);
std::optional<Int> checked_pow(Int base, uint64_t exp);
// The integer a run of ASCII digits in `base` (2, 8, 10 or 16) spells; nullopt on overflow.
std::optional<Int> parse_digits_int(std::string_view digits, int base = 10);
Int gcd(Int a, Int b);
double to_double(Int v);
// Decimal text of an exact integer.
std::string_view int_to_string(Int v, char (&buf)[48]);

// What one of the two parsers made of a string. kError: the Python function raises, so
// evalscope's _parse moves on to the next parser (or keeps the text). kUnsupported: the string
// uses something this port does not model (a SymPy function it does not evaluate, a container
// operation); the comparison then reports "unsupported" and counts as not equal.
struct Parsed {
  enum class Outcome : uint8_t { kOk, kError, kUnsupported };
  Outcome outcome = Outcome::kError;
  Value value;
  std::string note;  // for kError / kUnsupported: what stopped it
  // str() of the object where this port knows it: numbers SymPy evaluated (Integer "18",
  // Rational "1/2", Float "2.50000000000000") and lone symbols ("x", or "18" for \mathrm{18},
  // which is how Symbol('18') equals Integer 18 in evalscope's str(a) == str(b)); else empty.
  std::string str;
  // A Python bool (parse_expr of "a == b" or "a != b"): 0 or 1; -1 otherwise. It equals the
  // Integer 0 or 1 in evalscope's a == b check although N() cannot evaluate it.
  int py_bool = -1;

  static Parsed ok(Value v, std::string str = "") { return {Outcome::kOk, v, "", std::move(str), -1}; }
  static Parsed error(std::string why) { return {Outcome::kError, Value::symbolic(), std::move(why), "", -1}; }
  static Parsed unsupported(std::string why) { return {Outcome::kUnsupported, Value::symbolic(), std::move(why), "", -1}; }
};

// SymPy's str() of an evaluated number (Integer, Rational, Float); empty for other values.
std::string number_str(const Value& v);

// ---- evaluated arithmetic (what SymPy does with evaluate=True, as parse_expr builds) ----------
// The operators that can raise TypeError/ZeroDivisionError in Python return nullopt then.
namespace evaluated {
Value add(const Value& a, const Value& b);
Value sub(const Value& a, const Value& b);
Value mul(const Value& a, const Value& b);
Value div(const Value& a, const Value& b);
Value neg(const Value& a);
Value pow(const Value& base, const Value& exp);
std::optional<Value> floordiv(const Value& a, const Value& b);
std::optional<Value> mod(const Value& a, const Value& b);
// Python's ^ & | << >> and ~ on sympy Integers (TypeError for anything else).
std::optional<Value> bit_xor(const Value& a, const Value& b);
std::optional<Value> bit_and(const Value& a, const Value& b);
std::optional<Value> bit_or(const Value& a, const Value& b);
std::optional<Value> shift(const Value& a, const Value& b, bool left);
std::optional<Value> invert(const Value& a);
Value factorial(const Value& a);
Value factorial2(const Value& a);
}  // namespace evaluated

// ---- unevaluated arithmetic (sympy.Add/Mul/Pow(..., evaluate=False), as latex2sympy builds) ----
// The result is a kReal node (or a special value) whose float is what N() computes.
namespace unevaluated {
Value add(const Value& a, const Value& b);
Value mul(const Value& a, const Value& b);
Value pow(const Value& base, const Value& exp);
Value inverse(const Value& a);  // Pow(a, -1)
Value factorial(const Value& a);
Value abs(const Value& a);
Value mod(const Value& a, const Value& b);
}  // namespace unevaluated

}  // namespace qb::eval::sym
