// The shared-prefix plan (see shared_prefix.h).
#include "steps/model/shared_prefix.h"

#include <algorithm>
#include <numeric>

namespace qb::model {

namespace {

int64_t common_prefix(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return static_cast<int64_t>(i);
}

// A trie node that branches: prompts order[lo..hi] (sorted positions) share `depth` tokens.
struct Interval {
  int64_t depth, lo, hi;
};

}  // namespace

PrefixPlan plan_shared_prefixes(const std::vector<std::vector<int64_t>>& prompts, int64_t min_length) {
  const int64_t n = static_cast<int64_t>(prompts.size());
  PrefixPlan plan;
  plan.group.assign(prompts.size(), -1);
  if (n < 2) return plan;
  min_length = std::max<int64_t>(min_length, 1);
  std::vector<int64_t> order(prompts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return prompts[a] < prompts[b]; });
  // lcp[j]: tokens shared by the prompts at sorted positions j - 1 and j (lcp[0] unused).
  std::vector<int64_t> lcp(prompts.size(), 0);
  for (int64_t j = 1; j < n; ++j) lcp[j] = common_prefix(prompts[order[j - 1]], prompts[order[j]]);

  // The LCP intervals (Abouelhoda, Kurtz, Ohlebusch: a stack over the LCP array).
  std::vector<Interval> intervals;
  std::vector<std::pair<int64_t, int64_t>> stack = {{0, 0}};  // (depth, lo)
  for (int64_t j = 1; j <= n; ++j) {
    const int64_t h = j < n ? lcp[j] : -1;
    int64_t lo = j - 1;
    while (!stack.empty() && h < stack.back().first) {
      const auto [depth, start] = stack.back();
      stack.pop_back();
      intervals.push_back({depth, start, j - 1});
      lo = start;
    }
    if (j < n && (stack.empty() || h > stack.back().first)) stack.emplace_back(h, lo);
  }
  if (!stack.empty() && stack.back().first >= 0) intervals.push_back({stack.back().first, stack.back().second, n - 1});

  // Each interval's usable depth (every prompt keeps a token of its own) and its value.
  std::vector<int64_t> shortest(prompts.size());
  for (int64_t j = 0; j < n; ++j) shortest[j] = static_cast<int64_t>(prompts[order[j]].size());
  struct Candidate {
    double value;
    int64_t depth, lo, hi;
  };
  std::vector<Candidate> cands;
  for (const Interval& iv : intervals) {
    if (iv.hi <= iv.lo) continue;
    const int64_t min_len = *std::min_element(shortest.begin() + iv.lo, shortest.begin() + iv.hi + 1);
    const int64_t depth = std::min(iv.depth, min_len - 1);
    if (depth < min_length) continue;
    const double c = static_cast<double>(iv.hi - iv.lo + 1);
    cands.push_back({static_cast<double>(depth) * (1.0 - 1.0 / c), depth, iv.lo, iv.hi});
  }
  // Best first (ties: the deeper, then the earlier): each prompt takes the first candidate
  // that covers it. next_free skips prompts already taken (a union-find over positions).
  std::stable_sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) {
    if (a.value != b.value) return a.value > b.value;
    if (a.depth != b.depth) return a.depth > b.depth;
    return a.lo < b.lo;
  });
  std::vector<int64_t> next_free(prompts.size() + 1);
  std::iota(next_free.begin(), next_free.end(), 0);
  auto find = [&](int64_t x) {
    while (next_free[x] != x) x = next_free[x] = next_free[next_free[x]];
    return x;
  };
  std::vector<int64_t> taken_by(prompts.size(), -1);  // sorted position -> candidate
  for (size_t c = 0; c < cands.size(); ++c)
    for (int64_t j = find(cands[c].lo); j <= cands[c].hi; j = find(j)) {
      taken_by[j] = static_cast<int64_t>(c);
      next_free[j] = j + 1;
    }
  // Groups: candidates that two or more prompts took, numbered by their first prompt's position.
  std::vector<int64_t> members(cands.size(), 0), group_of(cands.size(), -1);
  for (int64_t j = 0; j < n; ++j)
    if (taken_by[j] >= 0) ++members[taken_by[j]];
  for (int64_t j = 0; j < n; ++j) {
    const int64_t c = taken_by[j];
    if (c < 0 || members[c] < 2) continue;
    if (group_of[c] < 0) {
      group_of[c] = static_cast<int64_t>(plan.length.size());
      plan.length.push_back(cands[c].depth);
      plan.leader.push_back(order[j]);
    }
    plan.group[order[j]] = group_of[c];
  }
  return plan;
}

}  // namespace qb::model
