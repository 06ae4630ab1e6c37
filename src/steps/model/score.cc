// Continuation scoring (see score.h): padded forwards, the vocabulary projection and
// log-softmax in fp32 at the scored positions only, in chunks.
#include "steps/model/score.h"

#include <algorithm>
#include <string>

#include <c10/core/InferenceMode.h>

#include "steps/model/generate.h"  // left_pad

namespace qb::model {

namespace {

Status check_request(size_t i, const std::vector<int64_t>& context, const std::vector<int64_t>& continuation) {
  if (context.empty()) return invalid_argument("request " + std::to_string(i) + ": empty context");
  if (continuation.empty()) return invalid_argument("request " + std::to_string(i) + ": empty continuation");
  return Status::ok();
}

// Scores P positions: hidden states hs [P, C] (final-normed) predicting targets [P] int64.
// Fills per-position results into `out` rows: owner[p] = (request, continuation token index) of
// position p; a request's positions are contiguous and in order.
void score_positions(const Model& model, const at::Tensor& hs, const at::Tensor& targets,
                     const std::vector<std::pair<int64_t, int64_t>>& owner, const ScoreOptions& o,
                     const at::Tensor& compare_ids, std::vector<ContinuationScore>& out) {
  const int64_t p_total = hs.size(0);
  const int64_t chunk = std::max<int64_t>(1, o.position_chunk);
  std::vector<at::Tensor> lp_parts, top1_parts, arg_parts, tid_parts, tlp_parts, cmp_parts;
  for (int64_t p0 = 0; p0 < p_total; p0 += chunk) {
    const int64_t n = std::min(chunk, p_total - p0);
    const at::Tensor logits = model.lm_head(hs.narrow(0, p0, n)).to(at::kFloat);     // [n, V]
    const at::Tensor logp = at::log_softmax(logits, -1);                             // [n, V]
    const at::Tensor tgt = targets.narrow(0, p0, n);                                 // [n]
    const at::Tensor arg = logits.argmax(-1);                                        // [n]
    lp_parts.push_back(logp.gather(-1, tgt.unsqueeze(-1)).squeeze(-1).to(at::kDouble).to(at::kCPU));
    arg_parts.push_back(arg.to(at::kCPU));
    if (o.top_k > 0) {
      auto [v, idx] = logp.topk(o.top_k, -1);                                        // [n, k]
      tid_parts.push_back(idx.to(at::kCPU));
      tlp_parts.push_back(v.to(at::kCPU));
    }
    if (compare_ids.defined()) cmp_parts.push_back(logp.gather(-1, compare_ids.narrow(0, p0, n)).to(at::kCPU));
  }
  const at::Tensor lp = at::cat(lp_parts).contiguous(), arg = at::cat(arg_parts).contiguous();
  const at::Tensor tgt_host = targets.to(at::kCPU).contiguous();
  auto lpa = lp.accessor<double, 1>();
  auto aa = arg.accessor<int64_t, 1>();
  auto ta = tgt_host.accessor<int64_t, 1>();
  const at::Tensor tid = o.top_k > 0 ? at::cat(tid_parts) : at::Tensor();
  const at::Tensor tlp = o.top_k > 0 ? at::cat(tlp_parts) : at::Tensor();
  const at::Tensor cmp = compare_ids.defined() ? at::cat(cmp_parts) : at::Tensor();
  // Positions of one request are contiguous and in order.
  for (int64_t p = 0; p < p_total;) {
    const int64_t r = owner[p].first;
    int64_t q = p;
    while (q < p_total && owner[q].first == r) ++q;
    ContinuationScore& s = out[r];
    s.greedy = true;
    for (int64_t i = p; i < q; ++i) {
      s.token_logprobs.push_back(lpa[i]);
      s.logprob += lpa[i];
      s.greedy = s.greedy && aa[i] == ta[i];
    }
    s.argmax = arg.narrow(0, p, q - p);
    if (tid.defined()) {
      s.top_ids = tid.narrow(0, p, q - p);
      s.top_logprobs = tlp.narrow(0, p, q - p);
    }
    if (cmp.defined()) s.compare_logprobs = cmp.narrow(0, p, q - p);
    p = q;
  }
}

}  // namespace

Result<std::vector<ContinuationScore>> score_continuations(const Model& model,
                                                           const std::vector<ScoreRequest>& reqs,
                                                           const ScoreOptions& o) {
  if (reqs.empty()) return invalid_argument("no continuations to score");
  if (!o.compare_ids.empty() && o.compare_ids.size() != reqs.size())
    return invalid_argument("compare_ids: one tensor per request");
  std::vector<std::vector<int64_t>> seqs;
  std::vector<int64_t> cont_len;
  for (size_t i = 0; i < reqs.size(); ++i) {
    QB_TRY(check_request(i, reqs[i].context, reqs[i].continuation));
    std::vector<int64_t> s = reqs[i].context;
    s.insert(s.end(), reqs[i].continuation.begin(), reqs[i].continuation.end());
    // lm-eval: (context + continuation)[-(max_length + 1):][:-1]
    if (o.max_length > 0 && static_cast<int64_t>(s.size()) > o.max_length + 1)
      s.erase(s.begin(), s.end() - (o.max_length + 1));
    if (static_cast<int64_t>(reqs[i].continuation.size()) >= static_cast<int64_t>(s.size()))
      return invalid_argument("request " + std::to_string(i) + ": the continuation (" +
                              std::to_string(reqs[i].continuation.size()) + " tokens) does not fit max_length " +
                              std::to_string(o.max_length));
    s.pop_back();
    seqs.push_back(std::move(s));
    cont_len.push_back(static_cast<int64_t>(reqs[i].continuation.size()));
  }
  QB_ASSIGN_OR_RETURN(PaddedBatch batch, left_pad(seqs, model.config().vocab_size, model.device()));
  const int64_t bsz = batch.ids.size(0), t = batch.ids.size(1);

  // Row b's continuation token i is predicted at column t - k_b + i (the inputs end one token
  // before the continuation does).
  std::vector<int64_t> flat, target;
  std::vector<std::pair<int64_t, int64_t>> owner;
  for (int64_t b = 0; b < bsz; ++b) {
    const int64_t k = cont_len[b];
    for (int64_t i = 0; i < k; ++i) {
      flat.push_back(b * t + t - k + i);
      target.push_back(reqs[b].continuation[i]);
      owner.emplace_back(b, i);
    }
  }
  for (int64_t id : target)
    if (id < 0 || id >= model.config().vocab_size)
      return invalid_argument("continuation id " + std::to_string(id) + " is outside the vocabulary");
  at::Tensor compare;
  if (!o.compare_ids.empty()) {
    for (size_t b = 0; b < reqs.size(); ++b)
      if (o.compare_ids[b].dim() != 2 || o.compare_ids[b].size(0) != cont_len[b])
        return invalid_argument("compare_ids: request " + std::to_string(b) + " needs [continuation length, k] ids");
    compare = at::cat(o.compare_ids).to(at::kLong);
  }
  c10::InferenceMode inference;
  const auto dev = model.device();
  const at::Tensor h = model.forward_hidden(batch.ids, batch.valid, nullptr);       // [B, T, C]
  const at::Tensor hs = h.reshape({bsz * t, h.size(2)}).index_select(0, at::tensor(flat, at::kLong).to(dev));  // [P, C]
  std::vector<ContinuationScore> out(bsz);
  score_positions(model, hs, at::tensor(target, at::kLong).to(dev), owner, o,
                  compare.defined() ? compare.to(dev) : compare, out);
  return out;
}

Result<std::vector<ContinuationScore>> logprobs_of_continuations(
    const Model& model, const std::vector<int64_t>& prompt,
    const std::vector<std::vector<int64_t>>& continuations) {
  std::vector<ScoreRequest> reqs;
  for (const auto& c : continuations) reqs.push_back({prompt, c});
  return score_continuations(model, reqs);
}

}  // namespace qb::model
