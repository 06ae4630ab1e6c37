// SymPy values and the arithmetic of the two parsers (see sympy_value.h).
#include "steps/eval/sympy_value.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

namespace qb::eval::sym {

namespace {

using Kind = Value::Kind;

bool is_special(const Value& v) {
  return v.kind() == Kind::kSymbolic || v.kind() == Kind::kNonReal || v.kind() == Kind::kComplexInfinity ||
         v.kind() == Kind::kNaN;
}

// The result of combining specials the way SymPy's N() ends up: a symbol anywhere leaves no
// number; a complex part is not real; zoo absorbs finite numbers; nan absorbs everything numeric.
Value combine_special(const Value& a, const Value& b) {
  if (a.kind() == Kind::kSymbolic || b.kind() == Kind::kSymbolic) return Value::symbolic();
  if (a.kind() == Kind::kNonReal || b.kind() == Kind::kNonReal) return Value::non_real();
  if (a.kind() == Kind::kNaN || b.kind() == Kind::kNaN) return Value::nan();
  return Value::complex_infinity();
}

bool is_zero(const Value& v) { return v.is_real() && v.value() == 0; }

// x**zoo is nan; zoo**y is zoo, 0 or 1 by the sign of a real y.
std::optional<Value> complex_infinity_power(const Value& base, const Value& exp) {
  if (exp.kind() == Kind::kComplexInfinity) return Value::nan();
  if (base.kind() == Kind::kComplexInfinity && exp.is_real()) {
    if (exp.value() > 0) return Value::complex_infinity();
    if (exp.value() < 0) return Value::integer(0);
    return Value::integer(1);
  }
  return std::nullopt;
}

// A product with a special factor: SymPy's Mul makes 0 * x zero for a symbol or a complex x,
// nan for 0 * zoo, and otherwise keeps the special.
Value special_product(const Value& a, const Value& b) {
  const Value& other = is_zero(a) ? b : a;
  if (is_zero(a) || is_zero(b)) {
    if (other.kind() == Kind::kSymbolic || other.kind() == Kind::kNonReal) return Value::integer(0);
    if (other.kind() == Kind::kComplexInfinity || other.kind() == Kind::kNaN) return Value::nan();
  }
  return combine_special(a, b);
}

// n^(1/k) when n >= 0 is a perfect k-th power.
std::optional<Int> exact_root(Int n, uint64_t k) {
  if (n < 0 || k == 0) return std::nullopt;
  if (n < 2 || k == 1) return n;
  auto guess = static_cast<Int>(std::llround(std::pow(to_double(n), 1.0 / static_cast<double>(k))));
  for (Int r = guess > 1 ? guess - 1 : 0; r <= guess + 1; ++r) {
    auto pr = checked_pow(r, k);
    if (pr && *pr == n) return r;
  }
  return std::nullopt;
}

Value exact_or_inexact_rational(std::optional<Int> p, std::optional<Int> q, double approx) {
  if (p && q) return Value::rational(*p, *q);
  return std::trunc(approx) == approx ? Value::inexact_integer(approx) : Value::real(approx);
}

double py_mod(double a, double b) {
  double r = std::fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

}  // namespace

// ---- Value ------------------------------------------------------------------------------------

Value Value::integer(Int p) {
  Value v;
  v.kind_ = Kind::kInteger;
  v.exact_ = true;
  v.p_ = p;
  v.q_ = 1;
  v.v_ = to_double(p);
  return v;
}

Value Value::inexact_integer(double d) {
  Value v;
  v.kind_ = Kind::kInteger;
  v.exact_ = false;
  v.v_ = d;
  return v;
}

Value Value::rational(Int p, Int q) {
  if (q == 0) return p == 0 ? nan() : complex_infinity();
  if (q < 0) {
    p = -p;
    q = -q;
  }
  Int g = gcd(p < 0 ? -p : p, q);
  if (g > 1) {
    p /= g;
    q /= g;
  }
  if (q == 1) return integer(p);
  Value v;
  v.kind_ = Kind::kRational;
  v.exact_ = true;
  v.p_ = p;
  v.q_ = q;
  v.v_ = to_double(p) / to_double(q);
  return v;
}

Value Value::finite(Kind kind, double d) {
  if (std::isnan(d)) return nan();
  if (std::isinf(d)) return infinity(d < 0);
  Value v;
  v.kind_ = kind;
  v.v_ = d;
  return v;
}

Value Value::flt(double d) { return finite(Kind::kFloat, d); }
Value Value::real(double d) { return finite(Kind::kReal, d); }

Value Value::infinity(bool negative) {
  Value v;
  v.kind_ = Kind::kInfinity;
  v.v_ = negative ? -HUGE_VAL : HUGE_VAL;
  return v;
}

Value Value::complex_infinity() {
  Value v;
  v.kind_ = Kind::kComplexInfinity;
  return v;
}

Value Value::nan() {
  Value v;
  v.kind_ = Kind::kNaN;
  v.v_ = std::numeric_limits<double>::quiet_NaN();
  return v;
}

Value Value::non_real() {
  Value v;
  v.kind_ = Kind::kNonReal;
  return v;
}

Value Value::symbolic() { return Value(); }

bool Value::is_Number() const {
  switch (kind_) {
    case Kind::kInteger: case Kind::kRational: case Kind::kFloat: case Kind::kInfinity:
    case Kind::kComplexInfinity: case Kind::kNaN:
      return true;
    default:
      return false;
  }
}

bool Value::is_real() const {
  switch (kind_) {
    case Kind::kInteger: case Kind::kRational: case Kind::kFloat: case Kind::kReal: case Kind::kInfinity:
      return true;
    default:
      return false;
  }
}

std::optional<double> Value::to_float() const {
  if (is_real() || kind_ == Kind::kNaN) return v_;
  return std::nullopt;
}

std::string number_str(const Value& v) {
  char buf[48];
  if (v.kind() == Kind::kInteger && v.exact()) return std::string(int_to_string(v.p(), buf));
  if (v.kind() == Kind::kRational && v.exact()) {
    std::string s(int_to_string(v.p(), buf));
    return s + "/" + std::string(int_to_string(v.q(), buf));
  }
  if (v.kind() == Kind::kFloat) {
    // StrPrinter._print_Float: mpmath to_str with 15 digits, zeros kept, fixed notation for
    // decimal exponents in [-5, 15).
    double x = v.value();
    if (x == 0) return "0.0";
    char sci[64];
    std::snprintf(sci, sizeof sci, "%.14e", x);
    std::string s(sci);
    size_t e = s.find('e');
    int exp10 = std::atoi(s.c_str() + e + 1);
    bool neg = s[0] == '-';
    std::string digits;
    for (size_t i = neg ? 1 : 0; i < e; ++i) {
      if (s[i] != '.') digits += s[i];
    }
    std::string out;
    if (exp10 >= -5 && exp10 < 15) {
      if (exp10 >= 0) {
        out = digits.substr(0, static_cast<size_t>(exp10) + 1) + "." + digits.substr(static_cast<size_t>(exp10) + 1);
      } else {
        out = "0." + std::string(static_cast<size_t>(-exp10 - 1), '0') + digits;
      }
    } else {
      out = digits.substr(0, 1) + "." + digits.substr(1) + "e" + (exp10 < 0 ? "-" : "+") + std::to_string(std::abs(exp10));
    }
    return (neg ? "-" : "") + out;
  }
  return "";
}

// ---- integers ---------------------------------------------------------------------------------

std::optional<Int> checked_add(Int a, Int b) {
  Int r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::optional<Int> checked_mul(Int a, Int b) {
  Int r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::optional<Int> checked_pow(Int base, uint64_t exp) {
  Int result = 1;
  while (exp > 0) {
    if (exp & 1) {
      auto r = checked_mul(result, base);
      if (!r) return std::nullopt;
      result = *r;
    }
    exp >>= 1;
    if (exp > 0) {
      auto b = checked_mul(base, base);
      if (!b) return std::nullopt;
      base = *b;
    }
  }
  return result;
}

std::optional<Int> parse_digits_int(std::string_view digits, int base) {
  Int v = 0;
  for (char c : digits) {
    int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    auto m = checked_mul(v, base);
    auto a = m ? checked_add(*m, d) : std::nullopt;
    if (!a) return std::nullopt;
    v = *a;
  }
  return v;
}

Int gcd(Int a, Int b) {
  if (a < 0) a = -a;
  if (b < 0) b = -b;
  while (b != 0) {
    Int t = a % b;
    a = b;
    b = t;
  }
  return a;
}

double to_double(Int v) { return static_cast<double>(v); }

std::string_view int_to_string(Int v, char (&buf)[48]) {
  char* end = buf + sizeof buf;
  char* p = end;
  bool neg = v < 0;
  // Work in the negative range so that the minimum value does not overflow.
  if (!neg) v = -v;
  do {
    *--p = static_cast<char>('0' - static_cast<int>(v % 10));
    v /= 10;
  } while (v != 0);
  if (neg) *--p = '-';
  return std::string_view(p, static_cast<size_t>(end - p));
}

// ---- evaluated (SymPy with evaluate=True) -------------------------------------------------------

namespace evaluated {

namespace {

// a op b for two real values that are not both exact rationals: a Float anywhere gives a
// Float (SymPy evaluates Float + pi to a Float), otherwise an expression node.
Value inexact(const Value& a, const Value& b, double r) {
  if (std::isnan(r)) return Value::nan();
  if (std::isinf(r)) return Value::infinity(r < 0);
  bool flt = a.kind() == Kind::kFloat || b.kind() == Kind::kFloat;
  bool integral = a.kind() == Kind::kInteger && b.kind() == Kind::kInteger;
  if (flt) return Value::flt(r);
  if (integral) return Value::inexact_integer(r);
  return Value::real(r);
}

}  // namespace

Value add(const Value& a, const Value& b) {
  if (is_special(a) || is_special(b)) {
    if (a.kind() == Kind::kComplexInfinity && b.kind() == Kind::kComplexInfinity) return Value::nan();
    if ((a.kind() == Kind::kComplexInfinity && b.kind() == Kind::kInfinity) ||
        (b.kind() == Kind::kComplexInfinity && a.kind() == Kind::kInfinity)) {
      return Value::nan();
    }
    return combine_special(a, b);
  }
  if (a.is_exact_rational() && b.is_exact_rational()) {
    auto n1 = checked_mul(a.p(), b.q()), n2 = checked_mul(b.p(), a.q()), d = checked_mul(a.q(), b.q());
    std::optional<Int> n;
    if (n1 && n2) n = checked_add(*n1, *n2);
    return exact_or_inexact_rational(n, d, a.value() + b.value());
  }
  return inexact(a, b, a.value() + b.value());
}

Value neg(const Value& a) {
  if (a.is_exact_rational()) {
    if (a.p() == std::numeric_limits<Int>::min()) return Value::inexact_integer(-a.value());
    return Value::rational(-a.p(), a.q());
  }
  switch (a.kind()) {
    case Kind::kInteger: return Value::inexact_integer(-a.value());
    case Kind::kRational: return Value::real(-a.value());
    case Kind::kFloat: return Value::flt(-a.value());
    case Kind::kReal: return Value::real(-a.value());
    case Kind::kInfinity: return Value::infinity(a.value() > 0);
    default: return a;
  }
}

Value sub(const Value& a, const Value& b) { return add(a, neg(b)); }

Value mul(const Value& a, const Value& b) {
  if (is_special(a) || is_special(b)) return special_product(a, b);
  if (a.is_exact_rational() && b.is_exact_rational()) {
    return exact_or_inexact_rational(checked_mul(a.p(), b.p()), checked_mul(a.q(), b.q()), a.value() * b.value());
  }
  return inexact(a, b, a.value() * b.value());
}

Value div(const Value& a, const Value& b) {
  if (b.kind() == Kind::kComplexInfinity && a.is_real() && std::isfinite(a.value())) return Value::integer(0);
  if (is_special(a) || is_special(b)) return combine_special(a, b);
  if (is_zero(b)) return is_zero(a) ? Value::nan() : Value::complex_infinity();
  if (a.is_exact_rational() && b.is_exact_rational()) {
    return exact_or_inexact_rational(checked_mul(a.p(), b.q()), checked_mul(a.q(), b.p()), a.value() / b.value());
  }
  return inexact(a, b, a.value() / b.value());
}

Value pow(const Value& base, const Value& exp) {
  if (auto z = complex_infinity_power(base, exp)) return *z;
  if (is_special(base) || is_special(exp)) return combine_special(base, exp);
  const double bv = base.value(), ev = exp.value();
  if (exp.is_exact_rational() && exp.value() == 0) return base.kind() == Kind::kFloat ? Value::flt(1) : Value::integer(1);
  if (exp.kind() == Kind::kInteger && exp.exact() && base.is_exact_rational()) {
    Int e = exp.p();
    if (e < 0 && base.p() == 0) return Value::complex_infinity();
    Int mag = e < 0 ? -e : e;
    if (mag > 4096) return inexact(base, exp, std::pow(bv, ev));
    auto pp = checked_pow(base.p(), static_cast<uint64_t>(mag));
    auto pq = checked_pow(base.q(), static_cast<uint64_t>(mag));
    if (e < 0) return exact_or_inexact_rational(pq, pp, std::pow(bv, ev));
    return exact_or_inexact_rational(pp, pq, std::pow(bv, ev));
  }
  if (exp.kind() == Kind::kRational && exp.exact() && base.is_exact_rational()) {
    if (base.p() < 0) return Value::non_real();
    if (base.p() == 0) return exp.p() < 0 ? Value::complex_infinity() : Value::integer(0);
    // A perfect root stays exact (16**(1/2) -> 4); otherwise SymPy keeps a Pow.
    auto rp = exact_root(base.p(), static_cast<uint64_t>(exp.q()));
    auto rq = exact_root(base.q(), static_cast<uint64_t>(exp.q()));
    if (rp && rq) return pow(Value::rational(*rp, *rq), Value::integer(exp.p()));
    return Value::real(std::pow(bv, ev));
  }
  // Float or irrational operands.
  bool integral_exp = std::trunc(ev) == ev && std::isfinite(ev);
  if (bv < 0 && !integral_exp) return Value::non_real();
  if (bv == 0 && ev < 0) return Value::complex_infinity();
  double r = std::pow(bv, ev);
  if (base.kind() == Kind::kFloat || exp.kind() == Kind::kFloat) return Value::flt(r);
  return Value::real(r);
}

std::optional<Value> floordiv(const Value& a, const Value& b) {
  if (a.kind() == Kind::kNonReal || b.kind() == Kind::kNonReal) return std::nullopt;  // no ordering on complex numbers
  if (is_special(a) || is_special(b)) return combine_special(a, b);
  if (is_zero(b)) return std::nullopt;  // ZeroDivisionError
  if (a.is_exact_rational() && b.is_exact_rational()) {
    auto n = checked_mul(a.p(), b.q()), d = checked_mul(a.q(), b.p());
    if (n && d) {
      Int nn = *n, dd = *d;
      if (dd < 0) {
        nn = -nn;
        dd = -dd;
      }
      Int q = nn / dd;
      if ((nn % dd != 0) && (nn < 0)) --q;
      return Value::integer(q);
    }
  }
  // SymPy's floor division gives an Integer even for Floats (Float(7.5) // 2 is 3).
  double r = std::floor(a.value() / b.value());
  if (std::fabs(r) < 9e18) return Value::integer(static_cast<Int>(r));
  return Value::inexact_integer(r);
}

std::optional<Value> mod(const Value& a, const Value& b) {
  if (a.kind() == Kind::kNonReal || b.kind() == Kind::kNonReal) return std::nullopt;  // no ordering on complex numbers
  if (is_special(a) || is_special(b)) return combine_special(a, b);
  if (is_zero(b)) return Value::nan();
  if (a.is_exact_rational() && b.is_exact_rational()) {
    auto q = floordiv(a, b);
    if (q && q->exact()) {
      Value prod = mul(*q, b);
      if (prod.exact()) return sub(a, prod);
    }
  }
  double r = py_mod(a.value(), b.value());
  if (a.kind() == Kind::kFloat || b.kind() == Kind::kFloat) return Value::flt(r);
  return Value::real(r);
}

namespace {
bool both_ints(const Value& a, const Value& b) {
  return a.kind() == Kind::kInteger && a.exact() && b.kind() == Kind::kInteger && b.exact();
}
}  // namespace

std::optional<Value> bit_xor(const Value& a, const Value& b) {
  if (a.kind() == Kind::kSymbolic && b.kind() == Kind::kSymbolic) return Value::symbolic();
  if (!both_ints(a, b)) return std::nullopt;
  return Value::integer(a.p() ^ b.p());
}

std::optional<Value> bit_and(const Value& a, const Value& b) {
  if (a.kind() == Kind::kSymbolic && b.kind() == Kind::kSymbolic) return Value::symbolic();
  if (!both_ints(a, b)) return std::nullopt;
  return Value::integer(a.p() & b.p());
}

std::optional<Value> bit_or(const Value& a, const Value& b) {
  if (a.kind() == Kind::kSymbolic && b.kind() == Kind::kSymbolic) return Value::symbolic();
  if (!both_ints(a, b)) return std::nullopt;
  return Value::integer(a.p() | b.p());
}

std::optional<Value> shift(const Value& a, const Value& b, bool left) {
  if (!both_ints(a, b) || b.p() < 0) return std::nullopt;
  if (!left) return Value::integer(b.p() >= 127 ? (a.p() < 0 ? -1 : 0) : a.p() >> static_cast<int>(b.p()));
  if (b.p() >= 126) return std::nullopt;
  auto r = checked_mul(a.p(), static_cast<Int>(1) << static_cast<int>(b.p()));
  if (!r) return std::nullopt;
  return Value::integer(*r);
}

std::optional<Value> invert(const Value& a) {
  if (a.kind() == Kind::kSymbolic) return Value::symbolic();
  if (a.kind() != Kind::kInteger || !a.exact()) return std::nullopt;
  return Value::integer(~a.p());
}

Value factorial(const Value& a) {
  if (is_special(a)) return a.kind() == Kind::kNonReal ? Value::non_real() : combine_special(a, a);
  if (a.kind() == Kind::kInteger && a.exact()) {
    if (a.p() < 0) return Value::complex_infinity();
    Int r = 1;
    for (Int k = 2; k <= a.p(); ++k) {
      auto m = checked_mul(r, k);
      if (!m) return Value::inexact_integer(std::tgamma(a.value() + 1));
      r = *m;
    }
    return Value::integer(r);
  }
  double x = a.value();
  if (std::trunc(x) == x && x < 0) return Value::complex_infinity();
  return Value::real(std::tgamma(x + 1));
}

Value factorial2(const Value& a) {
  if (a.kind() != Kind::kInteger || !a.exact() || a.p() < -1) return Value::symbolic();
  Int r = 1;
  for (Int k = a.p(); k > 1; k -= 2) {
    auto m = checked_mul(r, k);
    if (!m) return Value::symbolic();
    r = *m;
  }
  return Value::integer(r);
}

}  // namespace evaluated

// ---- unevaluated (evaluate=False nodes; N() computes them) ---------------------------------------

namespace unevaluated {

Value add(const Value& a, const Value& b) {
  if (is_special(a) || is_special(b)) return combine_special(a, b);
  return Value::real(a.value() + b.value());
}

Value mul(const Value& a, const Value& b) {
  if (is_special(a) || is_special(b)) return special_product(a, b);
  return Value::real(a.value() * b.value());
}

Value pow(const Value& base, const Value& exp) {
  if (auto z = complex_infinity_power(base, exp)) return *z;
  if (is_special(base) || is_special(exp)) return combine_special(base, exp);
  const double bv = base.value(), ev = exp.value();
  bool integral_exp = std::isfinite(ev) && std::trunc(ev) == ev;
  if (bv < 0 && !integral_exp) return Value::non_real();
  if (bv == 0 && ev < 0) return Value::complex_infinity();
  return Value::real(std::pow(bv, ev));
}

Value inverse(const Value& a) {
  if (a.kind() == Kind::kComplexInfinity) return Value::integer(0);  // zoo**-1 is 0
  if (is_special(a)) return combine_special(a, a);
  if (a.value() == 0) return Value::complex_infinity();
  return Value::real(1 / a.value());
}

Value factorial(const Value& a) {
  if (is_special(a)) return combine_special(a, a);
  double x = a.value();
  if (std::isfinite(x) && std::trunc(x) == x && x < 0) return Value::complex_infinity();
  return Value::real(std::tgamma(x + 1));
}

Value abs(const Value& a) {
  if (a.kind() == Kind::kComplexInfinity) return Value::infinity(false);
  if (is_special(a)) return a.kind() == Kind::kNaN ? Value::nan() : Value::symbolic();
  return Value::real(std::fabs(a.value()));
}

Value mod(const Value& a, const Value& b) {
  if (is_special(a) || is_special(b)) return combine_special(a, b);
  if (b.value() == 0) return Value::nan();
  return Value::real(py_mod(a.value(), b.value()));
}

}  // namespace unevaluated

}  // namespace qb::eval::sym
