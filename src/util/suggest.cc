// Edit distance and the did-you-mean rule (see suggest.h).
#include "util/suggest.h"

#include <algorithm>
#include <cctype>
#include <numeric>

namespace qb {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  std::iota(prev.begin(), prev.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string_view>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (std::string_view c : candidates) {
    if (c == word) continue;
    std::size_t d = edit_distance(word, c);
    std::size_t limit = std::max<std::size_t>(2, c.size() / 3);
    if (d > limit) continue;
    if (!best || d < best_distance) {
      best = std::string(c);
      best_distance = d;
    }
  }
  return best;
}

std::string did_you_mean_suffix(std::string_view word,
                                const std::vector<std::string_view>& candidates) {
  auto s = did_you_mean(word, candidates);
  return s ? "; did you mean '" + *s + "'?" : std::string();
}

}  // namespace qb
