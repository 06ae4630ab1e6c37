// lm-eval's rolling windows (see rolling_windows.h), line for line.
#include "steps/eval/rolling_windows.h"

#include <algorithm>

namespace qb::eval {

std::vector<TokenWindow> rolling_windows(const std::vector<int64_t>& tokens, int64_t prefix_token,
                                         int64_t max_seq_len) {
  std::vector<TokenWindow> out;
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0 || max_seq_len < 1) return out;
  auto slice = [&](int64_t a, int64_t b) {
    return std::vector<int64_t>(tokens.begin() + a, tokens.begin() + b);
  };
  const int64_t pred_len = max_seq_len;  // max_seq_len - context_len + 1
  const int64_t first = std::min(max_seq_len, n);
  // ([prefix] + tokens[:first - 1], tokens[:first]) made disjoint: context [prefix].
  out.push_back({{prefix_token}, slice(0, first)});
  int64_t predicted = first;
  while (predicted < n) {
    const int64_t wpl = std::min(n - predicted, pred_len);
    const int64_t end = predicted + wpl;
    const int64_t in_begin = end - max_seq_len - 1, in_end = end - 1;  // in_begin >= 0: end > max_seq_len
    const int64_t ctx_len = (in_end - in_begin) - (wpl - 1);
    out.push_back({slice(in_begin, in_begin + ctx_len), slice(end - wpl, end)});
    predicted += wpl;
  }
  return out;
}

}  // namespace qb::eval
