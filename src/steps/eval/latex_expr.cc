// latex2sympy2_extended 1.11.0 for answer strings (see latex_expr.h): normalize_latex, a lexer
// for PS.g4's tokens (longest match, first rule on ties, as ANTLR lexes), and a recursive-descent
// parser for the expression part of the grammar that converts as _Latex2Sympy does. A syntax or
// conversion error unwinds with a local exception and becomes Parsed::error(); nothing escapes.
#include "steps/eval/latex_expr.h"

#include <cmath>
#include <memory>
#include <vector>

#include "steps/eval/py_regex.h"
#include "steps/eval/py_text.h"

namespace qb::eval::sym {

// ---- normalize_latex ------------------------------------------------------------------------------

namespace {

// extract_boxed_content(text, mode="all"): the contents of every \boxed{...} / \fbox{...}, right
// to left, joined with commas (consecutive duplicates once); an unclosed last box keeps the rest.
std::string extract_boxed_content(const std::string& text) {
  std::vector<std::string> results;
  size_t current_pos = text.size();
  size_t max_pos = text.size();
  auto rfind_before = [&](std::string_view needle, size_t end) -> long {
    if (end < needle.size()) return -1;
    size_t at = text.rfind(needle, end - needle.size());
    return at == std::string::npos ? -1 : static_cast<long>(at);
  };
  while (true) {
    long boxed_idx = rfind_before("\\boxed", current_pos);
    long fbox_idx = rfind_before("\\fbox", current_pos);
    if (boxed_idx < 0 && fbox_idx < 0) break;
    size_t start = static_cast<size_t>(std::max(boxed_idx, fbox_idx));
    size_t next = start + (boxed_idx > fbox_idx ? 6 : 5);
    while (next < max_pos) {
      auto cp = py::code_points(std::string_view(text).substr(next, 4));
      if (cp.empty() || !py::is_space(cp[0].cp)) break;
      next += cp[0].size;
    }
    if (next >= max_pos) break;
    if (text[next] == '{') {
      size_t i = next;
      int open = 1;
      std::optional<size_t> close;
      while (i + 1 < max_pos) {
        ++i;
        if (text[i] == '{') {
          ++open;
        } else if (text[i] == '}') {
          if (--open == 0) {
            close = i;
            break;
          }
        }
      }
      if (!close) {
        if (results.empty()) results.push_back(text.substr(next));
        break;
      }
      std::string content = py::strip(text.substr(next + 1, *close - next - 1));
      if (results.empty() || results.back() != content) results.push_back(content);
      max_pos = start;
    } else {
      if (results.empty()) results.push_back(text.substr(next));
      break;
    }
    current_pos = start;
  }
  if (results.empty()) return text;
  std::string out;
  for (size_t k = results.size(); k-- > 0;) out += (out.empty() && k == results.size() - 1 ? "" : ",") + results[k];
  return out;
}

struct Replacement {
  const char* name;
  const char* pattern;
  const char* replacement;
};

// to_replace_patterns, in order (the first alternative that matches at a position wins).
const std::vector<Replacement>& replacements() {
  static const std::vector<Replacement> k = {
      {"math", R"(\\math(?:rm|it|bf))", R"(\text)"},
      {"text", R"(\\text(?:normal|bf|it|rm))", R"(\text)"},
      {"frac", R"(\\(?:d|t|c)frac)", R"(\frac)"},
      {"decimal_space", R"(\s\.)", " 0."},
      {"decimal_brace", R"(\{\.)", "{0."},
      {"approx", R"(\~\=)", R"(\approx)"},
      {"comma", R"(\s*\{\s*,\s*\})", ","},
      {"and_or", R"((?<![a-zA-Z])(,?\s*(?:and|or))(?![a-zA-Z]))", ","},
      {"and_or_text", R"((,?\s*\\text{\s*(?:and|or)\s*}))", ","},
      {"backslash_space", R"((?<!\\)\\\s)", " "},
      {"infinity", R"(infinity)", R"(\infty)"},
      {"dot", R"(,?(\\ldots))", " "},
      {"percentage", R"(\s*\bpercentage\b)", R"(\%)"},
      {"percentage_in_text", R"(\\text{percentage})", "%"},
      {"percent", R"(\s*\bpercent\b)", R"(\%)"},
      {"percent_in_text", R"(\\text{percent})", "%"},
      {"pct", R"(\s*\bpct\b)", R"(\%)"},
      {"pct_in_text", R"(\\text{pct})", "%"},
      {"inf", R"(((?<!\\)inf(?!inity)))", R"(\infty)"},
      {"sqrt", R"( sqrt)", R"(\sqrt)"},
  };
  return k;
}

// Capturing groups in a pattern: '(' not escaped and not opening a (?...) construct.
int count_groups(std::string_view p) {
  int n = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\') {
      ++i;
    } else if (p[i] == '(' && (i + 1 >= p.size() || p[i + 1] != '?')) {
      ++n;
    }
  }
  return n;
}

std::string replace_in_latex(const std::string& text) {
  static const auto* table = [] {
    auto* t = new std::pair<std::unique_ptr<py::Regex>, std::vector<size_t>>();
    std::string combined;
    size_t group = 1;
    for (const auto& r : replacements()) {
      if (!combined.empty()) combined += "|";
      combined += std::string("(") + r.pattern + ")";
      t->second.push_back(group);
      group += 1 + static_cast<size_t>(count_groups(r.pattern));
    }
    t->first = std::make_unique<py::Regex>(combined);
    return t;
  }();
  return table->first->sub(text, [&](const py::Match& m) {
    for (size_t k = 0; k < table->second.size(); ++k) {
      size_t g = table->second[k];
      if (g < m.groups.size() && m.groups[g]) return std::string(replacements()[k].replacement);
    }
    return m.group(text);
  });
}

}  // namespace

