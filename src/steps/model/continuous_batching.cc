// Continuous batching (see continuous_batching.h).
#include "steps/model/continuous_batching.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <numeric>
#include <unordered_set>

#include <c10/core/InferenceMode.h>

#include "steps/model/decode_step.h"
#include "steps/model/shared_prefix.h"

namespace qb::model {

double ContinuousStats::occupancy() const {
  return decode_steps > 0 ? static_cast<double>(used_row_steps) / static_cast<double>(decode_steps * slots) : 0.0;
}

double ContinuousStats::steady_occupancy() const {
  return steady_steps > 0 ? static_cast<double>(steady_used_row_steps) / static_cast<double>(steady_steps * slots)
                          : 0.0;
}

namespace {

using Clock = std::chrono::steady_clock;
double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// What the host knows of one row of the pool.
struct Row {
  int64_t prompt = -1;  // -1: idle
  int64_t budget = 0;   // tokens it may emit
  int64_t count = 0;    // tokens emitted so far (the stop token included)
};

// Admission order: by prefix group (a group enters where its longest prompt would), the
// longest prompts first.
std::vector<int64_t> admission_order(const std::vector<std::vector<int64_t>>& prompts, const PrefixPlan& plan) {
  std::vector<int64_t> by_length(prompts.size());
  std::iota(by_length.begin(), by_length.end(), 0);
  std::stable_sort(by_length.begin(), by_length.end(),
                   [&](int64_t a, int64_t b) { return prompts[a].size() > prompts[b].size(); });
  std::map<int64_t, std::vector<int64_t>> members;
  for (int64_t p : by_length)
    if (plan.group[p] >= 0) members[plan.group[p]].push_back(p);
  std::vector<int64_t> order;
  std::vector<bool> placed(plan.length.size(), false);
  for (int64_t p : by_length) {
    const int64_t g = plan.group[p];
    if (g < 0) {
      order.push_back(p);
    } else if (!placed[g]) {
      placed[g] = true;
      order.insert(order.end(), members[g].begin(), members[g].end());
    }
  }
  return order;
}

class Engine {
 public:
  Engine(const Model& model, const std::vector<std::vector<int64_t>>& prompts, const GenerateOptions& options,
         const ContinuousOptions& copts, const ContinuousCallbacks& callbacks, ContinuousStats& stats)
      : model_(model), prompts_(prompts), options_(options), copts_(copts), callbacks_(callbacks), stats_(stats) {}

  Result<std::vector<Generation>> run();

 private:
  Status admit(std::vector<int64_t> free_rows);
  Status prefill(const std::vector<std::pair<int64_t, int64_t>>& take, int64_t group);  // (row, prompt)
  Result<const KvCache*> prefix_cache(int64_t group);
  Status decode_round();

  const Model& model_;
  const std::vector<std::vector<int64_t>>& prompts_;
  const GenerateOptions& options_;
  const ContinuousOptions& copts_;
  const ContinuousCallbacks& callbacks_;
  ContinuousStats& stats_;

