// Added tokens (tokenizer.json "added_tokens"): strings matched in the text before it is
// normalized and split, the way the `tokenizers` package's AddedVocabulary does it.
//
// Matching is leftmost-longest and non-overlapping (Aho-Corasick "LeftmostLongest"). A match is
// dropped (and the search resumes after it) when the token is special and special tokens are not
// allowed, or when it is `single_word` and touches a word character on either side. `lstrip` /
// `rstrip` widen a kept match over the White_Space next to it. Tokens with `normalized: false`
// are matched in the raw text; those with `normalized: true` in the normalized text between
// them (their content normalized the same way).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qb::tok {

struct AddedToken {
  std::int32_t id = 0;
  std::string content;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

// A piece of text: an added token's byte range and id, or plain text (id == -1).
struct Segment {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::int32_t id = -1;
};

class AddedTokenMatcher {
 public:
  // Adds `token`, matched as `pattern` (its content, or the normalized content). Empty patterns
  // are ignored, as in the `tokenizers` package.
  void add(const AddedToken& token, std::string pattern);
  bool empty() const { return entries_.empty(); }

  // Appends the segments of `text` (valid UTF-8, non-empty) in order; together they cover it.
  void split(std::string_view text, bool allow_special, std::vector<Segment>& out) const;

 private:
  struct Entry {
    std::string pattern;
    std::int32_t id;
    bool special, single_word, lstrip, rstrip;
  };
  std::vector<Entry> entries_;
  // Indices into entries_ by first byte, longest pattern first.
  std::array<std::vector<std::uint32_t>, 256> by_first_byte_;
};

}  // namespace qb::tok
