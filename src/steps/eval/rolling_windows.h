// lm-evaluation-harness 0.4.13's rolling log-likelihood windows (lm_eval/utils.py
// get_rolling_token_windows with context_len=1, then make_disjoint_window), as HFLM's
// loglikelihood_rolling builds them for a perplexity document:
//
//   pred_len = max_seq_len            (context_len = 1)
//   first:   context [prefix_token],  continuation tokens[:min(max_seq_len, n)]
//   then, while tokens remain: window_pred_len = min(n - predicted, max_seq_len),
//            end = predicted + window_pred_len,
//            input = tokens[end - max_seq_len - 1 : end - 1], continuation = tokens[end - window_pred_len : end]
//            disjoint: context = input[: len(input) - (len(continuation) - 1)]
//
// Every token is predicted exactly once; each window after the first sees max_seq_len tokens
// (context + continuation − 1). An empty document has no window (log-likelihood 0).
// Torch-free; the generate step scores the windows.
#pragma once

#include <cstdint>
#include <vector>

namespace qb::eval {

struct TokenWindow {
  std::vector<int64_t> context;       // non-empty
  std::vector<int64_t> continuation;  // the tokens this window predicts
};

std::vector<TokenWindow> rolling_windows(const std::vector<int64_t>& tokens, int64_t prefix_token,
                                         int64_t max_seq_len);

}  // namespace qb::eval
