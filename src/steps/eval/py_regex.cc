// PCRE2 behind a Python-`re`-shaped interface (see py_regex.h).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "steps/eval/py_regex.h"

#include <cassert>

#include <pcre2.h>

#include "steps/eval/py_text.h"

namespace qb::eval::py {

namespace {

// Python's \s (str.isspace(): bidi classes WS, B, S and category Zs) differs from PCRE2's UCP \s
// (Z categories plus \h and \v): Python also has U+001C..U+001F and PCRE2 also has U+180E.
constexpr std::string_view kPySpaceClass =
    R"(\t-\r\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000})";

// The pattern with every \s / \S spelled as Python's class (inside a class too, for \s).
std::string python_spaces(std::string_view pattern) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      char n = pattern[i + 1];
      if (n == 's') {
        out += in_class ? std::string(kPySpaceClass) : "[" + std::string(kPySpaceClass) + "]";
      } else if (n == 'S' && !in_class) {
        out += "[^" + std::string(kPySpaceClass) + "]";
      } else {
        out += c;
        out += n;
      }
      ++i;
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      // a ']' right after '[' or '[^' is a literal member
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

}  // namespace

Regex::Regex(std::string_view pattern_in, bool ignore_case) {
  int err = 0;
  PCRE2_SIZE off = 0;
  uint32_t opts = PCRE2_UTF | PCRE2_UCP | (ignore_case ? PCRE2_CASELESS : 0);
  const std::string pattern = python_spaces(pattern_in);
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), opts, &err, &off, nullptr);
  assert(code_ && "qb::eval::py::Regex: pattern does not compile");
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

std::optional<Match> Regex::run(std::string_view s, size_t pos, unsigned options) const {
  if (!code_ || pos > s.size()) return std::nullopt;
  auto* code = static_cast<pcre2_code*>(code_);
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
  int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), pos, options, md, nullptr);
  std::optional<Match> out;
  if (rc > 0) {
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    uint32_t n = pcre2_get_ovector_count(md);
    Match m;
    m.groups.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
      if (ov[2 * i] != PCRE2_UNSET) m.groups[i] = std::make_pair(ov[2 * i], ov[2 * i + 1]);
    }
    out = std::move(m);
  }
  pcre2_match_data_free(md);
  return out;
}

std::optional<Match> Regex::search(std::string_view s, size_t pos) const { return run(s, pos, 0); }
std::optional<Match> Regex::match(std::string_view s, size_t pos) const { return run(s, pos, PCRE2_ANCHORED); }
bool Regex::fullmatch(std::string_view s) const {
  auto m = run(s, 0, PCRE2_ANCHORED | PCRE2_ENDANCHORED);
  return m.has_value();
}

std::vector<Match> Regex::finditer(std::string_view s) const {
  std::vector<Match> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    auto m = search(s, pos);
    if (!m) break;
    size_t next = m->end();
    if (m->end() == m->start()) {
      // An empty match: step over one code point, as Python does.
      next = m->end() + 1;
      while (next < s.size() && (static_cast<unsigned char>(s[next]) & 0xC0) == 0x80) ++next;
    }
    out.push_back(std::move(*m));
    pos = next;
  }
  return out;
}

std::string Regex::sub(std::string_view s, const std::function<std::string(const Match&)>& repl) const {
  std::string out;
  size_t last = 0;
  for (const Match& m : finditer(s)) {
    out.append(s.substr(last, m.start() - last));
    out.append(repl(m));
    last = m.end();
  }
  out.append(s.substr(last));
  return out;
}

std::string Regex::sub(std::string_view s, std::string_view tmpl) const {
  return sub(s, [&](const Match& m) {
    std::string r;
    for (size_t i = 0; i < tmpl.size(); ++i) {
      if (tmpl[i] == '\\' && i + 1 < tmpl.size()) {
        char c = tmpl[i + 1];
        if (c >= '1' && c <= '9') {
          r += m.group(s, static_cast<size_t>(c - '0'));
          ++i;
          continue;
        }
        if (c == '\\') {
          r += '\\';
          ++i;
          continue;
        }
      }
      r += tmpl[i];
    }
    return r;
  });
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const CodePoint& p : code_points(s)) {
    if (p.cp == 0xFFFD && p.size == 1) {
      out += "\xEF\xBF\xBD";
    } else {
      out.append(s.substr(p.offset, p.size));
    }
  }
  return out;
}

}  // namespace qb::eval::py
