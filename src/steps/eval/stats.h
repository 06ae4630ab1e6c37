// Statistics for evaluation results: accuracy with its standard error, KL divergence and top-1
// agreement between two models' next-token distributions, and McNemar's exact test for paired
// per-question correctness.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "util/status.h"

namespace qb::eval {

struct Accuracy {
  int64_t n = 0;
  int64_t correct = 0;
  double acc = 0;     // correct / n (0 when n == 0)
  double stderr_ = 0;  // sqrt(acc (1 - acc) / n), the binomial standard error (0 when n == 0)
};
Accuracy accuracy(int64_t correct, int64_t n);

// Accuracy of the same questions asked in several answer orders (GPQA-Diamond's shuffle_seeds):
// one Accuracy per seed (in order of first appearance), and over seeds
//   mean   the mean of the per-seed accuracies: the benchmark's score (every question has every
//          seed, so it equals the pooled correct / n)
//   std    the sample standard deviation (n − 1) of the per-seed accuracies; NaN with one seed
//   min, max
//   stderr the standard error of `mean` over questions: sqrt(Σ_q (c_q − mean)² / Q) / sqrt(Q),
//          c_q = the question's fraction correct over seeds (the items of one question are not
//          independent, so the pooled binomial stderr would be too small); with one seed it is
//          the binomial stderr of accuracy().
// `seed`, `question` and `correct` are parallel, one per item; a question missing a seed or
// seen twice with one is an error naming it.
struct SeedAccuracy {
  std::vector<int64_t> seeds;
  std::vector<Accuracy> per_seed;
  int64_t questions = 0;
  double mean = 0, std = 0, min = 0, max = 0, stderr_ = 0;
};
Result<SeedAccuracy> seed_accuracy(const std::vector<int64_t>& seed, const std::vector<int64_t>& question,
                                   const std::vector<bool>& correct);

// Two models' logits over the same positions, row-major [positions, vocab] (float32 as the
// model produces them). Each row goes through a log-softmax in double (max subtracted first).
struct KlStats {
  int64_t positions = 0;
  double mean_kl = 0;       // mean over positions of KL(P_base || P_test) = Σ p_base (log p_base − log p_test), nats
  double stderr_kl = 0;     // standard error of that mean (sample std / sqrt(positions))
  double max_kl = 0;
  double top1_agreement = 0;  // fraction of positions where both argmaxes agree (first index on ties)
  double stderr_top1 = 0;     // sqrt(a (1 − a) / positions)
};
Result<KlStats> kl_divergence(std::span<const float> base_logits, std::span<const float> test_logits,
                              int64_t vocab);

// The same per position: KL(P_base || P_test) of each row and whether the argmaxes agree (the
// generate step records these per eval item; the score step summarizes them).
struct PositionKl {
  std::vector<double> kl;
  std::vector<bool> top1;
};
Result<PositionKl> kl_per_position(std::span<const float> base_logits, std::span<const float> test_logits,
                                   int64_t vocab);
// KlStats of per-position values (kl and top1 of equal length).
KlStats summarize_kl(std::span<const double> kl, const std::vector<bool>& top1);

// Per-token KL statistics over a perplexity run, as llama.cpp's perplexity --kl-divergence
// reports them: mean ± stderr, percentiles (linear interpolation between order statistics, as
// numpy's default), min/max, and the fraction of tokens whose top-1 agrees.
struct TokenKlStats {
  int64_t tokens = 0;
  double mean = 0, stderr_ = 0, min = 0, max = 0;
  double p50 = 0, p90 = 0, p95 = 0, p99 = 0, p999 = 0;
  double top1_agreement = 0;
};
TokenKlStats summarize_token_kl(std::vector<double> kl, int64_t top1_agree);

// KL(P || Q) coarse-grained to the base's top-k tokens plus one bucket for the rest of the
// mass: Σ_{i<k} p_i (log p_i − log q_i) + p_r (log p_r − log q_r), p_r = 1 − Σ p_i and
// q_r = 1 − Σ q_i over the same ids. Never above the full KL (grouping outcomes cannot raise a
// divergence) and equal to it when the top k hold all of P's mass. Log-probabilities in nats.
double coarse_kl(std::span<const float> base_logprobs, std::span<const float> test_logprobs);

// McNemar's exact test on paired outcomes (same questions, two models): b = questions only A got
// right, c = only B got right; two-sided p = min(1, 2 · P[X ≤ min(b, c)]) for X ~ Binomial(b + c, 1/2);
// p = 1 when b + c = 0.
struct McNemar {
  int64_t n = 0;        // paired questions
  int64_t only_a = 0;   // b
  int64_t only_b = 0;   // c
  double p_value = 1;
};
Result<McNemar> mcnemar_exact(const std::vector<bool>& correct_a, const std::vector<bool>& correct_b);
double mcnemar_exact_p(int64_t b, int64_t c);

}  // namespace qb::eval
