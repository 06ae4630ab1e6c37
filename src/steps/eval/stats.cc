// Accuracy, KL divergence / top-1 agreement, McNemar's exact test (see stats.h).
#include "steps/eval/stats.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace qb::eval {

Accuracy accuracy(int64_t correct, int64_t n) {
  Accuracy a;
  a.n = n;
  a.correct = correct;
  if (n > 0) {
    a.acc = static_cast<double>(correct) / static_cast<double>(n);
    a.stderr_ = std::sqrt(a.acc * (1 - a.acc) / static_cast<double>(n));
  }
  return a;
}

Result<SeedAccuracy> seed_accuracy(const std::vector<int64_t>& seed, const std::vector<int64_t>& question,
                                   const std::vector<bool>& correct) {
  if (seed.size() != question.size() || seed.size() != correct.size())
    return invalid_argument(fmt::format("seed_accuracy: {} seeds, {} questions, {} outcomes", seed.size(),
                                        question.size(), correct.size()));
  SeedAccuracy out;
  std::map<int64_t, size_t> seed_at;                  // seed → its position in out.seeds
  std::map<int64_t, std::map<int64_t, bool>> by_q;    // question → seed → correct
  std::vector<int64_t> right;
  for (size_t i = 0; i < seed.size(); ++i) {
    auto [it, fresh] = seed_at.emplace(seed[i], out.seeds.size());
    if (fresh) {
      out.seeds.push_back(seed[i]);
      right.push_back(0);
    }
    if (!by_q[question[i]].emplace(seed[i], correct[i]).second)
      return invalid_argument(fmt::format("question {} has two items with shuffle seed {}", question[i], seed[i]));
    right[it->second] += correct[i];
  }
  if (out.seeds.empty()) return invalid_argument("seed_accuracy: no items");
  for (const auto& [q, per] : by_q)
    if (per.size() != out.seeds.size())
      return invalid_argument(fmt::format("question {} has {} of the {} shuffle seeds: every question needs every seed",
                                          q, per.size(), out.seeds.size()));
  out.questions = static_cast<int64_t>(by_q.size());
  const auto s = static_cast<double>(out.seeds.size());
  for (int64_t r : right) out.per_seed.push_back(accuracy(r, out.questions));
  for (const auto& a : out.per_seed) out.mean += a.acc / s;
  out.min = out.max = out.per_seed[0].acc;
  double ss = 0;
  for (const auto& a : out.per_seed) {
    out.min = std::min(out.min, a.acc);
    out.max = std::max(out.max, a.acc);
    ss += (a.acc - out.mean) * (a.acc - out.mean);
  }
  out.std = out.seeds.size() > 1 ? std::sqrt(ss / (s - 1)) : std::nan("");
  double sq = 0;
  for (const auto& [q, per] : by_q) {
    double c = 0;
    for (const auto& [k, ok] : per) c += ok;
    c /= s;
    sq += (c - out.mean) * (c - out.mean);
  }
  const auto nq = static_cast<double>(out.questions);
  out.stderr_ = std::sqrt(sq / nq / nq);
  return out;
}

namespace {
// log-softmax of one row, in double: x − max − log Σ exp(x − max).
void log_softmax(const float* x, int64_t v, std::vector<double>& out, int64_t& argmax) {
  argmax = 0;
  for (int64_t i = 1; i < v; ++i) {
    if (x[i] > x[argmax]) argmax = i;
  }
  const double m = x[argmax];
  double sum = 0;
  for (int64_t i = 0; i < v; ++i) sum += std::exp(static_cast<double>(x[i]) - m);
  const double lse = m + std::log(sum);
  out.resize(static_cast<size_t>(v));
  for (int64_t i = 0; i < v; ++i) out[i] = static_cast<double>(x[i]) - lse;
}
}  // namespace

Result<PositionKl> kl_per_position(std::span<const float> base, std::span<const float> test, int64_t vocab) {
  if (vocab <= 0) return invalid_argument(fmt::format("kl_divergence: vocab must be > 0, got {}", vocab));
  if (base.size() != test.size()) {
    return invalid_argument(fmt::format("kl_divergence: logits differ in size ({} vs {})", base.size(), test.size()));
  }
  if (base.size() % static_cast<size_t>(vocab) != 0) {
    return invalid_argument(fmt::format("kl_divergence: {} logits are not a whole number of rows of {}", base.size(), vocab));
  }
  for (size_t i = 0; i < base.size(); ++i) {
    if (!std::isfinite(base[i]) || !std::isfinite(test[i])) {
      return invalid_argument(fmt::format("kl_divergence: non-finite logit at position {}, token {}",
                                          i / static_cast<size_t>(vocab), i % static_cast<size_t>(vocab)));
    }
  }
  PositionKl out;
  const int64_t positions = static_cast<int64_t>(base.size()) / vocab;
  std::vector<double> lp, lq;
  for (int64_t r = 0; r < positions; ++r) {
    int64_t am_p = 0, am_q = 0;
    log_softmax(base.data() + r * vocab, vocab, lp, am_p);
    log_softmax(test.data() + r * vocab, vocab, lq, am_q);
    double kl = 0;
    for (int64_t i = 0; i < vocab; ++i) kl += std::exp(lp[i]) * (lp[i] - lq[i]);
    out.kl.push_back(std::max(kl, 0.0));  // rounding can leave −1e-17 for identical rows
    out.top1.push_back(am_p == am_q);
  }
  return out;
}