std::string normalize_latex(std::string_view input) {
  std::string text = extract_boxed_content(std::string(input));
  text = py::replace_all(text, R"(\mathrm{T})", "T");
  text = py::replace_all(py::replace_all(text, R"(\mathrm{d})", "d"), R"({\rm d})", "d");
  text = py::replace_all(text, R"(\left[\begin{matrix})", R"(\begin{bmatrix})");
  text = py::replace_all(text, R"(\end{matrix}\right])", R"(\end{bmatrix})");
  static const py::Regex r_left(
      R"(\\m?left(\\\{|\{|\\\||\||\[|\(|\\rbracl|\\lgroup|\\lbrace|\\lbrack|\\vert|\\lvert|\\lceil|\\lfloor|\\vert|\\lvert|\\langle|\\llcorner|\\ulcorner))");
  static const py::Regex r_right(
      R"(\\m?right(\\\}|\}|\\\||\||\]|\)|\\rbrack|\\rgroup|\\rbrace|\\rbrack|\\vert|\\rvert|\\rceil|\\rfloor|\\vert|\\rvert|\\rangle|\\lrcorner|\\urcorner))");
  text = r_left.sub(text, R"(\1)");
  text = r_right.sub(text, R"(\1)");
  static const py::Regex permutation(R"(\(([a-zA-Z0-9+\-*/\\ ]+?)\)_{([a-zA-Z0-9+\-*/\\ ]+?)})");
  text = permutation.sub(text, R"(\\frac{(\1)!}{((\1)-(\2))!})");
  static const py::Regex to_remove(
      R"(\\mathrm\{th\}|\\!\s*|\\text\s*\{\s*\}|\\text\s*\{\s*\}|\\\$|\$|(?<!\\)["']|\\displaystyle)");
  text = to_remove.sub(text, [](const py::Match&) { return std::string(); });
  text = replace_in_latex(text);
  text = py::replace_all(py::replace_all(text, "\n", " "), "\t", " ");
  if (!py::contains(text, "matrix")) {
    static const py::Regex slash_fix(R"(\\\\(?=[a-zA-Z]))");
    text = slash_fix.sub(text, [](const py::Match&) { return std::string("\\"); });
  }
  return py::strip(text);
}

// ---- lexer --------------------------------------------------------------------------------------

namespace {

enum class T {
  kAdd, kSub, kMul, kDiv, kLParen, kRParen, kLParenVisual, kRParenVisual, kLGroup, kRGroup, kLBrace, kRBrace,
  kLBraceVisual, kRBraceVisual, kLBraceCmd, kRBraceCmd, kLBracket, kRBracket, kLBrack, kRBrack, kPhantom, kBoxed,
  kBar, kLVert, kRVert, kVert, kSqrt, kTimes, kCdot, kCmdDiv, kFrac, kMod, kUnderscore, kCaret, kColon,
  kSemicolon, kComma, kPeriod, kBang, kNumber, kENotation, kPercentNumber, kExpE, kENotationE, kLetter,
  kDifferential, kGreek, kOtherSymbol, kSymbol, kVariable, kAccent, kAssignment, kEqual, kApprox, kLt, kLte, kGt,
  kGte, kUnequal, kIn, kPlusMinus, kSetLiteral, kSetOp, kTranspose, kDegree, kOtherFunc, kEnd
};

struct Token {
  T type;
  std::string text;
};

struct LexError {
  std::string what;
};
struct ParseError {
  std::string what;
};
struct NotModelled {
  std::string what;
};

struct Literal {
  const char* text;
  T type;  // kEnd marks a skipped token (white space and spacing commands)
};

// PS.g4's literal tokens, in grammar order (ANTLR breaks length ties by the earlier rule).
const std::vector<Literal>& literals() {
  static const std::vector<Literal> k = [] {
    std::vector<Literal> v = {
        // T__0..T__11: transpose and degree marks
        {"^T", T::kTranspose}, {"^{T}", T::kTranspose}, {"^{\\top}", T::kTranspose}, {"'", T::kTranspose},
        {"^\\circ", T::kDegree}, {"^\\degree", T::kDegree}, {"^\\circle", T::kDegree}, {"^\u00b0", T::kDegree},
        {"^{\\circ}", T::kDegree}, {"^{\\degree}", T::kDegree}, {"^{\\circle}", T::kDegree}, {"^{\u00b0}", T::kDegree},
        // skipped
        {"\\,", T::kEnd}, {"\\thinspace", T::kEnd}, {"\\:", T::kEnd}, {"\\medspace", T::kEnd}, {"\\;", T::kEnd},
        {"\\thickspace", T::kEnd}, {"\\quad", T::kEnd}, {"\\qquad", T::kEnd}, {"\\!", T::kEnd},
        {"\\negthinspace", T::kEnd}, {"\\negmedspace", T::kEnd}, {"\\negthickspace", T::kEnd}, {"\\$", T::kEnd},
        {"\\vrule", T::kEnd}, {"\\vcenter", T::kEnd}, {"\\vbox", T::kEnd}, {"\\vskip", T::kEnd},
        {"\\vspace", T::kEnd}, {"\\hfil", T::kEnd},
        {"+", T::kAdd}, {"\u2214", T::kAdd}, {"\u2295", T::kAdd}, {"\u229e", T::kAdd},
        {"-", T::kSub}, {"\u2212", T::kSub}, {"\u2238", T::kSub},
        {"*", T::kMul}, {"\u00d7", T::kMul}, {"\u22c5", T::kMul}, {"\u22c4", T::kMul}, {"\u22a1", T::kMul},
        {"\u2217", T::kMul}, {"\u22c6", T::kMul}, {"\u2218", T::kMul}, {"\u2219", T::kMul}, {"\u2297", T::kMul},
        {"\u22a0", T::kMul}, {"\u22c8", T::kMul}, {"\u22c9", T::kMul}, {"\u22ca", T::kMul},
        {"/", T::kDiv}, {"\u00f7", T::kDiv}, {"\u2215", T::kDiv}, {"\\over", T::kDiv},
        {"(", T::kLParen}, {")", T::kRParen}, {"\\(", T::kLParenVisual}, {"\\)", T::kRParenVisual},
        {"\\lgroup", T::kLGroup}, {"\\rgroup", T::kRGroup}, {"{", T::kLBrace}, {"}", T::kRBrace},
        {"\\{", T::kLBraceVisual}, {"\\}", T::kRBraceVisual}, {"\\lbrace", T::kLBraceCmd}, {"\\rbrace", T::kRBraceCmd},
        {"[", T::kLBracket}, {"]", T::kRBracket}, {"\\lbrack", T::kLBrack}, {"\\rbrack", T::kRBrack},
        {"\\phantom", T::kPhantom}, {"\\boxed", T::kBoxed},
        {"|", T::kBar}, {"\\lvert", T::kLVert}, {"\\rvert", T::kRVert}, {"\\vert", T::kVert}, {"\\|", T::kOtherFunc},
        {"\\langle", T::kOtherFunc}, {"\\rangle", T::kOtherFunc}, {"\\lfloor", T::kOtherFunc},
        {"\\rfloor", T::kOtherFunc}, {"\\llcorner", T::kOtherFunc}, {"\\lrcorner", T::kOtherFunc},
        {"\\lceil", T::kOtherFunc}, {"\\rceil", T::kOtherFunc}, {"\\ulcorner", T::kOtherFunc},
        {"\\urcorner", T::kOtherFunc},
    };
    for (const char* f : {"\\lim", "\\to", "\\rightarrow", "\\Rightarrow", "\\longrightarrow", "\\Longrightarrow",
                          "\\int", "\\sum", "\\prod", "\\log", "\\ln", "\\exp", "\\sin", "\\cos", "\\tan", "\\csc",
                          "\\sec", "\\cot", "\\Gamma", "\\gamma", "\\arcsin", "\\arccos", "\\arctan", "\\arccsc",
                          "\\arcsec", "\\arccot", "\\sinh", "\\cosh", "\\tanh", "\\arsinh", "\\arcosh", "\\artanh",
                          "\\arcsinh", "\\arccosh", "\\arctanh", "arsinh", "arcsinh", "arcosh", "arccosh", "artanh",
                          "arctanh", "gcd", "lcm", "floor", "ceil"}) {
      v.push_back({f, T::kOtherFunc});
    }
    v.push_back({"\\sqrt", T::kSqrt});
    for (const char* f : {"\\gcd", "\\lcm", "\\floor", "\\ceil", "\\max", "\\min", "\\det", "eye", "zeros", "ones",
                          "cols", "rows", "diag", "norm", "rank", "trace", "tr", "rref", "hstack", "vstack", "orth",
                          "ortho", "orthogonal", "orthogonalize", "nullspace", "eig", "eigen", "diagonalize",
                          "eigenvals", "eigenvalues", "eigenvects", "eigenvectors", "svd", "SVD"}) {
      v.push_back({f, T::kOtherFunc});
    }
    v.insert(v.end(), {{"\\times", T::kTimes}, {"\\cdot", T::kCdot}, {"\\div", T::kCmdDiv}, {"\\frac", T::kFrac},
                       {"\\dfrac", T::kFrac}, {"\\tfrac", T::kFrac}, {"\\cfrac", T::kFrac}});
    for (const char* f : {"\\binom", "\\tbinom", "\\dbinom", "\\choose"}) v.push_back({f, T::kOtherFunc});
    v.push_back({"\\mod", T::kMod});
    for (const char* f : {"\\mathit", "\\operatorname", "matrix", "pmatrix", "bmatrix", "vmatrix",
                          "\\begin{matrix}", "\\begin{pmatrix}", "\\begin{bmatrix}", "\\end{matrix}",
                          "\\end{pmatrix}", "\\end{bmatrix}", "\\begin{vmatrix}", "\\end{vmatrix}",
                          "\\end{array}", "&", "\\\\"}) {
      v.push_back({f, T::kOtherFunc});
    }
    v.insert(v.end(), {{"_", T::kUnderscore}, {"^", T::kCaret}, {":", T::kColon}, {";", T::kSemicolon},
                       {",", T::kComma}, {".", T::kPeriod}, {"\\exponentialE", T::kExpE}, {"e", T::kExpE},
                       {"E", T::kENotationE}});
    for (const char* f : {"\\xrightarrow", "\\xRightarrow", "<->", "<=>", "\\leftrightarrow", "\\Leftrightarrow"}) {
      v.push_back({f, T::kOtherFunc});
    }
    v.push_back({"\\in", T::kIn});
    for (const char* f : {"=", "\u2261", "\u2263", "\u225f", "\u224e", "\u224f", "\u2250", "\u2251", "\u2252",
                          "\u2253", "\u2254", "\u2255", "\u2256", "\u2257"}) {
      v.push_back({f, T::kAssignment});
    }
    v.insert(v.end(), {{"==", T::kEqual}, {"\\equiv", T::kEqual}});
    for (const char* f : {"~=", "\u2248", "\u224a", "\u224b", "\u2243", "\u2245", "\\approx"}) v.push_back({f, T::kApprox});
    for (const char* f : {"<", "\u226a", "\u227a", "\u22d6", "\\lt"}) v.push_back({f, T::kLt});
    for (const char* f : {"\\leq", "\\le", "\\leqslant", "\u2264", "\u2266", "\u2272", "\u227e", "<="}) v.push_back({f, T::kLte});
    for (const char* f : {">", "\u226b", "\u227b", "\u22d7", "\\gt"}) v.push_back({f, T::kGt});
    for (const char* f : {"\\geq", "\\ge", "\\geqslant", "\u2265", "\u2267", "\u2273", "\u227f", ">="}) v.push_back({f, T::kGte});
    for (const char* f : {"!=", "!==", "\\ne", "\\neq", "\\not\\equiv", "\u2260", "\u2241", "\u2244", "\u2247",
                          "\u2249", "\u2262"}) {
      v.push_back({f, T::kUnequal});
    }
    v.push_back({"!", T::kBang});
    for (const char* f : {"\\mathbb{N}", "\u2115", "\\mathbb{Z}", "\u2124", "\\mathbb{Q}", "\u211a", "\\mathbb{R}",
                          "\u211d", "\\mathbb{C}", "\u2102", "\\mathbb{P}", "\u2119"}) {
      v.push_back({f, T::kSetLiteral});
    }
    for (const char* f : {"\\cup", "\u222a", "\\cap", "\u2229", "\\setminus", "\u2216"}) v.push_back({f, T::kSetOp});
    for (const char* f : {"\\pm", "\u00b1", "\u2213", "\\mp"}) v.push_back({f, T::kPlusMinus});
    for (const char* f : {"\\emptyset", "\u2205", "\\{\\}", "\\lbrace\\rbrace"}) v.push_back({f, T::kSetLiteral});
    for (const char* f : {"\\supseteq", "\u2287", "\\subseteq", "\u2286", "\\notin", "\u2209"}) v.push_back({f, T::kSetOp});
    return v;
  }();
  return k;
}

// GREEK_LETTER (GREEK_CMD adds an optional space) and the name get_symbol gives it.
const std::vector<std::pair<const char*, const char*>>& greek() {
  static const std::vector<std::pair<const char*, const char*>> k = {
      {"\\alpha", "alpha"}, {"\u03b1", "alpha"}, {"\\char\"000391", "alpha"}, {"\\char000391", "alpha"},
      {"\\beta", "beta"}, {"\u03b2", "beta"}, {"\\char\"000392", "beta"}, {"\\char000392", "beta"},
      {"\u03b3", "gamma"}, {"\u0393", "Gamma"}, {"\\delta", "delta"}, {"\u03b4", "delta"},
      {"\\Delta", "Delta"}, {"\u0394", "Delta"}, {"\\epsilon", "epsilon"}, {"\u03b5", "epsilon"},
      {"\\char\"000190", "epsilon"}, {"\\char000190", "epsilon"}, {"\\varepsilon", "varepsilon"},
      {"\u03f5", "varepsilon"}, {"\\zeta", "zeta"}, {"\u03b6", "zeta"}, {"\\char\"000396", "zeta"},
      {"\\char000396", "zeta"}, {"\\eta", "eta"}, {"\u03b7", "eta"}, {"\\char\"000397", "eta"}, {"\\char000397", "eta"},
      {"\\theta", "theta"}, {"\u03b8", "theta"}, {"\\Theta", "Theta"}, {"\u0398", "Theta"}, {"\\vartheta", "vartheta"},
      {"\u03d1", "vartheta"}, {"\\iota", "iota"}, {"\u03b9", "iota"}, {"\\char\"000399", "iota"},
      {"\\char000399", "iota"}, {"\\kappa", "kappa"}, {"\u03ba", "kappa"}, {"\\char\"00039A", "kappa"},
      {"\\char00039A", "kappa"}, {"\\lambda", "lambda"}, {"\u03bb", "lambda"}, {"\\Lambda", "Lambda"},
      {"\u039b", "Lambda"}, {"\\mu", "mu"}, {"\u03bc", "mu"}, {"\\char\"00039C", "mu"}, {"\\char00039C", "mu"},
      {"\\nu", "nu"}, {"\u03bd", "nu"}, {"\\char\"00039D", "nu"}, {"\\char00039D", "nu"}, {"\\xi", "xi"},
      {"\u03be", "xi"}, {"\\Xi", "Xi"}, {"\u039e", "Xi"}, {"\\omicron", "omicron"}, {"\u03bf", "omicron"},
      {"\\char\"00039F", "omicron"}, {"\\char00039F", "omicron"}, {"\\pi", "pi"}, {"\u03c0", "pi"}, {"\\Pi", "Pi"},
      {"\u03a0", "Pi"}, {"\\varpi", "varpi"}, {"\u03d6", "varpi"}, {"\\rho", "rho"}, {"\u03c1", "rho"},
      {"\\char\"0003A1", "rho"}, {"\\char0003A1", "rho"}, {"\\varrho", "varrho"}, {"\u03f1", "varrho"},
      {"\\sigma", "sigma"}, {"\u03c3", "sigma"}, {"\\Sigma", "Sigma"}, {"\u03a3", "Sigma"}, {"\\varsigma", "varsigma"},
      {"\u03c2", "varsigma"}, {"\\tau", "tau"}, {"\u03c4", "tau"}, {"\\char\"0003A4", "tau"}, {"\\char0003A4", "tau"},
      {"\\upsilon", "upsilon"}, {"\u03c5", "upsilon"}, {"\\Upsilon", "Upsilon"}, {"\u03a5", "Upsilon"},
      {"\\phi", "phi"}, {"\u03c6", "phi"}, {"\\Phi", "Phi"}, {"\u03a6", "Phi"}, {"\\varphi", "varphi"},
      {"\u03d5", "varphi"}, {"\\chi", "chi"}, {"\u03c7", "chi"}, {"\\char\"0003A7", "chi"}, {"\\char0003A7", "chi"},
      {"\\psi", "psi"}, {"\u03c8", "psi"}, {"\\Psi", "Psi"}, {"\u03a8", "Psi"}, {"\\omega", "omega"},
      {"\u03c9", "omega"}, {"\\Omega", "Omega"}, {"\u03a9", "Omega"}};
  return k;
}

const std::vector<const char*>& other_symbols() {
  static const std::vector<const char*> k = {
      "\\Bbbk", "\\wp", "\\nabla", "\\bigstar", "\\angle", "\\nexists", "\\diagdown", "\\measuredangle", "\\eth",
      "\u2135", "\u2136", "\u2137", "\u2138", "\\diagup", "\\sphericalangle", "\\clubsuit", "\\varnothing",
      "\\Diamond", "\\complement", "\\diamondsuit", "\\imath", "\\Finv", "\\triangledown", "\\heartsuit",
      "\\jmath", "\\Game", "\\triangle", "\\spadesuit", "\\ell", "\\hbar", "\\vartriangle", "\\hslash",
      "\\blacklozenge", "\\lozenge", "\\blacksquare", "\\mho", "\\blacktriangle", "\\sharp", "\\prime", "\\Im",
      "\\flat", "\\square", "\\backprime", "\\Re", "\\natural", "\\surd", "\\circledS"};
  return k;
}

const std::vector<const char*>& accent_commands() {
  static const std::vector<const char*> k = {
      "\\acute", "\\bar", "\\overline", "\\breve", "\\check", "\\widecheck", "\\dot", "\\ddot", "\\grave", "\\hat",
      "\\tilde", "\\widetilde", "\\vec", "\\overrightarrow", "\\bm", "\\boldsymbol", "\\text", "\\textit",
      "\\textbf", "\\textnormal", "\\mathbb", "\\mathbin", "\\mathbf", "\\mathcal", "\\mathclap", "\\mathclose",
      "\\mathellipsis", "\\mathfrak", "\\mathinner", "\\mathit", "\\mathnormal", "\\mathop", "\\mathopen",
      "\\mathord", "\\mathpunct", "\\mathrel", "\\mathring", "\\mathrlap", "\\mathrm", "\\mathscr", "\\mathsf",
      "\\mathsterling", "\\mathtt", "\\mbox"};
  return k;
}

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// NUMBER: DIGIT+ | DIGIT* '.' DIGIT+ (longest).
size_t match_number(std::string_view s, size_t i) {
  size_t j = i;
  while (j < s.size() && is_digit(s[j])) ++j;
  if (j < s.size() && s[j] == '.' && j + 1 < s.size() && is_digit(s[j + 1])) {
    size_t k = j + 1;
    while (k < s.size() && is_digit(s[k])) ++k;
    return k - i;
  }
  return j - i;
}

std::vector<Token> lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    if (is_ws(s[i])) {
      ++i;
      continue;
    }
    size_t best = 0;
    T type = T::kEnd;
    bool skip = false;
    auto offer = [&](size_t len, T t, bool is_skip = false) {
      if (len > best) {  // strictly longer: an earlier rule keeps a tie
        best = len;
        type = t;
        skip = is_skip;
      }
    };
    // Rules in grammar order: literal tokens first (T__*, spaces, operators, ..., commands).
    for (const Literal& l : literals()) {
      std::string_view lt(l.text);
      if (s.substr(i, lt.size()) == lt) offer(lt.size(), l.type == T::kEnd ? T::kEnd : l.type, l.type == T::kEnd);
    }
    // DIFFERENTIAL: 'd' WS_CHAR*? ([a-zA-Z] | '\\' [a-zA-Z]+)
    if (s[i] == 'd') {
      size_t j = i + 1;
      while (j < s.size() && is_ws(s[j])) ++j;
      if (j < s.size() && is_alpha(s[j])) {
        offer(j + 1 - i, T::kDifferential);
      } else if (j + 1 < s.size() && s[j] == '\\' && is_alpha(s[j + 1])) {
        size_t k = j + 1;
        while (k < s.size() && is_alpha(s[k])) ++k;
        offer(k - i, T::kDifferential);
      }
    }
    if (is_alpha(s[i]) && s[i] != 'e' && s[i] != 'E') offer(1, T::kLetter);
    if (size_t n = match_number(s, i); n > 0) {
      offer(n, T::kNumber);
      // E_NOTATION: NUMBER 'E' (SUB | ADD)? DIGIT+
      size_t j = i + n;
      if (j < s.size() && s[j] == 'E') {
        size_t k = j + 1;
        if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
        size_t d = k;
        while (d < s.size() && is_digit(s[d])) ++d;
        if (d > k) offer(d - i, T::kENotation);
      }
      // PERCENT_NUMBER: NUMBER WS_CHAR? ('\\%' | '%')
      size_t p = i + n;
      if (p < s.size() && is_ws(s[p])) ++p;
      if (s.substr(p, 2) == "\\%") offer(p + 2 - i, T::kPercentNumber);
      if (s.substr(p, 1) == "%") offer(p + 1 - i, T::kPercentNumber);
    }
    for (const auto& [g, name] : greek()) {
      std::string_view gv(g);
      if (s.substr(i, gv.size()) == gv) offer(gv.size() + (i + gv.size() < s.size() && s[i + gv.size()] == ' '), T::kGreek);
    }
    for (const char* o : other_symbols()) {
      std::string_view ov(o);
      if (s.substr(i, ov.size()) == ov) offer(ov.size() + (i + ov.size() < s.size() && s[i + ov.size()] == ' '), T::kOtherSymbol);
    }
    // SYMBOL: '\partial' | '\infty' | '\$\infty' | '\infty\%' | '\infty%'
    for (std::string_view sym : {"\\partial", "\\infty", "\\$\\infty", "\\infty\\%", "\\infty%"}) {
      if (s.substr(i, sym.size()) == sym) offer(sym.size(), T::kSymbol);
    }
    // VARIABLE: '\variable{...}' (a symbol either way)
    if (s.substr(i, 10) == "\\variable{") {
      size_t close = s.find('}', i + 10);
      if (close != std::string_view::npos) offer(close + 1 - i, T::kVariable);
    }
    // ACCENT: ACCENT_CMD WS_CHAR? '{' ('\}' | ~'}')*? '}'
    for (const char* a : accent_commands()) {
      std::string_view av(a);
      if (s.substr(i, av.size()) != av) continue;
      size_t j = i + av.size();
      if (j < s.size() && is_ws(s[j])) ++j;
      if (j >= s.size() || s[j] != '{') continue;
      size_t k = j + 1;
      while (k < s.size() && s[k] != '}') k += (s[k] == '\\' && k + 1 < s.size() && s[k + 1] == '}') ? 1 : 1;
      if (k < s.size()) offer(k + 1 - i, T::kAccent);
    }
    if (best == 0) {
      auto cp = py::code_points(s.substr(i, 4));
      throw LexError{"no token at '" + std::string(s.substr(i, cp.empty() ? 1 : cp[0].size)) + "'"};
    }
    if (!skip) out.push_back({type, std::string(s.substr(i, best))});
    i += best;
  }
  out.push_back({T::kEnd, ""});
  return out;
}