  at::Device dev_ = at::kCPU;
  std::vector<int64_t> budgets_, order_;
  size_t admitted_ = 0;  // prompts of order_ that entered the pool
  PrefixPlan plan_;
  std::vector<int64_t> group_left_;                 // per group: prompts not yet admitted
  std::map<int64_t, KvCache> prefixes_;             // per group, while some of its prompts wait
  std::unordered_set<int64_t> stop_set_;
  at::Tensor stop_ids_;                             // [S] int64 on the device
  std::vector<Row> rows_;
  std::unique_ptr<KvCache> cache_;
  std::unique_ptr<DecodeStep> decoder_;
  at::Tensor next_;                                 // [B] the token each row feeds next
  at::Tensor emitted_;                              // [B, K] the tokens of a round
  at::Tensor forced_, row_step_;                    // [B] forced_stop_steps hook (or undefined)
  int64_t check_every_ = 1, min_refill_ = 1;
  bool want_logits_ = false;
  std::vector<Generation> out_;
};

Result<std::vector<Generation>> Engine::run() {
  const int64_t n = static_cast<int64_t>(prompts_.size());
  if (n == 0) return invalid_argument("empty batch");
  if (copts_.slots < 1) return invalid_argument("continuous batching needs at least one slot");
  if (copts_.prefill_tokens < 1) return invalid_argument("prefill_tokens must be >= 1");
  if (copts_.min_refill_rows < 0) return invalid_argument("min_refill_rows must be >= 0");
  if (options_.stop_check_interval < 0) return invalid_argument("stop_check_interval must be >= 0");
  if (!copts_.max_new_tokens.empty() && copts_.max_new_tokens.size() != prompts_.size())
    return invalid_argument("max_new_tokens has " + std::to_string(copts_.max_new_tokens.size()) + " entries for " +
                            std::to_string(n) + " prompts");
  int64_t max_prompt = 0;
  for (int64_t p = 0; p < n; ++p) {
    const auto& s = prompts_[p];
    if (s.empty()) return invalid_argument("sequence " + std::to_string(p) + " is empty");
    for (size_t i = 0; i < s.size(); ++i)
      if (s[i] < 0 || s[i] >= model_.config().vocab_size)
        return invalid_argument("sequence " + std::to_string(p) + ": id " + std::to_string(s[i]) + " at position " +
                                std::to_string(i) + " is outside the vocabulary [0, " +
                                std::to_string(model_.config().vocab_size) + ")");
    max_prompt = std::max<int64_t>(max_prompt, static_cast<int64_t>(s.size()));
    const int64_t budget = copts_.max_new_tokens.empty() ? options_.max_new_tokens : copts_.max_new_tokens[p];
    if (budget < 1) return invalid_argument("sequence " + std::to_string(p) + ": max_new_tokens must be >= 1");
    budgets_.push_back(budget);
  }
  QB_ASSIGN_OR_RETURN(const std::vector<int64_t> stops, stop_tokens(model_, options_, prompts_.size()));
  stop_set_.insert(stops.begin(), stops.end());

  dev_ = model_.device();
  check_every_ = options_.stop_check_interval > 0 ? options_.stop_check_interval : (dev_.is_cpu() ? 1 : 4);
  const int64_t b = std::min<int64_t>(copts_.slots, n);
  min_refill_ = copts_.min_refill_rows > 0 ? copts_.min_refill_rows : std::max<int64_t>(1, b / 16);
  want_logits_ = options_.prefill_logits != nullptr || static_cast<bool>(callbacks_.on_prefill);
  plan_ = copts_.share_prefixes ? plan_shared_prefixes(prompts_, copts_.min_shared_prefix)
                                : PrefixPlan{{}, {}, std::vector<int64_t>(prompts_.size(), -1)};
  group_left_.assign(plan_.length.size(), 0);
  for (int64_t g : plan_.group)
    if (g >= 0) ++group_left_[g];
  order_ = admission_order(prompts_, plan_);
  out_.assign(prompts_.size(), Generation{});
  rows_.assign(static_cast<size_t>(b), Row{});
  stats_ = ContinuousStats{};
  stats_.slots = b;

  // Every row's sequence fits: a prompt takes at most max_prompt slots (shared prefix, padding
  // and suffix together), its tokens but the last one slot each.
  const bool static_shapes = options_.static_shapes || options_.cuda_graph;
  int64_t slots = max_prompt + *std::max_element(budgets_.begin(), budgets_.end()) - 1;
  if (static_shapes) slots = (slots + 15) / 16 * 16;  // aligned mask rows for the fused kernels

  c10::InferenceMode inference;
  stop_ids_ = at::tensor(stops.empty() ? std::vector<int64_t>{-1} : stops, at::kLong).to(dev_);
  cache_ = std::make_unique<KvCache>(model_.new_cache(b, slots));
  cache_->set_static_shapes(static_shapes);
  cache_->set_row_slots(true);
  if (options_.cuda_graph) {
    QB_ASSIGN_OR_RETURN(decoder_, cuda_graph_decode_step(model_, *cache_));
  } else {
    decoder_ = eager_decode_step(model_, *cache_);
  }
  const auto i64 = at::TensorOptions().dtype(at::kLong).device(dev_);
  next_ = at::zeros({b}, i64);
  emitted_ = at::full({b, check_every_}, -1, i64);
  if (!options_.forced_stop_steps.empty()) {
    forced_ = at::full({b}, -1, i64);
    row_step_ = at::zeros({b}, i64);
  }
  if (options_.prefill_logits)
    *options_.prefill_logits = at::empty({n, model_.config().vocab_size}, at::kFloat);

  std::vector<int64_t> all(static_cast<size_t>(b));
  std::iota(all.begin(), all.end(), 0);
  QB_TRY(admit(all));
  for (;;) {
    std::vector<int64_t> free_rows;
    for (size_t r = 0; r < rows_.size(); ++r)
      if (rows_[r].prompt < 0) free_rows.push_back(static_cast<int64_t>(r));
    const int64_t waiting = static_cast<int64_t>(order_.size() - admitted_);
    const int64_t active = static_cast<int64_t>(rows_.size() - free_rows.size());
    if (waiting > 0 && !free_rows.empty() &&
        (active == 0 || static_cast<int64_t>(free_rows.size()) >= std::min(min_refill_, waiting))) {
      QB_TRY(admit(free_rows));
      continue;
    }
    if (active == 0) break;
    QB_TRY(decode_round());
  }
  return std::move(out_);
}

Result<const KvCache*> Engine::prefix_cache(int64_t group) {
  auto it = prefixes_.find(group);
  if (it != prefixes_.end()) return &it->second;
  const int64_t len = plan_.length[group];
  const auto& leader = prompts_[plan_.leader[group]];
  KvCache pc = model_.new_cache(1, len);
  const at::Tensor ids = at::tensor(std::vector<int64_t>(leader.begin(), leader.begin() + len), at::kLong)
                             .unsqueeze(0).to(dev_);                                         // [1, P]
  (void)model_.forward_hidden(ids, at::ones_like(ids, at::kBool), &pc);
  ++stats_.prefixes;
  return &prefixes_.emplace(group, std::move(pc)).first->second;
}

Status Engine::admit(std::vector<int64_t> free_rows) {
  const auto t0 = Clock::now();
  std::vector<std::pair<int64_t, int64_t>> take;  // (row, prompt)
  for (int64_t r : free_rows) {
    if (admitted_ == order_.size()) break;
    take.emplace_back(r, order_[admitted_++]);
  }
  // One forward per run of prompts of one group within the token budget.
  for (size_t i = 0; i < take.size();) {
    const int64_t g = plan_.group[take[i].second];
    const int64_t shared = g >= 0 ? plan_.length[g] : 0;
    size_t j = i;
    int64_t widest = 0;
    while (j < take.size() && plan_.group[take[j].second] == g) {
      const int64_t w = std::max(widest, static_cast<int64_t>(prompts_[take[j].second].size()) - shared);
      if (j > i && static_cast<int64_t>(j - i + 1) * w > copts_.prefill_tokens) break;
      widest = w;
      ++j;
    }
    QB_TRY(prefill({take.begin() + static_cast<std::ptrdiff_t>(i), take.begin() + static_cast<std::ptrdiff_t>(j)}, g));
    i = j;
  }
  (void)next_.sum().item<int64_t>();  // wait for the device: the time is the prefill's
  stats_.prefill_seconds += seconds(t0, Clock::now());
  return Status::ok();
}

Status Engine::prefill(const std::vector<std::pair<int64_t, int64_t>>& take, int64_t group) {
  const int64_t r = static_cast<int64_t>(take.size());
  const int64_t shared = group >= 0 ? plan_.length[group] : 0;
  std::vector<std::vector<int64_t>> suffixes;
  std::vector<int64_t> rows, admitted;
  for (const auto& [row, p] : take) {
    suffixes.emplace_back(prompts_[p].begin() + shared, prompts_[p].end());
    rows.push_back(row);
    admitted.push_back(p);
  }
  QB_ASSIGN_OR_RETURN(PaddedBatch batch, left_pad(suffixes, model_.config().vocab_size, dev_));
  const int64_t t = batch.ids.size(1);
  KvCache tmp = model_.new_cache(r, shared + t);
  if (group >= 0) {
    QB_ASSIGN_OR_RETURN(const KvCache* pc, prefix_cache(group));
    QB_TRY(tmp.copy_rows(*pc, std::vector<int64_t>(static_cast<size_t>(r), 0), [&] {
      std::vector<int64_t> all(static_cast<size_t>(r));
      std::iota(all.begin(), all.end(), 0);
      return all;
    }()));
    stats_.shared_tokens += shared * r;
    if ((group_left_[group] -= r) == 0) prefixes_.erase(group);  // no prompt of it waits any more
  }
  const at::Tensor h = model_.forward_hidden(batch.ids, batch.valid, &tmp);       // [R, T, C]
  const at::Tensor last = model_.lm_head(h.select(1, t - 1));                     // [R, V]
  const at::Tensor first = last.argmax(-1);                                       // [R]
  std::vector<int64_t> all(static_cast<size_t>(r));
  std::iota(all.begin(), all.end(), 0);
  QB_TRY(cache_->copy_rows(tmp, all, rows));
  const at::Tensor ri = at::tensor(rows, at::kLong).to(dev_);
  next_.index_copy_(0, ri, first);
  if (forced_.defined()) {
    std::vector<int64_t> f;
    for (int64_t p : admitted) f.push_back(options_.forced_stop_steps[p]);
    forced_.index_copy_(0, ri, at::tensor(f, at::kLong).to(dev_));
    row_step_.index_fill_(0, ri, 0);
  }
  if (want_logits_) {
    const at::Tensor logits = last.to(at::kFloat).to(at::kCPU);                   // [R, V]
    if (options_.prefill_logits) options_.prefill_logits->index_copy_(0, at::tensor(admitted, at::kLong), logits);
    if (callbacks_.on_prefill) callbacks_.on_prefill(admitted, logits);
  }
  for (const auto& [row, p] : take) rows_[row] = Row{p, budgets_[p], 0};
  ++stats_.prefill_forwards;
  stats_.prefill_tokens += r * t;
  return Status::ok();
}

Status Engine::decode_round() {
  const auto t0 = Clock::now();
  // Never past the earliest budget end: that row is then refilled without a wasted step.
  int64_t k_round = check_every_;
  for (const Row& row : rows_)
    if (row.prompt >= 0) k_round = std::min(k_round, row.budget - row.count);
  const bool steady = admitted_ < order_.size();
  for (int64_t k = 0; k < k_round; ++k) {
    if (forced_.defined()) {
      next_ = at::where(row_step_.eq(forced_), stop_ids_.select(0, 0), next_);
      row_step_.add_(1);
    }
    emitted_.select(1, k).copy_(next_);
    next_ = decoder_->step(next_);                                                 // [B]
  }
  const at::Tensor host = emitted_.narrow(1, 0, k_round).to(at::kCPU).contiguous();  // the round's sync
  auto a = host.accessor<int64_t, 2>();
  std::vector<FinishedGeneration> finished;
  int64_t used = 0;
  for (size_t b = 0; b < rows_.size(); ++b) {
    Row& row = rows_[b];
    if (row.prompt < 0) continue;
    Generation& g = out_[row.prompt];
    bool done = false;
    for (int64_t k = 0; k < k_round && !done; ++k) {
      const int64_t tok = a[static_cast<int64_t>(b)][k];
      ++row.count;
      ++used;
      if (stop_set_.count(tok)) {
        g.finish = FinishReason::kStop;
        g.stop_token = tok;
        done = true;
      } else {
        g.tokens.push_back(tok);
        done = row.count == row.budget;  // FinishReason::kLength (the default)
      }
    }
    if (done) {
      finished.push_back({row.prompt, g});
      row = Row{};
    }
  }
  stats_.decode_steps += k_round;
  stats_.used_row_steps += used;
  if (steady) {
    stats_.steady_steps += k_round;
    stats_.steady_used_row_steps += used;
  }
  stats_.decode_seconds += seconds(t0, Clock::now());
  if (!finished.empty() && callbacks_.on_finished) QB_TRY(callbacks_.on_finished(finished));
  return Status::ok();
}

}  // namespace

Result<std::vector<Generation>> generate_continuous(const Model& model,
                                                    const std::vector<std::vector<int64_t>>& prompts,
                                                    const GenerateOptions& options,
                                                    const ContinuousOptions& continuous,
                                                    const ContinuousCallbacks& callbacks,
                                                    ContinuousStats* stats) {
  ContinuousStats local;
  Engine engine(model, prompts, options, continuous, callbacks, stats ? *stats : local);
  return engine.run();
}

}  // namespace qb::model
