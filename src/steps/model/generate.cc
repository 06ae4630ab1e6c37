#include "steps/model/generate.h"

#include <algorithm>
#include <chrono>
#include <unordered_set>

#include <c10/core/InferenceMode.h>

#include "steps/model/decode_step.h"

namespace qb::model {

Result<PaddedBatch> left_pad(const std::vector<std::vector<int64_t>>& seqs, int64_t vocab_size,
                             at::Device device, int64_t pad_id) {
  if (seqs.empty()) return invalid_argument("empty batch");
  size_t t = 0;
  for (size_t b = 0; b < seqs.size(); ++b) {
    if (seqs[b].empty()) return invalid_argument("sequence " + std::to_string(b) + " is empty");
    for (size_t i = 0; i < seqs[b].size(); ++i) {
      const int64_t id = seqs[b][i];
      if (id < 0 || id >= vocab_size)
        return invalid_argument("sequence " + std::to_string(b) + ": id " + std::to_string(id) +
                                " at position " + std::to_string(i) + " is outside the vocabulary [0, " +
                                std::to_string(vocab_size) + ")");
    }
    t = std::max(t, seqs[b].size());
  }
  const int64_t bsz = static_cast<int64_t>(seqs.size());
  at::Tensor ids = at::full({bsz, static_cast<int64_t>(t)}, pad_id, at::kLong);
  at::Tensor valid = at::zeros({bsz, static_cast<int64_t>(t)}, at::kBool);
  auto ids_a = ids.accessor<int64_t, 2>();
  auto valid_a = valid.accessor<bool, 2>();
  for (int64_t b = 0; b < bsz; ++b) {
    const auto& s = seqs[b];
    const size_t start = t - s.size();
    for (size_t i = 0; i < s.size(); ++i) {
      ids_a[b][start + i] = s[i];
      valid_a[b][start + i] = true;
    }
  }
  return PaddedBatch{ids.to(device), valid.to(device)};
}

Result<std::vector<int64_t>> stop_tokens(const Model& model, const GenerateOptions& options,
                                         size_t n_prompts) {
  std::vector<int64_t> stops = options.stop_token_ids;
  if (options.stop_at_eos)
    stops.insert(stops.end(), model.eos_token_ids().begin(), model.eos_token_ids().end());
  if (!options.forced_stop_steps.empty()) {
    if (options.forced_stop_steps.size() != n_prompts)
      return invalid_argument("forced_stop_steps has " + std::to_string(options.forced_stop_steps.size()) +
                              " entries for " + std::to_string(n_prompts) + " prompts");
    if (stops.empty()) return invalid_argument("forced_stop_steps needs a stop token to force");
  }
  return stops;
}

Result<std::vector<Generation>> generate_greedy(const Model& model,
                                                const std::vector<std::vector<int64_t>>& prompts,
                                                const GenerateOptions& options,
                                                GenerateStats* stats) {
  if (options.max_new_tokens < 0) return invalid_argument("max_new_tokens must be >= 0");
  if (options.stop_check_interval < 0)
    return invalid_argument("stop_check_interval must be >= 0");
  QB_ASSIGN_OR_RETURN(PaddedBatch batch,
                      left_pad(prompts, model.config().vocab_size, model.device()));
  const int64_t bsz = batch.ids.size(0), prompt_len = batch.ids.size(1);
  std::vector<Generation> out(bsz);
  if (options.max_new_tokens == 0) {
    if (options.prefill_logits) return invalid_argument("prefill_logits needs max_new_tokens > 0");
    return out;
  }

  QB_ASSIGN_OR_RETURN(const std::vector<int64_t> stops, stop_tokens(model, options, prompts.size()));
  const std::unordered_set<int64_t> stop_set(stops.begin(), stops.end());
  const auto dev = model.device();
  const int64_t check_every =
      options.stop_check_interval > 0 ? options.stop_check_interval : (dev.is_cpu() ? 1 : 16);
  const int64_t steps = options.max_new_tokens;
  const bool static_shapes = options.static_shapes || options.cuda_graph;
  // With static shapes every step attends over all slots: a multiple of 16 keeps the mask rows
  // aligned for the fused attention kernels.
  int64_t slots = prompt_len + steps - 1;
  if (static_shapes) slots = (slots + 15) / 16 * 16;

  // Inference mode skips autograd bookkeeping on every op (the cache lives inside it too).
  c10::InferenceMode inference;
  const at::Tensor stop_ids = at::tensor(stops.empty() ? std::vector<int64_t>{-1} : stops,
                                         at::kLong).to(dev);                            // [S]
  KvCache cache = model.new_cache(bsz, slots);
  cache.set_static_shapes(static_shapes);
  std::unique_ptr<DecodeStep> decoder;
  if (options.cuda_graph) {
    QB_ASSIGN_OR_RETURN(decoder, cuda_graph_decode_step(model, cache));
  } else {
    decoder = eager_decode_step(model, cache);
  }

  const auto t0 = std::chrono::steady_clock::now();
  // Prefill: logits of the last column only (left padding puts every row's last token there).
  const at::Tensor h = model.forward_hidden(batch.ids, batch.valid, &cache);       // [B, T, C]
  const at::Tensor last = model.lm_head(h.select(1, prompt_len - 1));              // [B, V]
  at::Tensor next = last.argmax(-1);                                               // [B]
  if (options.prefill_logits) *options.prefill_logits = last.to(at::kFloat).to(at::kCPU);
  auto t1 = t0;
  if (stats) {
    (void)next.sum().item<int64_t>();  // wait for the device
    t1 = std::chrono::steady_clock::now();
  }
  at::Tensor forced;                                                               // [B]
  if (!options.forced_stop_steps.empty()) forced = at::tensor(options.forced_stop_steps, at::kLong).to(dev);
  at::Tensor finished = at::zeros({bsz}, next.options().dtype(at::kBool));         // [B]
  at::Tensor emitted = at::full({bsz, steps}, -1, next.options());                 // [B, N]
  int64_t done_steps = steps;
  for (int64_t step = 0; step < steps; ++step) {
    if (forced.defined()) next = at::where(forced.eq(step), stop_ids.select(0, 0), next);
    // A row emits the token unless it had already finished; its stop token is emitted.
    emitted.select(1, step).copy_(at::where(finished, at::full_like(next, -1), next));
    finished.logical_or_(at::isin(next, stop_ids));
    if (step + 1 == steps) break;
    if ((step + 1) % check_every == 0 && finished.all().item<bool>()) {
      done_steps = step + 1;
      break;
    }
    next = decoder->step(next);                                                    // [B]
  }

  const at::Tensor host = emitted.narrow(1, 0, done_steps).to(at::kCPU).contiguous();
  if (stats) {
    const auto t2 = std::chrono::steady_clock::now();
    stats->prefill_seconds = std::chrono::duration<double>(t1 - t0).count();
    stats->decode_seconds = std::chrono::duration<double>(t2 - t1).count();
    stats->batch = bsz;
    stats->prompt_columns = prompt_len;
    stats->decode_steps = done_steps - 1;
  }
  auto a = host.accessor<int64_t, 2>();
  for (int64_t b = 0; b < bsz; ++b) {
    Generation& g = out[b];
    for (int64_t i = 0; i < done_steps && a[b][i] >= 0; ++i) {
      if (stop_set.count(a[b][i])) {
        g.finish = FinishReason::kStop;
        g.stop_token = a[b][i];
        break;
      }
      g.tokens.push_back(a[b][i]);
    }
  }
  return out;
}

Result<at::Tensor> last_logits(const Model& model, const std::vector<std::vector<int64_t>>& seqs) {
  QB_ASSIGN_OR_RETURN(PaddedBatch batch, left_pad(seqs, model.config().vocab_size, model.device()));
  c10::InferenceMode inference;
  const at::Tensor h = model.forward_hidden(batch.ids, batch.valid, nullptr);       // [B, T, C]
  return model.lm_head(h.select(1, h.size(1) - 1)).to(at::kFloat).to(at::kCPU);    // [B, V]
}

}  // namespace qb::model
