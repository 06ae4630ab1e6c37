// Python `re` patterns run through PCRE2 (UTF + UCP, so \d and \w are Unicode classes as in
// Python 3's str patterns; \s and \S are rewritten to Python's exact whitespace set, which
// PCRE2's differs from at U+001C..U+001F and U+180E). Only the calls the evalscope ports need:
// search/match at a position, finditer, findall of the whole match, sub with a callback.
// Patterns are compiled once (static instances); a pattern that fails to compile is a bug and
// aborts in debug builds.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qb::eval::py {

struct Match {
  std::vector<std::optional<std::pair<size_t, size_t>>> groups;  // [0] = whole match; byte offsets
  size_t start() const { return groups[0]->first; }
  size_t end() const { return groups[0]->second; }
  std::string group(std::string_view subject, size_t i = 0) const {
    if (i >= groups.size() || !groups[i]) return "";
    return std::string(subject.substr(groups[i]->first, groups[i]->second - groups[i]->first));
  }
};

class Regex {
 public:
  explicit Regex(std::string_view pattern, bool ignore_case = false);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // re.search from byte offset `pos` (subject must be valid UTF-8: see sanitize_utf8).
  std::optional<Match> search(std::string_view s, size_t pos = 0) const;
  // re.match: anchored at `pos`.
  std::optional<Match> match(std::string_view s, size_t pos = 0) const;
  // re.fullmatch.
  bool fullmatch(std::string_view s) const;
  std::vector<Match> finditer(std::string_view s) const;
  // re.sub with a function of the match (non-empty matches only in the patterns used here).
  std::string sub(std::string_view s, const std::function<std::string(const Match&)>& repl) const;
  // re.sub with a template where \1..\9 are groups (Python's replacement syntax subset).
  std::string sub(std::string_view s, std::string_view repl) const;

 private:
  std::optional<Match> run(std::string_view s, size_t pos, unsigned options) const;
  void* code_ = nullptr;
};

// Invalid UTF-8 bytes replaced by U+FFFD (Python would have decoded with errors='replace').
std::string sanitize_utf8(std::string_view s);

}  // namespace qb::eval::py