KlStats summarize_kl(std::span<const double> kl, const std::vector<bool>& top1) {
  KlStats s;
  s.positions = static_cast<int64_t>(kl.size());
  if (s.positions == 0) return s;
  double sum = 0, sum_sq = 0;
  int64_t agree = 0;
  for (size_t i = 0; i < kl.size(); ++i) {
    sum += kl[i];
    sum_sq += kl[i] * kl[i];
    s.max_kl = std::max(s.max_kl, kl[i]);
    agree += i < top1.size() && top1[i];
  }
  const double n = static_cast<double>(s.positions);
  s.mean_kl = sum / n;
  if (s.positions > 1) {
    double var = std::max(0.0, (sum_sq - n * s.mean_kl * s.mean_kl) / (n - 1));
    s.stderr_kl = std::sqrt(var / n);
  }
  s.top1_agreement = static_cast<double>(agree) / n;
  s.stderr_top1 = std::sqrt(s.top1_agreement * (1 - s.top1_agreement) / n);
  return s;
}

Result<KlStats> kl_divergence(std::span<const float> base, std::span<const float> test, int64_t vocab) {
  QB_ASSIGN_OR_RETURN(PositionKl p, kl_per_position(base, test, vocab));
  return summarize_kl(p.kl, p.top1);
}

double mcnemar_exact_p(int64_t b, int64_t c) {
  const int64_t n = b + c;
  if (n == 0) return 1.0;
  const int64_t k = std::min(b, c);
  // P[X <= k], X ~ Binomial(n, 1/2). Up to n = 1000, 2^-n is a normal double and the terms
  // follow exactly enough from C(n, i+1) = C(n, i) (n − i) / (i + 1); beyond, each term is
  // computed in log space.
  double tail = 0;
  if (n <= 1000) {
    double term = std::ldexp(1.0, -static_cast<int>(n));
    for (int64_t i = 0; i <= k; ++i) {
      tail += term;
      term = term * static_cast<double>(n - i) / static_cast<double>(i + 1);
    }
  } else {
    const double log_half_n = -static_cast<double>(n) * std::log(2.0);
    const double lg_n1 = std::lgamma(static_cast<double>(n) + 1);
    for (int64_t i = 0; i <= k; ++i) {
      tail += std::exp(lg_n1 - std::lgamma(static_cast<double>(i) + 1) -
                       std::lgamma(static_cast<double>(n - i) + 1) + log_half_n);
    }
  }
  return std::min(1.0, 2.0 * tail);
}

Result<McNemar> mcnemar_exact(const std::vector<bool>& a, const std::vector<bool>& b) {
  if (a.size() != b.size()) {
    return invalid_argument(fmt::format("mcnemar: {} vs {} paired outcomes (must be the same questions)", a.size(), b.size()));
  }
  McNemar m;
  m.n = static_cast<int64_t>(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    m.only_a += a[i] && !b[i];
    m.only_b += !a[i] && b[i];
  }
  m.p_value = mcnemar_exact_p(m.only_a, m.only_b);
  return m;
}

TokenKlStats summarize_token_kl(std::vector<double> kl, int64_t top1_agree) {
  TokenKlStats t;
  t.tokens = static_cast<int64_t>(kl.size());
  if (kl.empty()) return t;
  const double n = static_cast<double>(kl.size());
  double sum = 0, sq = 0;
  for (double v : kl) sum += v;
  t.mean = sum / n;
  for (double v : kl) sq += (v - t.mean) * (v - t.mean);
  t.stderr_ = kl.size() > 1 ? std::sqrt(sq / (n - 1) / n) : 0.0;
  std::sort(kl.begin(), kl.end());
  auto q = [&](double p) {
    const double at = p * (n - 1);
    const size_t lo = static_cast<size_t>(std::floor(at));
    const size_t hi = std::min(lo + 1, kl.size() - 1);
    return kl[lo] + (kl[hi] - kl[lo]) * (at - static_cast<double>(lo));
  };
  t.min = kl.front();
  t.max = kl.back();
  t.p50 = q(0.5);
  t.p90 = q(0.9);
  t.p95 = q(0.95);
  t.p99 = q(0.99);
  t.p999 = q(0.999);
  t.top1_agreement = static_cast<double>(top1_agree) / n;
  return t;
}

double coarse_kl(std::span<const float> p_log, std::span<const float> q_log) {
  double kl = 0, p_mass = 0, q_mass = 0;
  for (size_t i = 0; i < p_log.size(); ++i) {
    const double lp = p_log[i], lq = q_log[i], p = std::exp(lp);
    kl += p * (lp - lq);
    p_mass += p;
    q_mass += std::exp(lq);
  }
  const double p_rest = std::max(0.0, 1.0 - p_mass), q_rest = std::max(1e-300, 1.0 - q_mass);
  if (p_rest > 0) kl += p_rest * (std::log(p_rest) - std::log(q_rest));
  return std::max(0.0, kl);
}

}  // namespace qb::eval
