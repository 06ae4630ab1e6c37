// Logits of fixed prompts and their comparison; see equivalence.h.
#include "steps/transforms/equivalence.h"

#include <cstdio>

#include "steps/hadamard/random.h"

namespace qb::transforms {
namespace {

std::string sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

}  // namespace

nlohmann::json EquivalenceMetrics::to_json() const {
  return {{"max_rel_error", max_rel_error},   {"max_abs_logit_diff", max_abs_logit_diff},
          {"mean_kl", mean_kl},               {"top1_agreement", top1_agreement},
          {"num_prompts", num_prompts},       {"num_tokens", num_tokens}};
}

std::string EquivalenceMetrics::summary() const {
  return "max relative logit error " + sci(max_rel_error) + ", max |Δlogit| " + sci(max_abs_logit_diff) +
         ", mean KL " + sci(mean_kl) + ", top-1 agreement " + sci(top1_agreement) + " over " +
         std::to_string(num_prompts) + " prompts, " + std::to_string(num_tokens) + " tokens";
}

std::vector<std::vector<int64_t>> default_prompt_ids(int64_t vocab_size) {
  hadamard::SplitMix64 g(0x5EED);
  std::vector<std::vector<int64_t>> out;
  for (int64_t len : {16, 24, 32, 48}) {
    std::vector<int64_t> p(static_cast<size_t>(len));
    for (auto& id : p) id = static_cast<int64_t>(g.next() % static_cast<uint64_t>(vocab_size));
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::vector<at::Tensor>> prompt_logits(const model::Model& m,
                                              const std::vector<std::vector<int64_t>>& prompts) {
  std::vector<at::Tensor> out;
  const int64_t vocab = m.config().vocab_size;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto& p = prompts[i];
    if (p.empty()) return invalid_argument("equivalence prompt " + std::to_string(i) + " is empty");
    for (size_t t = 0; t < p.size(); ++t)
      if (p[t] < 0 || p[t] >= vocab)
        return invalid_argument("equivalence prompt " + std::to_string(i) + ": id " + std::to_string(p[t]) +
                                " at position " + std::to_string(t) + " is outside the vocabulary (0.." +
                                std::to_string(vocab - 1) + ")");
    try {
      auto ids = at::tensor(p, at::kLong).unsqueeze(0).to(m.device());        // [1, T]
      auto valid = at::ones({1, static_cast<int64_t>(p.size())}, at::dtype(at::kBool).device(m.device()));
      out.push_back(m.forward(ids, valid).squeeze(0).to(at::kCPU, at::kFloat));  // [T, V]
    } catch (const c10::Error& e) {
      return internal_error("equivalence prompt " + std::to_string(i) + ": forward pass: " +
                            e.what_without_backtrace());
    }
  }
  return out;
}

Result<EquivalenceMetrics> compare_logits(const std::vector<at::Tensor>& reference,
                                          const std::vector<at::Tensor>& candidate) {
  if (reference.size() != candidate.size())
    return invalid_argument("compare_logits: " + std::to_string(reference.size()) + " reference prompts, " +
                            std::to_string(candidate.size()) + " candidate prompts");
  EquivalenceMetrics m;
  double kl_sum = 0, agree = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    if (reference[i].sizes() != candidate[i].sizes() || reference[i].dim() != 2)
      return invalid_argument("compare_logits: prompt " + std::to_string(i) + " logits have different shapes");
    const auto ref = reference[i].to(at::kDouble), got = candidate[i].to(at::kDouble);  // [T, V]
    const auto diff = got - ref;
    m.max_rel_error = std::max(m.max_rel_error, diff.norm().item<double>() / std::max(ref.norm().item<double>(), 1e-300));
    m.max_abs_logit_diff = std::max(m.max_abs_logit_diff, diff.abs().max().item<double>());
    const auto lp = at::log_softmax(ref, -1), lq = at::log_softmax(got, -1);
    kl_sum += (lp.exp() * (lp - lq)).sum(-1).sum().item<double>();
    agree += (ref.argmax(-1) == got.argmax(-1)).sum().item<double>();
    m.num_tokens += ref.size(0);
  }
  m.num_prompts = static_cast<int64_t>(reference.size());
  if (m.num_tokens > 0) {
    m.mean_kl = kl_sum / static_cast<double>(m.num_tokens);
    m.top1_agreement = agree / static_cast<double>(m.num_tokens);
  }
  return m;
}

}  // namespace qb::transforms
