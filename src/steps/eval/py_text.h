// Small pieces of Python's str semantics that evalscope's code relies on, for UTF-8 strings:
// str.strip()/lstrip()/rstrip() with Python's notion of whitespace, str.isupper() on one
// character, and splitting into code points. Kept in one place so the ports read like the
// Python they mirror.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qb::eval::py {

// Python's str.isspace() for one code point.
bool is_space(char32_t c);
// Python's str.isupper() for a one-character string (a cased uppercase letter).
bool is_upper(char32_t c);

std::string strip(std::string_view s);
std::string lstrip(std::string_view s);
std::string rstrip(std::string_view s);
// str.strip(chars) / rstrip(chars) / lstrip(chars) with an ASCII set of characters.
std::string strip_chars(std::string_view s, std::string_view chars);
std::string rstrip_chars(std::string_view s, std::string_view chars);
std::string lstrip_chars(std::string_view s, std::string_view chars);

// Code points of a UTF-8 string (invalid bytes decode to U+FFFD, one per byte) with the byte
// offset each starts at.
struct CodePoint {
  char32_t cp;
  size_t offset;
  size_t size;
};
std::vector<CodePoint> code_points(std::string_view s);
std::string encode_utf8(char32_t c);

// s.split(sep) like Python (sep non-empty): n+1 pieces for n occurrences.
std::vector<std::string> split(std::string_view s, std::string_view sep);
// s.replace(from, to) for every occurrence (from non-empty).
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);
// s.lower() for ASCII letters (Python lowers every cased letter; callers compare ASCII answers).
std::string lower_ascii(std::string_view s);
bool contains(std::string_view s, std::string_view needle);

}  // namespace qb::eval::py
