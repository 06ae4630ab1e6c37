// A compiled split pattern of tokenizer.json, matched with PCRE2 (UTF + UCP, JIT when available).
//
// tokenizer.json patterns are written for Oniguruma, which the `tokenizers` package uses. One
// difference matters for real tokenizers and is removed here: PCRE2's `\s` also matches U+180E
// (Mongolian vowel separator, no longer White_Space since Unicode 6.3) while Oniguruma's does
// not; so `\s` and `\S` are rewritten into explicit White_Space classes before compiling.
// Another one is documented, not removed: `\p{L}` / `\p{N}` follow the Unicode version of the
// PCRE2 library (14.0 for 10.42), while tokenizers 0.23.3's Oniguruma knows Unicode 16, so code
// points assigned since Unicode 15.0 (9,272 letters, 120 numbers) split differently.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

struct pcre2_real_code_8;

namespace qb::tok {

struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;
};

// `pattern` with every `\s` / `\S` (inside or outside a character class) replaced by the
// explicit Unicode White_Space set or its complement.
std::string rewrite_white_space_escapes(std::string_view pattern);

class Regex {
 public:
  // `literal`: match `pattern` as plain text (tokenizer.json's {"String": ...} patterns).
  static Result<Regex> compile(std::string_view pattern, bool literal = false);

  // Appends the non-empty, non-overlapping matches in `text` (valid UTF-8), left to right, as
  // Oniguruma's search loop finds them: after an empty match the search resumes one code point
  // further.
  void find_all(std::string_view text, std::vector<Span>& out) const;

  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  std::shared_ptr<pcre2_real_code_8> code_;
};

}  // namespace qb::tok