// ---- parser and converter -------------------------------------------------------------------------

// A converted node: its value and the SymPy facts the converter branches on.
struct Node {
  Value v;
  bool only_symbols = false;  // is_expr_of_only_symbols()
  std::string name{};         // a lone symbol or constant: its str()
};

Node number(Value v) { return Node{v, false}; }
Node symbol() { return Node{Value::symbolic(), true}; }

bool is_open(T t) {
  return t == T::kLParen || t == T::kLBracket || t == T::kLBrace || t == T::kLBraceVisual || t == T::kLBraceCmd ||
         t == T::kLParenVisual || t == T::kLGroup || t == T::kLBrack;
}
bool is_close(T t) {
  return t == T::kRParen || t == T::kRBracket || t == T::kRBrace || t == T::kRBraceVisual || t == T::kRBraceCmd ||
         t == T::kRParenVisual || t == T::kRGroup || t == T::kRBrack;
}
bool is_relation(T t) {
  return t == T::kAssignment || t == T::kEqual || t == T::kApprox || t == T::kLt || t == T::kLte || t == T::kGt ||
         t == T::kGte || t == T::kUnequal || t == T::kIn;
}

// sympy.Number(text) as parse_number() calls it (commas dropped, leading zeros of digit strings
// dropped).
Value parse_number(std::string text) {
  text = py::replace_all(text, ",", "");
  bool digits = !text.empty();
  for (char c : text) digits = digits && is_digit(c);
  if (digits) {
    size_t nz = text.find_first_not_of('0');
    text = nz == std::string::npos ? "0" : text.substr(nz);
    auto v = parse_digits_int(text);
    return v ? Value::integer(*v) : Value::inexact_integer(std::strtod(text.c_str(), nullptr));
  }
  return Value::flt(std::strtod(text.c_str(), nullptr));
}

