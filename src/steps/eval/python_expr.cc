// SymPy's parse_expr for answer strings (see python_expr.h). Two passes, as Python does: the
// text is tokenized and parsed into a small tree (a SyntaxError or TokenError anywhere means
// parse_expr raises), then the tree is evaluated with SymPy's semantics (a TypeError means it
// raises too).
#include "steps/eval/python_expr.h"

#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <utf8proc.h>

#include "steps/eval/py_regex.h"
#include "steps/eval/py_text.h"

namespace qb::eval::sym {

namespace {

// ---- tokens (CPython 3.11 Lib/tokenize.py) --------------------------------------------------

enum class Tok { kNumber, kName, kOp, kError, kEnd };

struct Token {
  Tok type;
  std::string text;
};

const py::Regex& number_re() {
  // Number = group(Imagnumber, Floatnumber, Intnumber), first alternative that matches wins.
  static const py::Regex re(
      R"((?:[0-9](?:_?[0-9])*[jJ]|(?:(?:[0-9](?:_?[0-9])*\.(?:[0-9](?:_?[0-9])*)?|\.[0-9](?:_?[0-9])*)(?:[eE][-+]?[0-9](?:_?[0-9])*)?|[0-9](?:_?[0-9])*[eE][-+]?[0-9](?:_?[0-9])*)[jJ])"
      R"(|(?:(?:[0-9](?:_?[0-9])*\.(?:[0-9](?:_?[0-9])*)?|\.[0-9](?:_?[0-9])*)(?:[eE][-+]?[0-9](?:_?[0-9])*)?|[0-9](?:_?[0-9])*[eE][-+]?[0-9](?:_?[0-9])*))"
      R"(|(?:0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|(?:0(?:_?0)*|[1-9](?:_?[0-9])*))))");
  return re;
}

// Operators and brackets, longest first (tokenize's EXACT_TOKEN_TYPES).
const std::vector<std::string_view>& operators() {
  static const std::vector<std::string_view> ops = {
      "**=", "//=", ">>=", "<<=", "...", "!=", "%=", "&=", "**", "*=", "+=", "-=", "->", "//", "/=", ":=", "<<",
      "<=", "==", ">=", ">>", "@=", "^=", "|=", "%", "&", "(", ")", "*", "+", ",", "-", ".", "/", ":", ";",
      "<", "=", ">", "@", "[", "]", "^", "{", "|", "}", "~"};
  return ops;
}

bool is_identifier_start(char32_t c) {
  if (c == '_') return true;
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT ||
         cat == UTF8PROC_CATEGORY_LM || cat == UTF8PROC_CATEGORY_LO || cat == UTF8PROC_CATEGORY_NL;
}

bool is_word_char(char32_t c) {
  if (c < 0x80) return std::isalnum(static_cast<int>(c)) || c == '_';
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT ||
         cat == UTF8PROC_CATEGORY_LM || cat == UTF8PROC_CATEGORY_LO || cat == UTF8PROC_CATEGORY_ND ||
         cat == UTF8PROC_CATEGORY_NL || cat == UTF8PROC_CATEGORY_NO || cat == UTF8PROC_CATEGORY_MN ||
         cat == UTF8PROC_CATEGORY_MC || cat == UTF8PROC_CATEGORY_PC;
}

// nullopt: tokenize raises (TokenError) or yields something compile() rejects outright.
std::optional<std::vector<Token>> tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  int depth = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\f') {
      ++i;
      continue;
    }
    if (c == '\n' || c == '\r' || c == '#' || c == '"' || c == '\'') return std::nullopt;  // not answers
    if (auto m = number_re().match(s, i)) {
      if (m->end() > i) {
        out.push_back({Tok::kNumber, std::string(s.substr(i, m->end() - i))});
        i = m->end();
        continue;
      }
    }
    bool op = false;
    for (std::string_view o : operators()) {
      if (s.substr(i, o.size()) == o) {
        out.push_back({Tok::kOp, std::string(o)});
        if (o == "(" || o == "[" || o == "{") ++depth;
        if (o == ")" || o == "]" || o == "}") --depth;
        i += o.size();
        op = true;
        break;
      }
    }
    if (op) continue;
    auto cps = py::code_points(s.substr(i));
    if (is_word_char(cps[0].cp)) {
      size_t n = 0;
      while (n < cps.size() && is_word_char(cps[n].cp)) n = n + 1;
      size_t bytes = n < cps.size() ? cps[n].offset : s.size() - i;
      // A \w+ run that does not start like an identifier is an OP token compile() rejects.
      out.push_back({is_identifier_start(cps[0].cp) ? Tok::kName : Tok::kError, std::string(s.substr(i, bytes))});
      i += bytes;
      continue;
    }
    out.push_back({Tok::kError, std::string(s.substr(i, cps[0].size))});
    i += cps[0].size;
  }
  if (depth > 0) return std::nullopt;  // EOF in multi-line statement
  out.push_back({Tok::kEnd, ""});
  return out;
}

