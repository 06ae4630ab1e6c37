// Python str semantics on UTF-8 (see py_text.h).
#include "steps/eval/py_text.h"

#include <utf8proc.h>

namespace qb::eval::py {

bool is_space(char32_t c) {
  // CPython's _PyUnicode_IsWhitespace: bidirectional class WS, B or S, or category Zs.
  switch (c) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D:
    case 0x1C: case 0x1D: case 0x1E: case 0x1F: case 0x20:
    case 0x85: case 0xA0: case 0x1680:
    case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

bool is_upper(char32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z';
  // Python: isupper() is true when the character is uppercase (Lu, or Other_Uppercase) and
  // cased. utf8proc's category Lu plus a lowercase mapping approximates that; the few
  // Other_Uppercase symbols (circled letters Ⓐ..Ⓩ) are added explicitly.
  if (c >= 0x24B6 && c <= 0x24CF) return true;
  if (c >= 0x1F130 && c <= 0x1F149) return true;
  if (c >= 0x1F150 && c <= 0x1F169) return true;
  if (c >= 0x1F170 && c <= 0x1F189) return true;
  if (c >= 0x2160 && c <= 0x216F) return true;  // Roman numerals Ⅰ..Ⅿ
  return utf8proc_category(static_cast<utf8proc_int32_t>(c)) == UTF8PROC_CATEGORY_LU;
}

std::vector<CodePoint> code_points(std::string_view s) {
  std::vector<CodePoint> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                          static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
    if (n <= 0) {
      out.push_back({0xFFFD, i, 1});
      ++i;
    } else {
      out.push_back({static_cast<char32_t>(cp), i, static_cast<size_t>(n)});
      i += static_cast<size_t>(n);
    }
  }
  return out;
}

std::string encode_utf8(char32_t c) {
  utf8proc_uint8_t buf[4];
  utf8proc_ssize_t n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(c), buf);
  return std::string(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

namespace {
size_t left_end(std::string_view s) {
  for (const CodePoint& p : code_points(s)) {
    if (!is_space(p.cp)) return p.offset;
  }
  return s.size();
}
size_t right_end(std::string_view s) {
  auto cps = code_points(s);
  for (size_t k = cps.size(); k-- > 0;) {
    if (!is_space(cps[k].cp)) return cps[k].offset + cps[k].size;
  }
  return 0;
}
}  // namespace

std::string lstrip(std::string_view s) { return std::string(s.substr(left_end(s))); }
std::string rstrip(std::string_view s) { return std::string(s.substr(0, right_end(s))); }
std::string strip(std::string_view s) {
  size_t b = left_end(s);
  if (b == s.size()) return "";
  return std::string(s.substr(b, right_end(s) - b));
}

std::string rstrip_chars(std::string_view s, std::string_view chars) {
  size_t e = s.size();
  while (e > 0 && chars.find(s[e - 1]) != std::string_view::npos) --e;
  return std::string(s.substr(0, e));
}
std::string lstrip_chars(std::string_view s, std::string_view chars) {
  size_t b = 0;
  while (b < s.size() && chars.find(s[b]) != std::string_view::npos) ++b;
  return std::string(s.substr(b));
}
std::string strip_chars(std::string_view s, std::string_view chars) { return lstrip_chars(rstrip_chars(s, chars), chars); }

std::vector<std::string> split(std::string_view s, std::string_view sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t f = s.find(sep, pos);
    if (f == std::string_view::npos) {
      out.emplace_back(s.substr(pos));
      return out;
    }
    out.emplace_back(s.substr(pos, f - pos));
    pos = f + sep.size();
  }
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t f = s.find(from, pos);
    if (f == std::string_view::npos) {
      out.append(s.substr(pos));
      return out;
    }
    out.append(s.substr(pos, f - pos));
    out.append(to);
    pos = f + from.size();
  }
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool contains(std::string_view s, std::string_view needle) { return s.find(needle) != std::string_view::npos; }

}  // namespace qb::eval::py