class Parser {
 public:
  Parser(const std::vector<Token>& toks, size_t begin, size_t end) : t_(toks), pos_(begin), end_(end) {}

  // One element of a set/tuple list (PS.g4 `element`: plus_minus_expr | set_atom | relation).
  // Elements that are sets, tuples or intervals have no number, but their insides are still
  // parsed: a syntax error anywhere makes latex2sympy raise.
  Node element() {
    const size_t b = pos_, e = end_;
    for (size_t k = b; k < e; ++k) {
      if (t_[k].type == T::kPlusMinus && depth_at(b, k) == 0) {
        // plus_minus_expr: [expr] PLUS_MINUS expr — the set {a - b, a + b}
        if (k > b) Parser(t_, b, k).expr_to_end();
        Parser(t_, k + 1, e).expr_to_end();
        pos_ = e;
        return Node{Value::symbolic(), false};
      }
    }
    if (e > b + 1 && is_open(t_[b].type) && matching(b, e) == e - 1) {
      T open = t_[b].type;
      bool brace = open == T::kLBrace || open == T::kLBraceVisual;
      if (brace || open == T::kLParen || open == T::kLBracket || open == T::kLParenVisual) {
        auto parts = split_list(b + 1, e - 1);
        if (!brace && parts.size() == 1) {
          // ordered_tuple of one element: the element itself ("(18)" is 18, "({18})" a set)
          pos_ = e;
          return Parser(t_, parts[0].first, parts[0].second).element();
        }
        if (!(brace && parts.size() == 1 && parts[0].first == parts[0].second)) {  // "{}" is the empty set
          for (const auto& [pb, pe] : parts) Parser(t_, pb, pe).element();
        }
        pos_ = e;
        return Node{Value::symbolic(), false};  // finite set, interval or tuple
      }
    }
    if (e == b + 1 && t_[b].type == T::kSetLiteral) {
      pos_ = e;
      return Node{Value::symbolic(), false};
    }
    for (size_t k = b; k < e; ++k) {
      if (t_[k].type == T::kSetOp) throw NotModelled{"set operation"};
    }
    return relation_to_end();
  }

