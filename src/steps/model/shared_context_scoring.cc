// Scoring with shared contexts (see shared_context_scoring.h).
#include "steps/model/shared_context_scoring.h"

#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <string>

#include "steps/model/kv_cache.h"

namespace qb::model {

Result<std::vector<ContinuationScore>> score_continuations_shared(const Model& model,
                                                                  const std::vector<ScoreRequest>& reqs) {
  if (reqs.empty()) return invalid_argument("no continuations to score");
  // Distinct contexts in first-seen order; each request's context.
  std::map<std::vector<int64_t>, int64_t> index;
  std::vector<std::vector<int64_t>> contexts;
  std::vector<int64_t> ctx_of;
  int64_t max_cont = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    if (reqs[i].context.empty()) return invalid_argument("request " + std::to_string(i) + ": empty context");
    if (reqs[i].continuation.empty())
      return invalid_argument("request " + std::to_string(i) + ": empty continuation");
    for (int64_t id : reqs[i].continuation)
      if (id < 0 || id >= model.config().vocab_size)
        return invalid_argument("request " + std::to_string(i) + ": continuation id " + std::to_string(id) +
                                " is outside the vocabulary [0, " + std::to_string(model.config().vocab_size) + ")");
    auto [it, added] = index.emplace(reqs[i].context, static_cast<int64_t>(contexts.size()));
    if (added) contexts.push_back(reqs[i].context);
    ctx_of.push_back(it->second);
    max_cont = std::max<int64_t>(max_cont, static_cast<int64_t>(reqs[i].continuation.size()));
  }
  const auto dev = model.device();
  QB_ASSIGN_OR_RETURN(PaddedBatch ctx, left_pad(contexts, model.config().vocab_size, dev));
  const int64_t u = ctx.ids.size(0), tc = ctx.ids.size(1), r = static_cast<int64_t>(reqs.size());

  c10::InferenceMode inference;
  // The contexts, once each: their last hidden states predict every continuation's first token.
  KvCache ctx_cache = model.new_cache(u, tc);
  const at::Tensor hc = model.forward_hidden(ctx.ids, ctx.valid, &ctx_cache);            // [U, Tc, C]
  const int64_t c = hc.size(2);
  const at::Tensor rows_ctx = at::tensor(ctx_of, at::kLong).to(dev);                      // [R]
  at::Tensor hs = hc.select(1, tc - 1).index_select(0, rows_ctx).unsqueeze(1)
                      .expand({r, max_cont, c}).contiguous();                              // [R, K, C]
  if (max_cont > 1) {
    // Each continuation but its last token, left-padded, on top of a copy of its context's rows.
    std::vector<std::vector<int64_t>> feeds;
    for (const auto& q : reqs)
      feeds.emplace_back(q.continuation.begin(), q.continuation.end() - 1);
    for (auto& f : feeds)
      if (f.empty()) f.push_back(0);  // a one-token continuation: one padding column, masked below
    QB_ASSIGN_OR_RETURN(PaddedBatch feed, left_pad(feeds, model.config().vocab_size, dev));
    for (int64_t b = 0; b < r; ++b)
      if (reqs[static_cast<size_t>(b)].continuation.size() == 1) feed.valid[b].fill_(false);
    const int64_t tf = feed.ids.size(1);
    KvCache cache = model.new_cache(r, tc + tf);
    std::vector<int64_t> all(static_cast<size_t>(r));
    std::iota(all.begin(), all.end(), 0);
    QB_TRY(cache.copy_rows(ctx_cache, ctx_of, all));
    const at::Tensor hf = model.forward_hidden(feed.ids, feed.valid, &cache);              // [R, Tf, C]
    // Continuation token i >= 1 is predicted at the feed column of token i - 1.
    for (int64_t b = 0; b < r; ++b) {
      const int64_t k = static_cast<int64_t>(reqs[static_cast<size_t>(b)].continuation.size());
      if (k > 1) hs[b].narrow(0, 1, k - 1).copy_(hf[b].narrow(0, tf - (k - 1), k - 1));
    }
  }
  at::Tensor target = at::zeros({r, max_cont}, at::kLong);                                  // [R, K]
  auto ta = target.accessor<int64_t, 2>();
  for (int64_t b = 0; b < r; ++b)
    for (size_t i = 0; i < reqs[static_cast<size_t>(b)].continuation.size(); ++i)
      ta[b][static_cast<int64_t>(i)] = reqs[static_cast<size_t>(b)].continuation[i];
  target = target.to(dev);
  const at::Tensor logits = model.lm_head(hs).to(at::kFloat);                              // [R, K, V]
  const at::Tensor tok_lp = at::log_softmax(logits, -1).gather(-1, target.unsqueeze(-1)).squeeze(-1);
  const at::Tensor is_top = logits.argmax(-1).eq(target);                                  // [R, K]
  const at::Tensor lp_host = tok_lp.to(at::kDouble).to(at::kCPU).contiguous();
  const at::Tensor top_host = is_top.to(at::kCPU).contiguous();
  auto lpa = lp_host.accessor<double, 2>();
  auto topa = top_host.accessor<bool, 2>();
  std::vector<ContinuationScore> out(static_cast<size_t>(r));
  for (int64_t b = 0; b < r; ++b) {
    ContinuationScore& s = out[static_cast<size_t>(b)];
    s.greedy = true;
    for (size_t i = 0; i < reqs[static_cast<size_t>(b)].continuation.size(); ++i) {
      s.token_logprobs.push_back(lpa[b][static_cast<int64_t>(i)]);
      s.logprob += lpa[b][static_cast<int64_t>(i)];
      s.greedy = s.greedy && topa[b][static_cast<int64_t>(i)];
    }
  }
  return out;
}

}  // namespace qb::model
