// Leftmost-longest added-token matching with the single_word / lstrip / rstrip rules of the
// `tokenizers` package (tokenizer/added_vocabulary.rs, find_matches); see added_tokens.h.
#include "steps/tokenizer/added_tokens.h"

#include <algorithm>

#include "steps/tokenizer/utf8.h"

namespace qb::tok {

void AddedTokenMatcher::add(const AddedToken& token, std::string pattern) {
  if (pattern.empty()) return;
  const auto index = static_cast<std::uint32_t>(entries_.size());
  auto& bucket = by_first_byte_[static_cast<unsigned char>(pattern[0])];
  entries_.push_back({std::move(pattern), token.id, token.special, token.single_word,
                      token.lstrip, token.rstrip});
  bucket.push_back(index);
  // Longest first; among equal lengths the earlier token keeps priority.
  std::stable_sort(bucket.begin(), bucket.end(), [&](std::uint32_t a, std::uint32_t b) {
    return entries_[a].pattern.size() > entries_[b].pattern.size();
  });
}

void AddedTokenMatcher::split(std::string_view text, bool allow_special,
                              std::vector<Segment>& out) const {
  const std::size_t n = text.size();
  std::size_t done = 0;  // text before this offset is already in `out`
  std::size_t i = 0;
  while (i < n) {
    const auto& bucket = by_first_byte_[static_cast<unsigned char>(text[i])];
    const Entry* hit = nullptr;
    for (std::uint32_t k : bucket) {
      const Entry& e = entries_[k];
      if (text.substr(i, e.pattern.size()) == e.pattern) {
        hit = &e;
        break;
      }
    }
    if (!hit) {
      ++i;
      continue;
    }
    std::size_t start = i, stop = i + hit->pattern.size();
    i = stop;  // the search resumes after the match, kept or not
    if (hit->special && !allow_special) continue;
    if (hit->single_word) {
      std::size_t len = 0;
      const bool word_before = start > 0 && is_word_char(decode_utf8_before(text, start, &len));
      const bool word_after = stop < n && is_word_char(decode_utf8(text, stop, &len));
      if (word_before || word_after) continue;
    }
    if (hit->lstrip) {
      std::size_t s = start, len = 0;
      while (s > 0 && is_white_space(decode_utf8_before(text, s, &len))) s -= len;
      start = std::max(s, done);  // never reach into an earlier match
    }
    if (hit->rstrip) {
      std::size_t len = 0;
      while (stop < n && is_white_space(decode_utf8(text, stop, &len))) stop += len;
      i = stop;
    }
    if (done < start) out.push_back({done, start, -1});
    out.push_back({start, stop, hit->id});
    done = stop;
  }
  if (done < n) out.push_back({done, n, -1});
}

}  // namespace qb::tok
