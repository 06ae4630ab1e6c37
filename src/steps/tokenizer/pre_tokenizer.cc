// Split (Isolated) and ByteLevel pre-tokenization; see pre_tokenizer.h.
#include "steps/tokenizer/pre_tokenizer.h"

namespace qb::tok {

namespace {

// Replaces each piece by its matches and the gaps between them (behaviour "Isolated").
void isolate(const Regex& re, const std::vector<std::string_view>& in,
             std::vector<std::string_view>& out) {
  thread_local std::vector<Span> matches;
  for (std::string_view piece : in) {
    matches.clear();
    re.find_all(piece, matches);
    std::size_t prev = 0;
    for (const Span& m : matches) {
      if (m.begin > prev) out.push_back(piece.substr(prev, m.begin - prev));
      out.push_back(piece.substr(m.begin, m.end - m.begin));
      prev = m.end;
    }
    if (prev < piece.size()) out.push_back(piece.substr(prev));
  }
  if (matches.capacity() > (1 << 16)) std::vector<Span>().swap(matches);
}

}  // namespace

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& pieces,
                         std::deque<std::string>& arena) const {
  if (text.empty()) return;
  // Scratch vectors kept per thread: encode() calls this once per text segment.
  thread_local std::vector<std::string_view> cur, next;
  cur.assign(1, text);
  for (const Regex& re : splits_) {
    next.clear();
    isolate(re, cur, next);
    cur.swap(next);
  }
  if (add_prefix_space_) {
    for (std::string_view& piece : cur) {
      if (piece.front() != ' ') piece = arena.emplace_back(" " + std::string(piece));
    }
  }
  if (byte_level_regex_) {
    next.clear();
    isolate(*byte_level_regex_, cur, next);
    cur.swap(next);
  }
  pieces.insert(pieces.end(), cur.begin(), cur.end());
  constexpr std::size_t kKeep = 1 << 16;  // keep the scratch small after a long text
  if (cur.capacity() > kKeep) std::vector<std::string_view>().swap(cur);
  if (next.capacity() > kKeep) std::vector<std::string_view>().swap(next);
}

}  // namespace qb::tok