// ---- syntax tree --------------------------------------------------------------------------------

enum class NodeType { kNumber, kName, kTuple, kList, kSet, kDict, kBinary, kUnary, kCompare, kCall, kFactorial };

struct Node {
  NodeType type;
  std::string text;  // number literal, name, operator
  std::vector<std::unique_ptr<Node>> kids;
  int bangs = 0;  // kFactorial: 1 or 2
};
using NodePtr = std::unique_ptr<Node>;

NodePtr make(NodeType t, std::string text = "") {
  auto n = std::make_unique<Node>();
  n->type = t;
  n->text = std::move(text);
  return n;
}

struct SyntaxError {
  std::string what;
};
struct Unsupported {
  std::string what;
};

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  NodePtr parse() {
    NodePtr n = testlist();
    if (peek().type != Tok::kEnd) throw SyntaxError{"unexpected '" + peek().text + "'"};
    return n;
  }

 private:
  const Token& peek(size_t k = 0) const { return t_[std::min(pos_ + k, t_.size() - 1)]; }
  bool is_op(std::string_view o, size_t k = 0) const { return peek(k).type == Tok::kOp && peek(k).text == o; }
  bool accept(std::string_view o) {
    if (is_op(o)) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(std::string_view o) {
    if (!accept(o)) throw SyntaxError{"expected '" + std::string(o) + "'"};
  }
  bool at_expr_end() const {
    return peek().type == Tok::kEnd || is_op(")") || is_op("]") || is_op("}") || is_op(",") || is_op(":");
  }

  // testlist: test (',' test)* [','] — a comma makes a tuple.
  NodePtr testlist() {
    NodePtr first = test();
    if (!is_op(",")) return first;
    auto tup = make(NodeType::kTuple);
    tup->kids.push_back(std::move(first));
    while (accept(",")) {
      if (at_expr_end()) break;
      tup->kids.push_back(test());
    }
    return tup;
  }

  NodePtr test() {
    if (peek().type == Tok::kName && kKeywords.count(peek().text)) throw Unsupported{"Python keyword '" + peek().text + "'"};
    NodePtr n = comparison();
    if (peek().type == Tok::kName && kKeywords.count(peek().text)) throw Unsupported{"Python keyword '" + peek().text + "'"};
    return n;
  }

  NodePtr comparison() {
    NodePtr n = binary_level(0);
    static const std::set<std::string> kCmp = {"<", ">", "==", ">=", "<=", "!="};
    if (peek().type == Tok::kOp && kCmp.count(peek().text)) {
      auto c = make(NodeType::kCompare);
      c->kids.push_back(std::move(n));
      while (peek().type == Tok::kOp && kCmp.count(peek().text)) {
        c->text += (c->text.empty() ? "" : " ") + peek().text;
        ++pos_;
        c->kids.push_back(binary_level(0));
      }
      return c;
    }
    return n;
  }

  // Binary levels, loosest first: | ^ & (<< >>) (+ -) (* / // % @).
  NodePtr binary_level(int level) {
    static const std::vector<std::vector<std::string>> kLevels = {
        {"|"}, {"^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "//", "%", "@"}};
    if (level == static_cast<int>(kLevels.size())) return factor();
    NodePtr lhs = binary_level(level + 1);
    while (true) {
      const auto& ops = kLevels[static_cast<size_t>(level)];
      const Token& tk = peek();
      if (tk.type != Tok::kOp || std::find(ops.begin(), ops.end(), tk.text) == ops.end()) break;
      ++pos_;
      auto b = make(NodeType::kBinary, tk.text);
      b->kids.push_back(std::move(lhs));
      b->kids.push_back(binary_level(level + 1));
      lhs = std::move(b);
    }
    return lhs;
  }

  NodePtr factor() {
    if (is_op("+") || is_op("-") || is_op("~")) {
      std::string op = peek().text;
      ++pos_;
      auto u = make(NodeType::kUnary, op);
      u->kids.push_back(factor());
      return u;
    }
    return power();
  }

  NodePtr power() {
    NodePtr base = primary();
    if (accept("**")) {
      auto b = make(NodeType::kBinary, "**");
      b->kids.push_back(std::move(base));
      b->kids.push_back(factor());
      return b;
    }
    return base;
  }

  NodePtr primary() {
    NodePtr n = atom();
    while (true) {
      if (is_op("(")) {
        ++pos_;
        auto call = make(NodeType::kCall);
        call->kids.push_back(std::move(n));
        if (!accept(")")) {
          while (true) {
            if (peek().type == Tok::kName && is_op("=", 1)) throw Unsupported{"keyword argument"};
            call->kids.push_back(test());
            if (accept(")")) break;
            expect(",");
            if (accept(")")) break;
          }
        }
        n = std::move(call);
      } else if (is_op("[")) {
        throw Unsupported{"subscript"};
      } else if (is_op(".")) {
        throw Unsupported{"attribute access"};
      } else {
        break;
      }
    }
    // sympy's factorial_notation: "!" (an error token) after an operand wraps it.
    int bangs = 0;
    while (peek().type == Tok::kError && peek().text == "!") {
      ++bangs;
      ++pos_;
    }
    if (bangs > 2) throw SyntaxError{"more than two '!'"};
    if (bangs > 0) {
      auto f = make(NodeType::kFactorial);
      f->bangs = bangs;
      f->kids.push_back(std::move(n));
      return f;
    }
    return n;
  }

  NodePtr atom() {
    const Token tk = peek();
    switch (tk.type) {
      case Tok::kNumber:
        ++pos_;
        if (is_op("[") && tk.text.back() == '.') throw Unsupported{"repeated decimal"};
        return make(NodeType::kNumber, tk.text);
      case Tok::kName:
        if (kKeywords.count(tk.text)) throw Unsupported{"Python keyword '" + tk.text + "'"};
        ++pos_;
        return make(NodeType::kName, tk.text);
      case Tok::kError:
        throw SyntaxError{"invalid character '" + tk.text + "'"};
      case Tok::kEnd:
        throw SyntaxError{"unexpected end"};
      case Tok::kOp:
        break;
    }
    if (accept("(")) {
      if (accept(")")) return make(NodeType::kTuple);
      NodePtr inner = testlist();
      expect(")");
      return inner;
    }
    if (accept("[")) {
      auto l = make(NodeType::kList);
      while (!accept("]")) {
        l->kids.push_back(test());
        if (accept("]")) break;
        expect(",");
      }
      return l;
    }
    if (accept("{")) {
      if (accept("}")) return make(NodeType::kDict);
      NodePtr first = test();
      if (accept(":")) {
        auto d = make(NodeType::kDict);
        d->kids.push_back(std::move(first));
        d->kids.push_back(test());
        while (accept(",")) {
          if (is_op("}")) break;
          d->kids.push_back(test());
          expect(":");
          d->kids.push_back(test());
        }
        expect("}");
        return d;
      }
      auto st = make(NodeType::kSet);
      st->kids.push_back(std::move(first));
      while (accept(",")) {
        if (is_op("}")) break;
        st->kids.push_back(test());
      }
      expect("}");
      return st;
    }
    throw SyntaxError{"unexpected '" + tk.text + "'"};
  }

  static inline const std::set<std::string> kKeywords = {
      "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
      "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
      "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
      "with", "yield"};

  std::vector<Token> t_;
  size_t pos_ = 0;
};

// ---- evaluation -----------------------------------------------------------------------------------

struct TypeError {
  std::string what;
};

// A Python object as far as the answers need: a SymPy value, a container, or a callable.
struct Obj {
  // kBool: a Python bool (what == and != give); arithmetic treats it as the int 0 or 1.
  // kRelational: what <, <=, >, >= give (a SymPy Boolean or relational); arithmetic raises.
  enum class Type { kValue, kList, kTuple, kSet, kDict, kCallable, kBool, kRelational };
  Type type = Type::kValue;
  Value value;       // kBool: Integer 0 or 1; kRelational on numbers: Integer 0 or 1, else symbolic
  std::string name;  // kCallable
};

Obj of(Value v) { return Obj{Obj::Type::kValue, v, ""}; }
Obj container(Obj::Type t) { return Obj{t, Value::symbolic(), ""}; }

bool is_container(const Obj& o) {
  return o.type == Obj::Type::kList || o.type == Obj::Type::kTuple || o.type == Obj::Type::kSet || o.type == Obj::Type::kDict;
}

// A Python bool is an int in arithmetic.
Obj as_number(const Obj& o) { return o.type == Obj::Type::kBool ? of(o.value) : o; }

// A decimal literal as t_rationalize makes it: Rational of its digits.
Value rational_literal(const std::string& text) {
  std::string clean;
  for (char c : text) {
    if (c != '_') clean += c;
  }
  size_t e = clean.find_first_of("eE");
  std::string mant = clean.substr(0, e);
  long exp10 = e == std::string::npos ? 0 : std::strtol(clean.c_str() + e + 1, nullptr, 10);
  size_t dot = mant.find('.');
  std::string digits = mant.substr(0, dot) + (dot == std::string::npos ? "" : mant.substr(dot + 1));
  exp10 -= dot == std::string::npos ? 0 : static_cast<long>(mant.size() - dot - 1);
  auto parsed = parse_digits_int(digits);
  if (!parsed) return Value::real(std::strtod(clean.c_str(), nullptr));
  Int p = *parsed;
  auto scale = checked_pow(10, static_cast<uint64_t>(exp10 < 0 ? -exp10 : exp10));
  if (!scale || std::labs(exp10) > 36) return Value::real(std::strtod(clean.c_str(), nullptr));
  if (exp10 >= 0) {
    auto v = checked_mul(p, *scale);
    return v ? Value::integer(*v) : Value::real(std::strtod(clean.c_str(), nullptr));
  }
  return Value::rational(p, *scale);
}

Value number_literal(const std::string& text) {
  if (text.rfind("rational:", 0) == 0) return rational_literal(text.substr(9));
  std::string num = text;
  bool imag = !num.empty() && (num.back() == 'j' || num.back() == 'J');
  if (imag) return Value::non_real();
  std::string clean;
  for (char c : num) {
    if (c != '_') clean += c;
  }
  bool hex = clean.size() > 1 && clean[0] == '0' && (clean[1] == 'x' || clean[1] == 'X');
  bool is_float = clean.find('.') != std::string::npos ||
                  (!hex && (clean.find('e') != std::string::npos || clean.find('E') != std::string::npos));
  if (is_float) return Value::flt(std::strtod(clean.c_str(), nullptr));
  int base = 10;
  std::string digits = clean;
  if (clean.size() > 1 && clean[0] == '0' && clean[1] != '0') {
    char b = static_cast<char>(std::tolower(static_cast<unsigned char>(clean[1])));
    base = b == 'x' ? 16 : b == 'b' ? 2 : b == 'o' ? 8 : 10;
    if (base != 10) digits = clean.substr(2);
  }
  auto v = parse_digits_int(digits, base);
  return v ? Value::integer(*v) : Value::inexact_integer(std::strtod(clean.c_str(), nullptr));
}

const std::set<std::string>& callables() {
  static const std::set<std::string> k = {"sqrt", "exp", "log", "ln", "Abs", "abs", "factorial", "floor", "ceiling",
                                          "Max", "Min", "max", "min", "round"};
  return k;
}

// Names SymPy's namespace (from sympy import *) gives a single letter to; anything else of one
// letter is a Symbol (or, called, an undefined Function).
bool sympy_single_letter(const std::string& n) { return n == "E" || n == "I" || n == "N" || n == "O" || n == "Q" || n == "S"; }

class Evaluator {
 public:
  Obj eval(const Node& n) {
    switch (n.type) {
      case NodeType::kNumber: return of(number_literal(n.text));
      case NodeType::kName: return name(n.text);
      case NodeType::kTuple: return elements(n, Obj::Type::kTuple);
      case NodeType::kList: return elements(n, Obj::Type::kList);
      case NodeType::kSet: return elements(n, Obj::Type::kSet);
      case NodeType::kDict: return elements(n, Obj::Type::kDict);
      case NodeType::kUnary: return unary(n.text, as_number(eval(*n.kids[0])));
      case NodeType::kBinary: {
        Obj a = as_number(eval(*n.kids[0]));
        Obj b = as_number(eval(*n.kids[1]));
        return binary(n.text, a, b);
      }
      case NodeType::kCompare: {
        if (n.kids.size() > 2) throw Unsupported{"chained comparison"};
        Obj a = eval(*n.kids[0]);
        Obj b = eval(*n.kids[1]);
        return compare(n.text, as_number(a), as_number(b));
      }
      case NodeType::kCall: return call(n);
      case NodeType::kFactorial: {
        Obj a = as_number(eval(*n.kids[0]));
        if (a.type != Obj::Type::kValue) throw TypeError{"factorial of a non-number"};
        return of(n.bangs == 1 ? evaluated::factorial(a.value) : evaluated::factorial2(a.value));
      }
    }
    throw Unsupported{"node"};
  }

 private:
  Obj elements(const Node& n, Obj::Type t) {
    for (const auto& k : n.kids) {
      Obj e = eval(*k);
      if ((t == Obj::Type::kSet || t == Obj::Type::kDict) && (e.type == Obj::Type::kList || e.type == Obj::Type::kSet ||
                                                              e.type == Obj::Type::kDict)) {
        throw TypeError{"unhashable type"};
      }
    }
    return container(t);
  }

  Obj name(const std::string& n) {
    static const double kPi = std::acos(-1.0);
    if (n == "E") return of(Value::real(std::exp(1.0)));
    if (n == "pi") return of(Value::real(kPi));
    if (n == "I") return of(Value::non_real());
    if (n == "oo") return of(Value::infinity(false));
    if (n == "zoo") return of(Value::complex_infinity());
    if (n == "nan") return of(Value::nan());
    if (n == "EulerGamma") return of(Value::real(0.57721566490153286061));
    if (n == "Catalan") return of(Value::real(0.91596559417721901505));
    if (n == "GoldenRatio") return of(Value::real(1.61803398874989484820));
    if (n == "TribonacciConstant") return of(Value::real(1.83928675521416113255));
    if (callables().count(n)) return Obj{Obj::Type::kCallable, Value::symbolic(), n};
    return of(Value::symbolic());  // a Symbol, or another SymPy object without a value
  }

  // == and != give Python bools (SymPy's structural equality; numbers compare by value);
  // <, <=, >, >= give SymPy Booleans for numbers and relationals for symbols, and raise for
  // containers and for complex, zoo or nan operands.
  Obj compare(const std::string& op, const Obj& a, const Obj& b) {
    const bool ordering = op != "==" && op != "!=";
    if (a.type == Obj::Type::kRelational || b.type == Obj::Type::kRelational) {
      if (ordering) throw TypeError{"comparison of a relational"};
      throw Unsupported{"equality of relationals"};
    }
    if (a.type != Obj::Type::kValue || b.type != Obj::Type::kValue) {
      if (ordering) throw TypeError{"'" + op + "' not supported between these types"};
      throw Unsupported{"equality of containers"};
    }
    const Value& x = a.value;
    const Value& y = b.value;
    if (ordering) {
      for (const Value* v : {&x, &y}) {
        if (v->kind() == Value::Kind::kNonReal || v->kind() == Value::Kind::kComplexInfinity || v->kind() == Value::Kind::kNaN) {
          throw TypeError{"Invalid comparison of non-real or NaN"};
        }
      }
      if (!x.is_real() || !y.is_real()) return Obj{Obj::Type::kRelational, Value::symbolic(), ""};
      double u = x.value(), w = y.value();
      bool r = op == "<" ? u < w : op == "<=" ? u <= w : op == ">" ? u > w : u >= w;
      return Obj{Obj::Type::kRelational, Value::integer(r ? 1 : 0), ""};
    }
    if (!x.is_real() || !y.is_real()) throw Unsupported{"equality of non-real values"};
    bool eq = x.value() == y.value();
    return Obj{Obj::Type::kBool, Value::integer(eq == (op == "==") ? 1 : 0), ""};
  }

  Obj unary(const std::string& op, const Obj& a) {
    if (a.type != Obj::Type::kValue) throw TypeError{"bad operand type for unary " + op};
    if (op == "+") return a;
    if (op == "-") return of(evaluated::neg(a.value));
    if (a.value.kind() == Value::Kind::kInteger && !a.value.exact()) throw Unsupported{"~ of a huge integer"};
    auto r = evaluated::invert(a.value);
    if (!r) throw TypeError{"bad operand type for unary ~"};
    return of(*r);
  }

  Obj containers(const std::string& op, const Obj& a, const Obj& b) {
    using T = Obj::Type;
    bool seq_a = a.type == T::kList || a.type == T::kTuple;
    bool seq_b = b.type == T::kList || b.type == T::kTuple;
    if (op == "+" && seq_a && a.type == b.type) return container(a.type);
    if (op == "*" && ((seq_a && b.type == T::kValue && b.value.kind() == Value::Kind::kInteger) ||
                      (seq_b && a.type == T::kValue && a.value.kind() == Value::Kind::kInteger))) {
      return container(seq_a ? a.type : b.type);  // list repetition: Integer has __index__
    }
    if ((op == "|" || op == "&" || op == "^" || op == "-") && a.type == T::kSet && b.type == T::kSet) return container(T::kSet);
    if (op == "|" && a.type == T::kDict && b.type == T::kDict) return container(T::kDict);
    throw TypeError{"unsupported operand type(s) for " + op};
  }

  Obj binary(const std::string& op, const Obj& a, const Obj& b) {
    if (a.type == Obj::Type::kRelational || b.type == Obj::Type::kRelational) throw TypeError{"arithmetic on a relational"};
    if (is_container(a) || is_container(b)) return containers(op, a, b);
    if (a.type == Obj::Type::kCallable || b.type == Obj::Type::kCallable) throw TypeError{"function in arithmetic"};
    const Value& x = a.value;
    const Value& y = b.value;
    auto int_only = [&](const char* what) {
      if ((x.kind() == Value::Kind::kInteger && !x.exact()) || (y.kind() == Value::Kind::kInteger && !y.exact())) {
        throw Unsupported{std::string(what) + " of a huge integer"};
      }
    };
    auto need = [&](std::optional<Value> r) {
      if (!r) throw TypeError{"unsupported operand type(s) for " + op};
      return of(*r);
    };
    if (op == "+") return of(evaluated::add(x, y));
    if (op == "-") return of(evaluated::sub(x, y));
    if (op == "*") return of(evaluated::mul(x, y));
    if (op == "/") return of(evaluated::div(x, y));
    if (op == "**") return of(evaluated::pow(x, y));
    if (op == "//") {
      int_only("//");
      return need(evaluated::floordiv(x, y));
    }
    if (op == "%") {
      int_only("%");
      return need(evaluated::mod(x, y));
    }
    if (op == "@") throw TypeError{"matrix multiplication of numbers"};
    int_only(op.c_str());
    if (op == "^") return need(evaluated::bit_xor(x, y));
    if (op == "&") return need(evaluated::bit_and(x, y));
    if (op == "|") return need(evaluated::bit_or(x, y));
    if (op == "<<" || op == ">>") return need(evaluated::shift(x, y, op == "<<"));
    throw Unsupported{"operator " + op};
  }

  Obj call(const Node& n) {
    const Node& f = *n.kids[0];
    if (f.type != NodeType::kName) {
      Obj callee = eval(f);
      if (callee.type == Obj::Type::kCallable) return apply(callee.name, n);
      throw TypeError{"object is not callable"};
    }
    const std::string& name = f.text;
    if (callables().count(name)) return apply(name, n);
    if (name == "E" || name == "pi" || name == "I" || name == "oo" || name == "zoo" || name == "nan") {
      throw TypeError{"'" + name + "' is not callable"};
    }
    if (py::code_points(name).size() == 1 && !sympy_single_letter(name)) {
      for (size_t i = 1; i < n.kids.size(); ++i) eval(*n.kids[i]);
      return of(Value::symbolic());  // an undefined Function applied: f(3)
    }
    throw Unsupported{"function '" + name + "'"};
  }

  Obj apply(const std::string& name, const Node& n) {
    std::vector<Value> args;
    for (size_t i = 1; i < n.kids.size(); ++i) {
      Obj a = as_number(eval(*n.kids[i]));
      if (a.type != Obj::Type::kValue) throw Unsupported{name + " of a non-number"};
      args.push_back(a.value);
    }
    for (const Value& a : args) {
      if (a.kind() == Value::Kind::kSymbolic) return of(Value::symbolic());
    }
    auto arity = [&](size_t lo, size_t hi) {
      if (args.size() < lo || args.size() > hi) throw Unsupported{name + " with " + std::to_string(args.size()) + " arguments"};
    };
    if (name == "sqrt") {
      arity(1, 1);
      return of(evaluated::pow(args[0], Value::rational(1, 2)));
    }
    if (name == "exp") {
      arity(1, 1);
      if (args[0].is_exact_rational() && args[0].p() == 0) return of(Value::integer(1));
      if (!args[0].is_real()) throw Unsupported{"exp of a non-real"};
      return of(args[0].kind() == Value::Kind::kFloat ? Value::flt(std::exp(args[0].value())) : Value::real(std::exp(args[0].value())));
    }
    if (name == "log" || name == "ln") {
      arity(1, name == "log" ? 2 : 1);
      for (const Value& a : args) {
        if (!a.is_real() || a.value() <= 0) throw Unsupported{"log of a non-positive or non-real number"};
      }
      if (args[0].is_exact_rational() && args[0].p() == 1 && args[0].q() == 1) return of(Value::integer(0));
      if (args.size() == 2 && args[0].is_Integer() && args[0].exact() && args[1].is_Integer() && args[1].exact() && args[1].p() > 1) {
        // SymPy evaluates an exact power: log(8, 2) = 3.
        Int x = args[0].p(), k = 0, acc = 1;
        while (acc < x) {
          auto m = checked_mul(acc, args[1].p());
          if (!m) break;
          acc = *m;
          ++k;
        }
        if (acc == x) return of(Value::integer(k));
      }
      double r = std::log(args[0].value());
      if (args.size() == 2) r /= std::log(args[1].value());
      bool flt = args[0].kind() == Value::Kind::kFloat || (args.size() == 2 && args[1].kind() == Value::Kind::kFloat);
      return of(flt ? Value::flt(r) : Value::real(r));
    }
    if (name == "Abs" || name == "abs") {
      arity(1, 1);
      const Value& a = args[0];
      if (a.is_real() && a.value() < 0) return of(evaluated::neg(a));
      if (a.is_real() || a.kind() == Value::Kind::kNaN) return of(a);
      if (a.kind() == Value::Kind::kComplexInfinity) return of(Value::infinity(false));
      throw Unsupported{"abs of a complex number"};
    }
    if (name == "factorial") {
      arity(1, 1);
      return of(evaluated::factorial(args[0]));
    }
    if (name == "floor" || name == "ceiling") {
      arity(1, 1);
      const Value& a = args[0];
      if (a.is_Integer()) return of(a);
      if (a.is_exact_rational()) {
        Int q = a.p() / a.q();
        if (a.p() % a.q() != 0 && ((a.p() < 0) == (name == "floor"))) q += name == "floor" ? -1 : 1;
        return of(Value::integer(q));
      }
      if (!a.is_real()) throw Unsupported{name + " of a non-real"};
      double r = name == "floor" ? std::floor(a.value()) : std::ceil(a.value());
      if (std::fabs(r) < 1e18) return of(Value::integer(static_cast<Int>(r)));
      return of(Value::inexact_integer(r));
    }
    if (name == "Max" || name == "Min" || name == "max" || name == "min") {
      if (args.empty()) throw TypeError{name + " expected at least 1 argument"};
      size_t best = 0;
      for (size_t i = 0; i < args.size(); ++i) {
        if (!args[i].is_real()) throw Unsupported{name + " of a non-real"};
        bool better = (name == "Max" || name == "max") ? args[i].value() > args[best].value() : args[i].value() < args[best].value();
        if (better) best = i;
      }
      return of(args[best]);
    }
    if (name == "round") {
      arity(1, 1);
      const Value& a = args[0];
      if (a.is_Integer()) return of(a);
      if (!a.is_real() || !std::isfinite(a.value())) throw Unsupported{"round of a non-finite number"};
      double r = std::nearbyint(a.value());  // round half to even, as Python
      if (std::fabs(r) < 1e18) return of(Value::integer(static_cast<Int>(r)));
      return of(Value::inexact_integer(r));
    }
    throw Unsupported{"function '" + name + "'"};
  }
};

}  // namespace

Parsed parse_python_expr(std::string_view s_in, const PythonExprOptions& options) {
  std::string s = py::strip(s_in);
  auto toks = tokenize(s);
  if (!toks) return Parsed::error("TokenError");
  for (Token& t : *toks) {
    if (options.convert_xor && t.type == Tok::kOp && t.text == "^") t.text = "**";
    if (options.rationalize && t.type == Tok::kNumber && number_literal(t.text).kind() == Value::Kind::kFloat) {
      t.text = "rational:" + t.text;
    }
  }
  NodePtr tree;
  try {
    tree = Parser(std::move(*toks)).parse();
  } catch (const SyntaxError& e) {
    return Parsed::error("SyntaxError: " + e.what);
  } catch (const Unsupported& e) {
    return Parsed::unsupported(e.what);
  }
  try {
    Obj r = Evaluator().eval(*tree);
    if (r.type == Obj::Type::kBool || (r.type == Obj::Type::kRelational && r.value.is_Integer())) {
      Parsed p = Parsed::ok(Value::symbolic(), r.value.p() ? "True" : "False");
      if (r.type == Obj::Type::kBool) p.py_bool = static_cast<int>(r.value.p());
      return p;
    }
    if (r.type != Obj::Type::kValue) return Parsed::ok(Value::symbolic());
    std::string str = number_str(r.value);
    if (str.empty() && tree->type == NodeType::kName && !callables().count(tree->text)) str = tree->text;
    return Parsed::ok(r.value, str);
  } catch (const TypeError& e) {
    return Parsed::error("TypeError: " + e.what);
  } catch (const Unsupported& e) {
    return Parsed::unsupported(e.what);
  }
}

}  // namespace qb::eval::sym