  Node expr_to_end() {
    Node n = expr();
    if (pos_ != end_) throw ParseError{"unexpected '" + peek().text + "'"};
    return n;
  }

  // Top-level comma/semicolon separated elements within [b, e).
  std::vector<std::pair<size_t, size_t>> split_list(size_t b, size_t e) const {
    std::vector<std::pair<size_t, size_t>> parts;
    size_t start = b;
    int depth = 0;
    for (size_t k = b; k < e; ++k) {
      if (is_open(t_[k].type)) ++depth;
      if (is_close(t_[k].type)) --depth;
      if (depth == 0 && (t_[k].type == T::kComma || t_[k].type == T::kSemicolon)) {
        parts.emplace_back(start, k);
        start = k + 1;
      }
    }
    parts.emplace_back(start, e);
    return parts;
  }

 private:
  const Token& peek() const { return pos_ < end_ ? t_[pos_] : end_token(); }
  static const Token& end_token() {
    static const Token k{T::kEnd, ""};
    return k;
  }
  bool at(T t) const { return peek().type == t; }
  bool accept(T t) {
    if (at(t)) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(T t, const char* what) {
    if (!accept(t)) throw ParseError{std::string("expected ") + what};
  }

  int depth_at(size_t b, size_t k) const {
    int d = 0;
    for (size_t j = b; j < k; ++j) {
      if (is_open(t_[j].type)) ++d;
      if (is_close(t_[j].type)) --d;
    }
    return d;
  }
  // Index of the bracket closing the one at `open` (or end when unbalanced).
  size_t matching(size_t open, size_t e) const {
    int d = 0;
    for (size_t k = open; k < e; ++k) {
      if (is_open(t_[k].type)) ++d;
      if (is_close(t_[k].type) && --d == 0) return k;
    }
    return e;
  }

  Node relation_to_end() {
    Node n = relation();
    if (pos_ != end_) throw ParseError{"unexpected '" + peek().text + "'"};
    return n;
  }

  // relation: relation (IN | ASSIGNMENT | EQUAL | APPROX | LT | ...) relation | expr  (left fold)
  Node relation() {
    Node lhs = expr();
    while (is_relation(peek().type)) {
      T op = peek().type;
      ++pos_;
      Node rhs = expr();
      if (op == T::kApprox) {
        // An approximation keeps the exact side: the value of "x ≈ v", else the left side.
        lhs = lhs.only_symbols ? rhs : lhs;
      } else if (op == T::kIn) {
        throw ParseError{"Unrecognized relation"};
      } else {
        lhs = Node{Value::symbolic(), false};  // Eq, Lt, Ne, ...: a relational has no float
      }
    }
    return lhs;
  }

  Node expr() { return additive(); }

  Node additive() {
    Node lhs = mp();
    while (at(T::kAdd) || at(T::kSub)) {
      bool sub = at(T::kSub);
      ++pos_;
      Node rhs = mp();
      if (sub) {
        // rh.func.is_Number: -rh, else Mul(-1, rh)
        rhs = rhs.v.is_Number() ? number(evaluated::neg(rhs.v)) : Node{unevaluated::mul(Value::integer(-1), rhs.v), false};
      }
      lhs = Node{unevaluated::add(lhs.v, rhs.v), lhs.only_symbols && rhs.only_symbols};
    }
    return lhs;
  }

  Node mp() {
    Node lhs = unary();
    while (true) {
      T op = peek().type;
      if (op != T::kMul && op != T::kTimes && op != T::kCdot && op != T::kDiv && op != T::kCmdDiv && op != T::kColon &&
          op != T::kMod) {
        break;
      }
      ++pos_;
      Node rhs = unary();
      if (op == T::kMul || op == T::kTimes || op == T::kCdot) {
        lhs = Node{unevaluated::mul(lhs.v, rhs.v), lhs.only_symbols && rhs.only_symbols};
      } else if (op == T::kMod) {
        lhs = Node{Value::symbolic(), false};  // N(Mod(a, b, evaluate=False)) raises
      } else if (lhs.v.is_Integer() && rhs.v.is_Integer()) {
        if (!lhs.v.exact() || !rhs.v.exact()) throw NotModelled{"division of huge integers"};
        lhs = number(Value::rational(lhs.v.p(), rhs.v.p()));
      } else {
        lhs = Node{unevaluated::mul(lhs.v, unevaluated::inverse(rhs.v)), lhs.only_symbols && rhs.only_symbols};
      }
    }
    return lhs;
  }

  Node unary() {
    if (accept(T::kAdd)) return unary();
    if (accept(T::kSub)) {
      Node n = unary();
      if (n.v.is_Number()) return number(evaluated::neg(n.v));
      return Node{unevaluated::mul(Value::integer(-1), n.v), false};
    }
    std::vector<Node> items;
    // The first operand may open a |...| group even inside another one ("||2||").
    while (items.empty() ? (at(T::kBar) || starts_postfix()) : starts_postfix()) items.push_back(postfix());
    if (items.empty()) throw ParseError{"expected an operand, got '" + peek().text + "'"};
    return postfix_list(items, 0);
  }

  // convert_postfix_list: a right fold; Integer followed by a positive Rational is a mixed number.
  Node postfix_list(std::vector<Node>& items, size_t i) {
    Node res = items[i];
    if (i + 1 == items.size()) return res;
    Node rh = postfix_list(items, i + 1);
    if (res.v.is_Integer() && rh.v.is_Rational() && rh.v.exact() && rh.v.p() > 0 && rh.v.q() > 0) {
      if (!res.v.exact()) throw NotModelled{"mixed number with a huge integer"};
      auto whole = checked_mul(res.v.p(), rh.v.q());
      auto num = whole ? checked_add(*whole, res.v.p() < 0 ? -rh.v.p() : rh.v.p()) : std::nullopt;
      if (!num) throw NotModelled{"mixed number overflow"};
      return number(Value::rational(*num, rh.v.q()));
    }
    return Node{unevaluated::mul(res.v, rh.v), res.only_symbols && rh.only_symbols};
  }

  bool starts_postfix() const {
    // Inside |...| a bar closes the group (ANTLR's prediction settles "|a|b|" the same way).
    if (peek().type == T::kBar && bar_depth_ > 0) return false;
    switch (peek().type) {
      case T::kLParen: case T::kLGroup: case T::kLBrace: case T::kLBracket: case T::kLBraceVisual:
      case T::kLBraceCmd: case T::kLBrack: case T::kPhantom: case T::kBoxed: case T::kBar: case T::kLVert:
      case T::kVert: case T::kSqrt: case T::kFrac: case T::kNumber: case T::kENotation: case T::kPercentNumber:
      case T::kExpE: case T::kENotationE: case T::kLetter: case T::kDifferential: case T::kGreek:
      case T::kOtherSymbol: case T::kSymbol: case T::kVariable: case T::kAccent: case T::kOtherFunc:
        return true;
      default:
        return false;
    }
  }

  // postfix: exp postfix_op*
  Node postfix() {
    Node n = exp();
    while (true) {
      if (accept(T::kBang)) {
        n = Node{unevaluated::factorial(n.v), n.only_symbols};
      } else if (accept(T::kTranspose) || accept(T::kDegree)) {
        // transpose of a number is the number; degrees are not converted (convert_degrees=False)
      } else {
        break;
      }
    }
    return n;
  }

  // exp: exp CARET (atom | '{' expr '}') subexpr? | comp   (left-associative)
  Node exp() {
    Node base = comp();
    while (at(T::kCaret)) {
      ++pos_;
      Node e;
      if (accept(T::kLBrace)) {
        e = expr();
        expect(T::kRBrace, "'}'");
      } else {
        e = atom();
      }
      skip_subexpr();
      bool only = (e.v.is_Integer() && e.v.exact() && e.v.p() == -1 && base.only_symbols) ||
                  (base.only_symbols && e.only_symbols);
      base = Node{unevaluated::pow(base.v, e.v), only};
    }
    return base;
  }

  void skip_subexpr() {
    if (!accept(T::kUnderscore)) return;
    if (accept(T::kLBrace)) {
      expr_list_until(T::kRBrace);
      return;
    }
    atom();
  }

  void expr_list_until(T close) {
    while (true) {
      expr();
      if (accept(close)) return;
      expect(T::kComma, "','");
    }
  }

  Node group(T close) {
    Node n = expr();
    expect(close, "a closing bracket");
    return n;
  }

  Node comp() {
    const Token tk = peek();
    switch (tk.type) {
      case T::kLParen: ++pos_; return group(T::kRParen);
      case T::kLGroup: ++pos_; return group(T::kRGroup);
      case T::kLBrace: ++pos_; return group(T::kRBrace);
      case T::kLBracket: ++pos_; return group(T::kRBracket);
      case T::kLBraceVisual: ++pos_; return group(T::kRBraceVisual);
      case T::kLBraceCmd: ++pos_; return group(T::kRBraceCmd);
      case T::kLBrack: ++pos_; return group(T::kRBrack);
      case T::kPhantom:
      case T::kBoxed:
        ++pos_;
        expect(T::kLBrace, "'{'");
        return group(T::kRBrace);
      case T::kBar: {
        ++pos_;
        ++bar_depth_;
        Node n = expr();
        --bar_depth_;
        expect(T::kBar, "'|'");
        return Node{unevaluated::abs(n.v), n.only_symbols};
      }
      case T::kLVert: {
        ++pos_;
        Node n = expr();
        expect(T::kRVert, "'\\rvert'");
        return Node{unevaluated::abs(n.v), n.only_symbols};
      }
      case T::kVert: {
        ++pos_;
        Node n = expr();
        expect(T::kVert, "'\\vert'");
        return Node{unevaluated::abs(n.v), n.only_symbols};
      }
      case T::kSqrt: return sqrt();
      case T::kFrac: return frac();
      case T::kExpE: {
        // func: EXP_E supexpr? — sympy.exp(arg), evaluated (exp(0) is 1).
        ++pos_;
        Value arg = Value::integer(1);
        if (accept(T::kCaret)) {
          if (accept(T::kLBrace)) {
            arg = expr().v;
            expect(T::kRBrace, "'}'");
          } else {
            arg = atom().v;
          }
        }
        if (arg.is_exact_rational() && arg.p() == 0) return number(Value::integer(1));
        if (!arg.is_real() && arg.kind() != Value::Kind::kNaN) {
          return Node{arg.kind() == Value::Kind::kSymbolic ? Value::symbolic() : Value::non_real(), false, ""};
        }
        bool one = arg.is_exact_rational() && arg.p() == 1 && arg.q() == 1;
        return Node{Value::real(std::exp(arg.value())), false, one ? "E" : ""};
      }
      case T::kOtherFunc: throw NotModelled{"'" + tk.text + "'"};
      default: break;
    }
    Node a = atom();
    // func: atom_expr_no_supexpr supexpr? '(' args ')' — an applied function
    if (at(T::kLParen) && a.only_symbols) throw NotModelled{"function application"};
    return a;
  }

  Node sqrt() {
    ++pos_;
    std::optional<Node> root;
    if (accept(T::kLBracket)) {
      root = expr();
      expect(T::kRBracket, "']'");
    }
    expect(T::kLBrace, "'{'");
    Node base = group(T::kRBrace);
    if (!root) return Node{unevaluated::pow(base.v, Value::rational(1, 2)), false};
    // Pow(expr, 1 / r): Python's 1 / r on a SymPy value
    Value inv = evaluated::div(Value::integer(1), root->v);
    return Node{unevaluated::pow(base.v, inv), false};
  }

  Node frac() {
    ++pos_;
    expect(T::kLBrace, "'{'");
    size_t upper_begin = pos_;
    Node upper = group(T::kRBrace);
    (void)upper_begin;
    expect(T::kLBrace, "'{'");
    size_t lower_begin = pos_;
    Node lower = group(T::kRBrace);
    if (pos_ - lower_begin == 2 && t_[lower_begin].type == T::kDifferential) throw NotModelled{"derivative"};
    if (t_[lower_begin].type == T::kSymbol && t_[lower_begin].text == "\\partial") throw NotModelled{"derivative"};
    if (upper.v.is_Integer() && lower.v.is_Integer()) {
      if (!upper.v.exact() || !lower.v.exact()) throw NotModelled{"fraction of huge integers"};
      return number(Value::rational(upper.v.p(), lower.v.p()));
    }
    return Node{unevaluated::mul(upper.v, unevaluated::inverse(lower.v)), upper.only_symbols && lower.only_symbols};
  }

  // atom: atom_expr | SYMBOL | number_subexpr | PERCENT_NUMBER | E_NOTATION | E_NOTATION_E | DIFFERENTIAL | VARIABLE
  Node atom() {
    const Token tk = peek();
    switch (tk.type) {
      case T::kNumber: {
        ++pos_;
        Node n = number(parse_number(tk.text));
        skip_subexpr();  // number_subexpr: the subscript is ignored
        return n;
      }
      case T::kENotation: ++pos_; return number(parse_number(tk.text));
      case T::kPercentNumber: throw ParseError{"PERCENT_NUMBER (the converter raises AttributeError)"};
      case T::kENotationE: ++pos_; return symbol();  // create_symbol('E') is the symbol e, not Euler's number
      case T::kDifferential: ++pos_; return symbol();
      case T::kVariable: ++pos_; return symbol();
      case T::kSymbol: {
        ++pos_;
        std::string s = py::replace_all(py::replace_all(tk.text, "\\$", ""), "\\%", "");
        if (s == "\\infty") return Node{Value::infinity(false), false, "oo"};
        throw ParseError{"Unrecognized symbol"};
      }
      case T::kLetter: case T::kGreek: case T::kOtherSymbol: case T::kAccent: return atom_expr();
      default: throw ParseError{"expected an atom, got '" + tk.text + "'"};
    }
  }

  // atom_expr: (LETTER_NO_E | GREEK_CMD | OTHER_SYMBOL_CMD | ACCENT) (subexpr / supexpr)?
  Node atom_expr() {
    const Token tk = peek();
    ++pos_;
    std::string name;
    bool imaginary = false;
    if (tk.type == T::kLetter) {
      name = tk.text;
      imaginary = name == "I";
    } else if (tk.type == T::kGreek) {
      std::string g = py::rstrip_chars(tk.text, " ");
      for (const auto& [cmd, n] : greek()) {
        if (g == cmd) name = n;
      }
    } else if (tk.type == T::kOtherSymbol) {
      name = py::strip(tk.text);
    } else {
      // ACCENT: \text{...} and \mbox{...} give their text (spaces and parentheses removed);
      // other accents a decorated symbol.
      size_t brace = tk.text.find('{');
      std::string accent = tk.text.substr(1, brace - 1);
      accent = py::rstrip(accent);
      std::string inner = py::replace_all(tk.text.substr(brace + 1, tk.text.size() - brace - 2), " ", "");
      if (py::contains(accent, "text") || py::contains(accent, "mbox")) {
        name = py::replace_all(py::replace_all(inner, "(", ""), ")", "");
      } else {
        name = "decorated{" + inner + "}";
      }
    }
    bool has_sub = false;
    std::optional<Node> sup;
    for (int k = 0; k < 2; ++k) {
      if (!has_sub && at(T::kUnderscore)) {
        has_sub = true;
        skip_subexpr();
      } else if (!sup && at(T::kCaret)) {
        ++pos_;
        if (accept(T::kLBrace)) {
          sup = expr();
          expect(T::kRBrace, "'}'");
        } else {
          sup = atom();
        }
      }
    }
    Node base;
    if (imaginary) {
      base = Node{Value::non_real(), false, "I"};
    } else if (!has_sub && is_constant_name(name)) {
      base = Node{constant(name), false, singleton(name) == "pi" ? "pi" : "EulerGamma"};
    } else {
      base = symbol();
      if (!has_sub) base.name = py::lower_ascii(name);  // get_symbol(..., lowercase_symbols=True)
    }
    if (sup) {
      bool only = (sup->v.is_Integer() && sup->v.exact() && sup->v.p() == -1 && base.only_symbols) ||
                  (base.only_symbols && sup->only_symbols);
      return Node{unevaluated::pow(base.v, sup->v), only};
    }
    return base;
  }

  // get_symbol(): names of SymPy singletons, after the Greek map and lower-casing.
  static std::string singleton(std::string name) {
    for (const auto& [cmd, n] : greek()) {
      if (name == cmd) name = n;
    }
    if (!name.empty() && name[0] == '\\') name.erase(0, 1);
    if (name == "pi" || name == "gamma" || name == "Gamma") return name;
    std::string lower = py::lower_ascii(name);
    if (lower == "pi" || lower == "gamma") return lower;
    return "";
  }
  static bool is_constant_name(const std::string& name) { return !singleton(name).empty(); }
  static Value constant(const std::string& name) {
    std::string s = singleton(name);
    if (s == "pi") return Value::real(std::acos(-1.0));
    return Value::real(0.57721566490153286061);  // EulerGamma
  }

  const std::vector<Token>& t_;
  size_t pos_;
  size_t end_;
  int bar_depth_ = 0;
};

// comma_number_regex: "3,333" is the number 3333, not the set {3, 333}.
std::optional<Value> comma_number(const std::string& s) {
  static const py::Regex re(R"(^\s*-?\d{1,3}(,\d{3})+(\.\d+)?\s*$)");
  if (!re.match(s)) return std::nullopt;
  // convert_number(): "0,5" is 0.5; otherwise commas and spaces removed, leading zeros stripped.
  std::string n = s;
  if (py::contains(n, ",") && !n.empty() && n[0] == '0') n = py::replace_all(n, ",", ".");
  std::string kept;
  for (char c : n) {
    if (c != ',' && c != ' ') kept += c;
  }
  kept = py::lstrip_chars(kept, "0");
  if (kept.empty()) kept = "0";
  char* end = nullptr;
  double v = std::strtod(kept.c_str(), &end);
  bool integral = kept.find_first_not_of("-0123456789") == std::string::npos;
  if (integral) {
    bool neg = kept[0] == '-';
    auto acc = parse_digits_int(std::string_view(kept).substr(neg ? 1 : 0));
    if (!acc) return Value::inexact_integer(v);
    return Value::integer(neg ? -*acc : *acc);
  }
  return Value::flt(v);
}

}  // namespace

Parsed parse_latex_expr(std::string_view s) {
  std::string text = normalize_latex(s);
  try {
    std::vector<Token> toks = lex(text);
    Parser top(toks, 0, toks.size() - 1);
    auto parts = top.split_list(0, toks.size() - 1);
    for (const auto& tok : toks) {
      if (tok.type == T::kSetOp) throw NotModelled{"set operation"};
    }
    if (parts.size() > 1) {
      if (auto n = comma_number(text)) return Parsed::ok(*n);
      // Still parse each element: a syntax error anywhere makes latex2sympy raise.
      for (const auto& [b, e] : parts) Parser(toks, b, e).element();
      return Parsed::ok(Value::symbolic());
    }
    Node n = Parser(toks, 0, toks.size() - 1).element();
    std::string str = number_str(n.v);
    return Parsed::ok(n.v, str.empty() ? n.name : str);
  } catch (const LexError& e) {
    return Parsed::error("lexer: " + e.what);
  } catch (const ParseError& e) {
    return Parsed::error(e.what);
  } catch (const NotModelled& e) {
    return Parsed::unsupported(e.what);
  }
}

}  // namespace qb::eval::sym
