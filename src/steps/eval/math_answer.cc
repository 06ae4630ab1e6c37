// Port of evalscope 1.12.0 evalscope/metrics/math/parser.py (extract_answer,
// strip_answer_string, math_equal) and word2number 1.1's word_to_num; see math_answer.h.
// Each block names the Python it mirrors so the two can be read side by side.
#include "steps/eval/math_answer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <vector>

#include <utf8proc.h>

#include <fmt/format.h>

#include "steps/eval/py_regex.h"
#include "steps/eval/py_text.h"
#include "steps/eval/symbolic_equal.h"

namespace qb::eval {

namespace {

using py::contains;
using py::replace_all;

size_t py_len(std::string_view s) { return py::code_points(s).size(); }

// Python's str.lower() per code point (utf8proc's simple lowercase mapping).
std::string py_lower(std::string_view s) {
  std::string out;
  for (const py::CodePoint& p : py::code_points(s)) out += py::encode_utf8(static_cast<char32_t>(utf8proc_tolower(p.cp)));
  return out;
}

// Python's str.split() without arguments: runs of whitespace separate, none at the ends.
std::vector<std::string> split_ws(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (const py::CodePoint& p : py::code_points(s)) {
    if (py::is_space(p.cp)) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.append(s.substr(p.offset, p.size));
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// The value of a decimal digit (category Nd, what Python's int() and float() accept), or -1.
// Unicode encodes decimal digits only in contiguous runs of ten ascending from zero; runs can
// abut (the five mathematical digit sets), hence the distance from the run's start modulo 10.
int decimal_digit(char32_t c) {
  if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
  auto is_nd = [](char32_t x) { return utf8proc_category(static_cast<utf8proc_int32_t>(x)) == UTF8PROC_CATEGORY_ND; };
  if (c < 0x80 || !is_nd(c)) return -1;
  char32_t start = c;
  while (start > 0x80 && is_nd(start - 1)) --start;
  return static_cast<int>((c - start) % 10);
}
bool is_superscript_digit(char32_t c) { return c == 0xB2 || c == 0xB3 || c == 0xB9 || c == 0x2070 || (c >= 0x2074 && c <= 0x2079); }

// Python int(s) for an optionally signed run of decimal digits (no '_' or spaces: callers pass
// regex-matched text), as its canonical decimal string; nullopt when int() would raise.
std::optional<std::string> py_int_string(std::string_view s) {
  auto cps = py::code_points(py::strip(s));
  if (cps.empty()) return std::nullopt;
  size_t i = 0;
  bool neg = false;
  std::string text = py::strip(s);
  if (cps[0].cp == '-' || cps[0].cp == '+') {
    neg = cps[0].cp == '-';
    i = 1;
  }
  std::string digits;
  for (; i < cps.size(); ++i) {
    int d = decimal_digit(cps[i].cp);
    if (d < 0) return std::nullopt;
    digits += static_cast<char>('0' + d);
  }
  if (digits.empty()) return std::nullopt;
  size_t nz = digits.find_first_not_of('0');
  digits = nz == std::string::npos ? "0" : digits.substr(nz);
  return (neg && digits != "0" ? "-" : "") + digits;
}

// Compare canonical integer strings numerically.
bool int_less(const std::string& a, const std::string& b) {
  bool na = a[0] == '-', nb = b[0] == '-';
  if (na != nb) return na;
  std::string_view ma = na ? std::string_view(a).substr(1) : a, mb = nb ? std::string_view(b).substr(1) : b;
  bool abs_less = ma.size() != mb.size() ? ma.size() < mb.size() : ma < mb;
  bool abs_equal = ma == mb;
  return na ? (!abs_less && !abs_equal) : abs_less;
}

// Python repr() of a float: shortest round-trip digits; fixed notation for 1e-4 <= |x| < 1e16.
std::string py_float_repr(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // "-d.ddde+XX"
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string mant = sci.substr(0, e);
  int exp = std::atoi(sci.c_str() + e + 1);
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits += c;
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out;
  if (exp >= -5 && exp < 16) {  // Python switches to exponent form below 1e-4 (repr uses -4 <= exp10 < 16)
    if (exp < -4) {
      // fallthrough to exponent form below
    } else if (exp < 0) {
      out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
      return (neg ? "-" : "") + out;
    } else {
      if (digits.size() <= static_cast<size_t>(exp) + 1) {
        out = digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0') + ".0";
      } else {
        out = digits.substr(0, static_cast<size_t>(exp) + 1) + "." + digits.substr(static_cast<size_t>(exp) + 1);
      }
      return (neg ? "-" : "") + out;
    }
  }
  out = digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char eb[16];
  std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
  return (neg ? "-" : "") + out + eb;
}

// ---- word2number 1.1 ------------------------------------------------------------------------

const std::map<std::string, long long>& number_words() {
  static const std::map<std::string, long long> m = {
      {"zero", 0},       {"one", 1},         {"two", 2},          {"three", 3},      {"four", 4},
      {"five", 5},       {"six", 6},         {"seven", 7},        {"eight", 8},      {"nine", 9},
      {"ten", 10},       {"eleven", 11},     {"twelve", 12},      {"thirteen", 13},  {"fourteen", 14},
      {"fifteen", 15},   {"sixteen", 16},    {"seventeen", 17},   {"eighteen", 18},  {"nineteen", 19},
      {"twenty", 20},    {"thirty", 30},     {"forty", 40},       {"fifty", 50},     {"sixty", 60},
      {"seventy", 70},   {"eighty", 80},     {"ninety", 90},      {"hundred", 100},  {"thousand", 1000},
      {"million", 1000000}, {"billion", 1000000000}};
  return m;
}

// number_formation(); nullopt where Python raises (an empty list).
std::optional<long long> number_formation(const std::vector<std::string>& words) {
  std::vector<long long> n;
  for (const auto& w : words) n.push_back(number_words().at(w));
  if (n.size() == 4) return n[0] * n[1] + n[2] + n[3];
  if (n.size() == 3) return n[0] * n[1] + n[2];
  if (n.size() == 2) return std::count(n.begin(), n.end(), 100) ? n[0] * n[1] : n[0] + n[1];
  if (n.empty()) return std::nullopt;
  return n[0];
}

// w2n.word_to_num() rendered as Python's str() of its result; nullopt where it raises.
std::optional<std::string> word_to_num(std::string_view sentence_in) {
  std::string sentence = py_lower(replace_all(sentence_in, "-", " "));
  // isdigit(): every character a digit (superscripts count as digits, but int() rejects them).
  auto cps = py::code_points(sentence);
  bool all_digits = !cps.empty();
  bool superscript = false;
  for (const auto& p : cps) {
    if (is_superscript_digit(p.cp)) {
      superscript = true;
    } else if (decimal_digit(p.cp) < 0) {
      all_digits = false;
    }
  }
  if (all_digits) {
    if (superscript) return std::nullopt;
    return py_int_string(sentence);
  }
  std::vector<std::string> clean;
  for (const auto& w : split_ws(py::strip(sentence))) {
    if (number_words().count(w) || w == "point") clean.push_back(w);
  }
  if (clean.empty()) return std::nullopt;
  for (const char* w : {"thousand", "million", "billion", "point"}) {
    if (std::count(clean.begin(), clean.end(), w) > 1) return std::nullopt;
  }
  std::vector<std::string> decimals;
  auto point = std::find(clean.begin(), clean.end(), "point");
  if (point != clean.end()) {
    decimals.assign(point + 1, clean.end());
    clean.erase(point, clean.end());
  }
  auto index_of = [&](const char* w) -> long {
    auto it = std::find(clean.begin(), clean.end(), w);
    return it == clean.end() ? -1 : static_cast<long>(it - clean.begin());
  };
  long bi = index_of("billion"), mi = index_of("million"), ti = index_of("thousand");
  if ((ti > -1 && (ti < mi || ti < bi)) || (mi > -1 && mi < bi)) return std::nullopt;
  auto slice = [&](long a, long b) { return std::vector<std::string>(clean.begin() + a, clean.begin() + b); };
  long long total = 0;
  const long n = static_cast<long>(clean.size());
  if (n == 1) {
    total += number_words().at(clean[0]);
  } else if (n > 1) {
    if (bi > -1) {
      auto m = number_formation(slice(0, bi));
      if (!m) return std::nullopt;
      total += *m * 1000000000LL;
    }
    if (mi > -1) {
      auto m = number_formation(bi > -1 ? slice(bi + 1, mi) : slice(0, mi));
      if (!m) return std::nullopt;
      total += *m * 1000000LL;
    }
    if (ti > -1) {
      std::optional<long long> m;
      if (mi > -1) {
        m = number_formation(slice(mi + 1, ti));
      } else if (bi > -1) {
        m = number_formation(slice(bi + 1, ti));
      } else {
        m = number_formation(slice(0, ti));
      }
      if (!m) return std::nullopt;
      total += *m * 1000LL;
    }
    std::optional<long long> hundreds = 0;
    if (ti > -1 && ti != n - 1) {
      hundreds = number_formation(slice(ti + 1, n));
    } else if (mi > -1 && mi != n - 1) {
      hundreds = number_formation(slice(mi + 1, n));
    } else if (bi > -1 && bi != n - 1) {
      hundreds = number_formation(slice(bi + 1, n));
    } else if (ti == -1 && mi == -1 && bi == -1) {
      hundreds = number_formation(clean);
    }
    if (!hundreds) return std::nullopt;
    total += *hundreds;
  }
  if (!decimals.empty()) {
    // get_decimal_sum(): float('0.' + digits), or 0 (an int) when a word is not a digit word.
    std::string digits;
    for (const auto& w : decimals) {
      long long v = number_words().count(w) ? number_words().at(w) : -1;
      if (v < 0 || v > 9 || w == "ten") {
        digits.clear();
        break;
      }
      digits += std::to_string(v);
    }
    if (digits.empty()) return std::to_string(total);  // + 0 keeps an int
    double d = std::strtod(("0." + digits).c_str(), nullptr);
    return py_float_repr(static_cast<double>(total) + d);
  }
  return std::to_string(total);
}

// ---- strip_answer_string helpers --------------------------------------------------------------

std::string fix_fracs(const std::string& string) {
  std::vector<std::string> substrs = py::split(string, "\\frac");
  std::string new_str = substrs[0];
  for (size_t k = 1; k < substrs.size(); ++k) {
    const std::string& substr = substrs[k];
    new_str += "\\frac";
    if (!substr.empty() && substr[0] == '{') {
      new_str += substr;
      continue;
    }
    // Python indexes characters (code points), not bytes.
    auto cps = py::code_points(substr);
    if (cps.size() < 2) return string;
    std::string a = substr.substr(cps[0].offset, cps[0].size);
    std::string b = substr.substr(cps[1].offset, cps[1].size);
    std::string post = cps.size() > 2 ? substr.substr(cps[2].offset) : "";
    if (b != "{") {
      new_str += "{" + a + "}{" + b + "}" + post;
    } else {
      new_str += "{" + a + "}" + b + post;
    }
  }
  return new_str;
}

bool canonical_int(const std::string& s) {
  auto v = py_int_string(s);
  return v && *v == s;
}

std::string fix_a_slash_b(const std::string& string) {
  std::vector<std::string> parts = py::split(string, "/");
  if (parts.size() != 2) return string;
  // Python: int() each side unless it holds 'sqrt', then assert "{a}/{b}" == string: only
  // canonical integers (or sqrt expressions) survive.
  const std::string& a = parts[0];
  const std::string& b = parts[1];
  bool a_ok = contains(a, "sqrt") || canonical_int(a);
  bool b_ok = contains(b, "sqrt") || canonical_int(b);
  if (!a_ok || !b_ok) return string;
  return "\\frac{" + a + "}{" + b + "}";
}

// Python's bool(string.isalnum()) — every character a letter or digit, non-empty.
bool py_isalnum(std::string_view s) {
  auto cps = py::code_points(s);
  if (cps.empty()) return false;
  for (const auto& p : cps) {
    auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(p.cp));
    bool alpha = cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT ||
                 cat == UTF8PROC_CATEGORY_LM || cat == UTF8PROC_CATEGORY_LO;
    bool num = cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL || cat == UTF8PROC_CATEGORY_NO;
    if (!alpha && !num) return false;
  }
  return true;
}

// ---- math_equal helpers ------------------------------------------------------------------------

// parse_digits(): commas removed, float(), or a trailing '%' (optionally '\%') divided by 100.
std::optional<double> parse_digits(std::string_view num_in) {
  std::string num = replace_all(num_in, ",", "");
  if (auto v = py_float(num)) return v;
  if (!num.empty() && num.back() == '%') {
    num.pop_back();
    if (!num.empty() && num.back() == '\\') num.pop_back();
    if (auto v = py_float(num)) return *v / 100;
  }
  return std::nullopt;
}

bool numeric_equal(double prediction, double reference) {
  // math.isclose(reference, prediction, rel_tol=1e-4)
  if (prediction == reference) return true;
  if (std::isinf(prediction) || std::isinf(reference)) return false;
  double diff = std::fabs(reference - prediction);
  return diff <= 1e-4 * std::fabs(reference) || diff <= 1e-4 * std::fabs(prediction);
}

std::string choice_answer_clean(std::string_view pred_in) {
  // pred.strip('\n').rstrip('.').rstrip('/').strip(' ').lstrip(':'); last \b(A|B|C|D|E)\b in
  // upper case, else the cleaned text; then rstrip('.') and rstrip('/') again.
  std::string pred = py::strip_chars(pred_in, "\n");
  pred = py::rstrip_chars(pred, ".");
  pred = py::rstrip_chars(pred, "/");
  pred = py::strip_chars(pred, " ");
  pred = py::lstrip_chars(pred, ":");
  static const py::Regex letter(R"(\b(A|B|C|D|E)\b)");
  std::string upper;
  for (const auto& p : py::code_points(pred)) upper += py::encode_utf8(static_cast<char32_t>(utf8proc_toupper(p.cp)));
  auto ms = letter.finditer(upper);
  std::string out = ms.empty() ? py::strip_chars(py::strip(pred), ".") : ms.back().group(upper, 1);
  return py::rstrip_chars(py::rstrip_chars(out, "."), "/");
}

// str_to_pmatrix(): "{1,2}" -> "\begin{pmatrix}1\2\end{pmatrix}" for each {…,…} found.
std::string str_to_pmatrix(const std::string& input) {
  static const py::Regex braces(R"(\{.*,.*\})");
  std::string s = py::strip(input);
  std::string out;
  for (const py::Match& m : braces.finditer(s)) {
    std::string inner = py::strip_chars(m.group(s), "{}");
    if (!out.empty()) out += ", ";
    out += "\\begin{pmatrix}" + replace_all(inner, ",", "\\") + "\\end{pmatrix}";
  }
  return out;
}

bool starts_with(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }
bool ends_with(const std::string& s, std::string_view p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// Python's `[line.strip() for line in body.split('\\\\') if line.strip()]`.
std::vector<std::string> matrix_lines(const std::string& s) {
  const size_t head = std::string_view("\\begin{pmatrix}").size(), tail = std::string_view("\\end{pmatrix}").size();
  std::string body = s.size() >= head + tail ? s.substr(head, s.size() - head - tail) : "";
  std::vector<std::string> lines;
  for (const auto& l : py::split(body, "\\\\")) {
    if (!py::strip(l).empty()) lines.push_back(py::strip(l));
  }
  return lines;
}

// math_equal(prediction, reference) with include_percentage and is_close on, line for line;
// `why` receives the rule that decided (or what the last check found).
bool math_equal_impl(std::string prediction, std::string reference, int depth, std::string& why) {
  // Python would raise RecursionError long before this; no real answer nests this deep.
  if (depth > 500) {
    why = "nested too deep";
    return false;
  }
  if (py_lower(py::strip(prediction)) == py_lower(py::strip(reference))) {
    why = "same text";
    return true;
  }
  static const char* kLetters[] = {"A", "B", "C", "D", "E"};
  for (const char* l : kLetters) {
    if (reference == l && choice_answer_clean(prediction) == reference) {
      why = "choice letter";
      return true;
    }
  }
  // 1. numerical equal (this branch decides when both sides are numbers)
  auto p = parse_digits(prediction);
  auto r = parse_digits(reference);
  if (p && r) {
    const double candidates[] = {*r / 100, *r, *r * 100};
    const char* names[] = {"numeric (reference / 100)", "numeric", "numeric (reference * 100)"};
    for (int k = 0; k < 3; ++k) {
      if (numeric_equal(*p, candidates[k])) {
        why = names[k];
        return true;
      }
    }
    why = fmt::format("numbers differ ({} vs {})", *p, *r);
    return false;
  }
  if (prediction.empty()) {
    why = "no answer";
    return false;
  }
  // 2. symbolic equal
  reference = py::strip(reference);
  prediction = py::strip(prediction);
  if (contains(prediction, "pmatrix") && !contains(reference, "pmatrix")) reference = str_to_pmatrix(reference);
  std::string pred_str = prediction, ref_str = reference;
  auto starts = [](const std::string& s, char c) { return !s.empty() && s.front() == c; };
  auto ends = [](const std::string& s, char c) { return !s.empty() && s.back() == c; };
  if ((starts(prediction, '[') && ends(prediction, ']') && !starts(reference, '(')) ||
      (starts(prediction, '(') && ends(prediction, ')') && !starts(reference, '['))) {
    pred_str = py::strip_chars(pred_str, "[]()");
    ref_str = py::strip_chars(ref_str, "[]()");
  }
  for (const char* ch : {"{", "}", "(", ")"}) {
    ref_str = replace_all(ref_str, ch, "");
    pred_str = replace_all(pred_str, ch, "");
  }
  if (py_lower(pred_str) == py_lower(ref_str)) {
    why = "same text without brackets";
    return true;
  }
  // [a, b] vs. [c, d]: element-wise (every element compared, as Python's all([...]) does)
  static const py::Regex tuple_re(R"((\(|\[).+(\)|\]))");
  if (tuple_re.match(prediction) && tuple_re.match(reference)) {
    auto inner = [](const std::string& s) {
      auto cps = py::code_points(s);
      return s.substr(cps.front().size, s.size() - cps.front().size - cps.back().size);
    };
    auto pp = py::split(inner(prediction), ",");
    auto rp = py::split(inner(reference), ",");
    if (pp.size() == rp.size()) {
      bool all = true;
      for (size_t i = 0; i < pp.size(); ++i) {
        std::string sub;
        all = math_equal_impl(pp[i], rp[i], depth + 1, sub) && all;
      }
      if (all) {
        why = "element-wise";
        return true;
      }
    }
  }
  auto is_matrix = [](const std::string& s) {
    return (starts_with(s, "\\begin{pmatrix}") || starts_with(s, "\\begin{bmatrix}")) &&
           (ends_with(s, "\\end{pmatrix}") || ends_with(s, "\\end{bmatrix}"));
  };
  if (is_matrix(prediction) && is_matrix(reference)) {
    auto pl = matrix_lines(prediction), rl = matrix_lines(reference);
    bool matched = pl.size() == rl.size();
    for (size_t i = 0; matched && i < pl.size(); ++i) {
      auto pp = py::split(pl[i], "&"), rp = py::split(rl[i], "&");
      if (pp.size() != rp.size()) {
        matched = false;
        break;
      }
      bool all = true;
      for (size_t k = 0; k < pp.size(); ++k) {
        std::string sub;
        all = math_equal_impl(pp[k], rp[k], depth + 1, sub) && all;
      }
      matched = all;
    }
    if (matched) {
      why = "matrix element-wise";
      return true;
    }
  }
  auto count_eq = [](const std::string& s) { return std::count(s.begin(), s.end(), '='); };
  if (count_eq(prediction) == 1 && count_eq(reference) == 1) {
    auto ps = py::split(prediction, "=");
    auto rs = py::split(reference, "=");
    std::string pe = py::strip(ps[0]) + " - (" + py::strip(ps[1]) + ")";
    std::string re = py::strip(rs[0]) + " - (" + py::strip(rs[1]) + ")";
    if (symbolic_equal(pe, re).equal() || symbolic_equal("-(" + pe + ")", re).equal()) {
      why = "same equation";
      return true;
    }
  } else if (count_eq(prediction) == 1 && py_len(py::strip(py::split(prediction, "=")[0])) <= 2 &&
             count_eq(reference) == 0) {
    std::string sub;
    if (math_equal_impl(py::split(prediction, "=")[1], reference, depth + 1, sub)) {
      why = "right-hand side: " + sub;
      return true;
    }
  } else if (count_eq(reference) == 1 && py_len(py::strip(py::split(reference, "=")[0])) <= 2 &&
             count_eq(prediction) == 0) {
    std::string sub;
    if (math_equal_impl(prediction, py::split(reference, "=")[1], depth + 1, sub)) {
      why = "reference right-hand side: " + sub;
      return true;
    }
  }
  SymbolicVerdict v = symbolic_equal(prediction, reference);
  switch (v.outcome) {
    case SymbolicVerdict::Outcome::kEqual: why = "symbolic: " + v.detail; return true;
    case SymbolicVerdict::Outcome::kNotEqual: why = "not equal: " + v.detail; return false;
    case SymbolicVerdict::Outcome::kUnsupported: why = "not equal (outside the modelled SymPy subset): " + v.detail; return false;
  }
  return false;
}

}  // namespace

std::optional<double> py_float(std::string_view s_in) {
  std::string s = py::strip(s_in);
  std::string ascii;
  for (const auto& p : py::code_points(s)) {
    int d = decimal_digit(p.cp);
    if (d >= 0) {
      ascii += static_cast<char>('0' + d);
    } else if (p.cp < 0x80) {
      ascii += static_cast<char>(p.cp);
    } else {
      return std::nullopt;
    }
  }
  if (ascii.empty()) return std::nullopt;
  std::string lower = py::lower_ascii(ascii);
  std::string body = lower;
  bool neg = false;
  if (body[0] == '+' || body[0] == '-') {
    neg = body[0] == '-';
    body.erase(0, 1);
  }
  if (body == "inf" || body == "infinity") return neg ? -HUGE_VAL : HUGE_VAL;
  if (body == "nan") return std::nan("");
  // digits ('_' only between two digits), optional fraction, optional exponent
  static const py::Regex num_re(R"([0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?(?:e[+-]?[0-9](?:_?[0-9])*)?|\.[0-9](?:_?[0-9])*(?:e[+-]?[0-9](?:_?[0-9])*)?)");
  if (!num_re.fullmatch(body)) return std::nullopt;
  body.erase(std::remove(body.begin(), body.end(), '_'), body.end());
  double v = std::strtod(body.c_str(), nullptr);  // overflow gives HUGE_VAL, as float() does
  return neg ? -v : v;
}

std::string convert_word_number(std::string_view text) {
  auto v = word_to_num(text);
  return v ? *v : std::string(text);
}

std::string strip_answer_string(std::string_view input) {
  std::string string = py::strip(py::sanitize_utf8(input));
  string = replace_all(string, "\n", "");
  string = py::rstrip_chars(string, ".");
  string = replace_all(string, "\\!", "");
  // matrix
  static const py::Regex begin_array(R"(\\begin\{array\}\{.*?\})");
  static const py::Regex end_array(R"(\\end\{array\})");
  string = begin_array.sub(string, [](const py::Match&) { return std::string("\\begin{pmatrix}"); });
  string = end_array.sub(string, [](const py::Match&) { return std::string("\\end{pmatrix}"); });
  string = replace_all(string, "bmatrix", "pmatrix");
  string = replace_all(string, "tfrac", "frac");
  string = replace_all(string, "dfrac", "frac");
  string = replace_all(replace_all(replace_all(string, "\\neq", "\\ne"), "\\leq", "\\le"), "\\geq", "\\ge");
  string = replace_all(string, "\\left", "");
  string = replace_all(string, "\\right", "");
  string = replace_all(string, "\\{", "{");
  string = replace_all(string, "\\}", "}");
  // number words inside \text{...}
  static const py::Regex text_word(R"(\\text\{([a-zA-Z]+)\})");
  string = text_word.sub(string, [&](const py::Match& m) {
    std::string word = py_lower(m.group(string, 1));
    std::string conv = convert_word_number(word);
    return conv == word ? m.group(string) : conv;
  });
  static const py::Regex squared_unit(R"((cm|inches)\}\^2)");
  string = squared_unit.sub(string, R"(\1})");
  // remove a trailing unit \text{...} when something is left
  static const py::Regex text_unit(R"(\\text{.*?}$)");
  std::string without_unit = py::strip(text_unit.sub(string, [](const py::Match&) { return std::string(); }));
  if (!without_unit.empty() && without_unit != string) string = without_unit;
  string = replace_all(string, "^{\\circ}", "");
  string = replace_all(string, "^\\circ", "");
  string = replace_all(string, "\\$", "");
  string = replace_all(string, "$", "");
  string = replace_all(replace_all(string, "\\(", ""), "\\)", "");
  string = convert_word_number(string);
  static const py::Regex text_any(R"(\\text\{(.*?)\})");
  string = text_any.sub(string, R"(\1)");
  for (const char* key : {"x=", "y=", "z=", "x\\in", "y\\in", "z\\in", "x\\to", "y\\to", "z\\to"}) {
    string = replace_all(string, key, "");
  }
  string = replace_all(string, "\\emptyset", "{}");
  string = replace_all(string, "(-\\infty,\\infty)", "\\mathbb{R}");
  string = replace_all(string, "\\%", "");
  string = replace_all(string, "%", "");
  string = replace_all(string, " .", " 0.");
  string = replace_all(string, "{.", "{0.");
  // Python: `startswith('{') and endswith('}') and isalnum() or …` can never hold (a brace is
  // not alphanumeric); kept for the record.
  if ((!string.empty() && string.front() == '{' && string.back() == '}' && py_isalnum(string))) {
    string = string.substr(1, string.size() - 2);
  }
  string = replace_all(string, "infinity", "\\infty");
  if (!contains(string, "\\infty")) string = replace_all(string, "inf", "\\infty");
  string = replace_all(string, "+\\inity", "\\infty");
  string = replace_all(string, "and", "");
  string = replace_all(string, "\\mathbf", "");
  static const py::Regex mbox(R"(\\mbox{.*?})");
  string = mbox.sub(string, [](const py::Match&) { return std::string(); });
  string = replace_all(string, "'", "");
  string = replace_all(string, "\"", "");
  if (contains(string, "j") && !contains(string, "i")) string = replace_all(string, "j", "i");
  static const py::Regex trailing_zeros_mid(R"((\d+)\.0*([^\d]))");
  static const py::Regex trailing_zeros_end(R"((\d+)\.0*$)");
  string = trailing_zeros_mid.sub(string, R"(\1\2)");
  string = trailing_zeros_end.sub(string, R"(\1)");
  if (string.empty()) return string;
  if (string[0] == '.') string = "0" + string;
  {
    auto parts = py::split(string, "=");
    if (parts.size() == 2 && py_len(parts[0]) <= 2) string = parts[1];
  }
  static const py::Regex sqrt_arg(R"(\\sqrt(\w+))");
  string = sqrt_arg.sub(string, R"(\\sqrt{\1})");
  string = replace_all(string, " ", "");
  string = fix_fracs(string);
  string = fix_a_slash_b(string);
  static const py::Regex backslash_int(R"(\\(?=\-?\d+(\\|\)|,|\]|$)))");
  string = backslash_int.sub(string, [](const py::Match&) { return std::string(); });
  static const py::Regex grade(R"(thgrade$)");
  string = grade.sub(string, [](const py::Match&) { return std::string(); });
  // thousands separators (70,000 or -1,234,567.89) before the integer-list sort below
  static const py::Regex thousands(R"(\s*-?\d{1,3}(?:,\d{3})+(?:\.\d+)?\s*)");
  if (thousands.fullmatch(string)) string = replace_all(string, ",", "");
  static const py::Regex int_list(R"((\s*-?\d+\s*,)*\s*-?\d+\s*)");
  if (int_list.fullmatch(string)) {
    std::vector<std::string> ints;
    for (const auto& piece : py::split(string, ",")) {
      auto v = py_int_string(piece);
      if (!v) {
        ints = {"-1", "-1"};
        break;
      }
      ints.push_back(*v);
    }
    std::sort(ints.begin(), ints.end(), int_less);
    string.clear();
    for (size_t i = 0; i < ints.size(); ++i) string += (i ? "," : "") + ints[i];
  }
  return string;
}

MathExtraction extract_math_answer_traced(std::string_view prediction) {
  MathExtraction x;
  std::string pred_str = replace_all(py::sanitize_utf8(prediction), "\u043a\u0438", "");
  std::string pred;
  if (contains(pred_str, "final answer is $") && contains(pred_str, "$. I hope")) {
    x.rule = "final answer is $...$. I hope";
    std::string tmp = pred_str.substr(pred_str.find("final answer is $") + 17);
    pred = py::strip(tmp.substr(0, tmp.find("$. I hope")));
  } else if (contains(pred_str, "boxed")) {
    x.rule = "last boxed";
    std::string ans = pred_str.substr(pred_str.rfind("boxed") + 5);
    if (ans.empty()) return x;  // Python returns '' here, before any normalization
    if (ans[0] == '{') {
      int stack = 1;
      std::string a;
      for (size_t i = 1; i < ans.size(); ++i) {
        char c = ans[i];
        if (c == '{') {
          ++stack;
          a += c;
        } else if (c == '}') {
          --stack;
          if (stack == 0) break;
          a += c;
        } else {
          a += c;
        }
      }
      pred = a;
    } else {
      pred = py::strip(ans.substr(0, ans.find('$')));
    }
  } else if (contains(pred_str, "he answer is")) {
    x.rule = "the answer is";
    pred = py::strip(pred_str.substr(pred_str.rfind("he answer is") + 12));
  } else if (contains(pred_str, "final answer is")) {
    x.rule = "final answer is";
    pred = py::strip(pred_str.substr(pred_str.rfind("final answer is") + 15));
  } else if (contains(pred_str, "答案是")) {
    x.rule = "答案是";
    std::string after = py::split(pred_str, "答案是")[1];
    pred = py::strip(py::split(py::strip(after), "\n\n")[0]);
  } else if (contains(pred_str, "ANSWER:")) {
    x.rule = "ANSWER:";
    pred = py::strip(pred_str.substr(pred_str.rfind("ANSWER:") + 7));
  } else {
    static const py::Regex number(R"(-?\d*\.?\d+)");
    std::string no_commas = replace_all(pred_str, ",", "");
    auto ms = number.finditer(no_commas);
    x.rule = ms.empty() ? "no number" : "last number";
    pred = ms.empty() ? "" : ms.back().group(no_commas);
  }
  static const py::Regex line_breaks(R"(\n\s*)");
  pred = line_breaks.sub(pred, [](const py::Match&) { return std::string(); });
  if (!pred.empty() && pred[0] == ':') pred.erase(0, 1);
  if (!pred.empty() && pred.back() == '.') pred.pop_back();
  if (!pred.empty() && pred.back() == '/') pred.pop_back();
  x.raw = pred;
  x.answer = strip_answer_string(pred);
  return x;
}

std::string extract_math_answer(std::string_view prediction) { return extract_math_answer_traced(prediction).answer; }

MathVerdict math_equal_traced(std::string_view prediction, std::string_view reference) {
  MathVerdict v;
  v.equal = math_equal_impl(std::string(prediction), std::string(reference), 0, v.rule);
  return v;
}

bool math_equal(std::string_view prediction, std::string_view reference) {
  return math_equal_traced(prediction, reference).equal;
}

bool gsm8k_correct(std::string_view output, std::string_view target) {
  return math_equal(extract_math_answer(output), strip_answer_string(target));
}

}  // namespace qb::eval
