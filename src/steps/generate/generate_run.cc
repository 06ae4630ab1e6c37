// The generate engine (see generate_run.h).
#include "steps/generate/generate_run.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <map>

#include "steps/eval/py_text.h"
#include "steps/eval/rolling_windows.h"
#include "steps/eval/stats.h"
#include "steps/model/continuous_batching.h"
#include "steps/model/generate.h"
#include "steps/model/shared_context_scoring.h"
#include "steps/model_io/safetensors.h"
#include "steps/model/model.h"
#include "steps/tokenizer/chat_format.h"
#include "steps/tokenizer/tokenizer.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/strings.h"

namespace qb::generate {

namespace stdfs = std::filesystem;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string device_error(const c10::Error& e, int64_t batch) {
  return "the model runtime failed on a batch of " + std::to_string(batch) + " items (" +
         std::string(e.what_without_backtrace()) + "); if the device ran out of memory, lower the eval "
         "config's generation.batch_size";
}

constexpr const char* kPartialFile = "predictions.jsonl";

// Raw results of earlier, interrupted runs of this node, by item index. Stops at the first line
// that is torn (no newline: the run died mid-write) or unreadable, and cuts the file there, so
// that this run's appends start on a line of their own.
std::map<int64_t, eval::RawOutput> read_partial(const stdfs::path& file, size_t n_entries) {
  std::map<int64_t, eval::RawOutput> out;
  auto text = fs::read_file(file);
  if (!text.is_ok()) return out;
  size_t pos = 0, good_end = 0;
  while (pos < text->size()) {
    size_t nl = text->find('\n', pos);
    if (nl == std::string::npos) break;
    auto item = eval::parse_raw_output(std::string_view(*text).substr(pos, nl - pos), file.string());
    pos = nl + 1;
    if (!item.is_ok()) {
      log::warn(file.string() + ": an unreadable line; the items after it are recomputed");
      break;
    }
    int64_t idx = item->first;
    if (idx < 0 || static_cast<size_t>(idx) >= n_entries) break;
    good_end = pos;
    out[idx] = std::move(item->second);
  }
  if (good_end < text->size() && ::truncate(file.c_str(), static_cast<off_t>(good_end)) != 0)
    log::warn(file.string() + ": cannot cut the torn tail; later items are recomputed");
  return out;
}

// Appends one JSON line per finished item; each batch is flushed and fsynced before the next.
class PartialWriter {
 public:
  explicit PartialWriter(const stdfs::path& dir) {
    if (dir.empty()) return;
    std::error_code ec;
    stdfs::create_directories(dir, ec);
    path_ = dir / kPartialFile;
    f_ = std::fopen(path_.c_str(), "ab");
    if (!f_) log::warn("cannot open " + path_.string() + " for appending; this run cannot be resumed");
  }
  ~PartialWriter() {
    if (f_) std::fclose(f_);
  }
  PartialWriter(const PartialWriter&) = delete;
  PartialWriter& operator=(const PartialWriter&) = delete;
  void add(int64_t index, const eval::RawOutput& r) {
    if (!f_) return;
    std::string line = eval::raw_output_line(index, r);
    std::fwrite(line.data(), 1, line.size(), f_);
  }
  void sync() {
    if (!f_) return;
    std::fflush(f_);
    ::fdatasync(::fileno(f_));
  }

 private:
  stdfs::path path_;
  std::FILE* f_ = nullptr;
};

// Batches of at most `batch` item positions, each batch's items of similar length (sorted
// longest first, so an out-of-memory shows up at once rather than at the end).
std::vector<std::vector<size_t>> length_batches(std::vector<size_t> items, const std::vector<size_t>& length,
                                                int64_t batch) {
  std::stable_sort(items.begin(), items.end(), [&](size_t a, size_t b) { return length[a] > length[b]; });
  std::vector<std::vector<size_t>> out;
  for (size_t i = 0; i < items.size(); i += static_cast<size_t>(batch))
    out.emplace_back(items.begin() + static_cast<std::ptrdiff_t>(i),
                     items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), i + static_cast<size_t>(batch))));
  return out;
}

bool e_is_rolling(const eval::EvalEntry& e) { return e.prompt_style == "rolling"; }

// Perplexity documents: lm-eval's rolling windows, batch_size windows per forward; per-token
// top-k kept (base) or compared with the base's (variant). Token rows follow eval-set order.
Status score_rolling(const model::Model& model, const tok::Tokenizer& tokenizer, std::optional<int64_t> prefix_token,
                     int64_t max_length, const std::vector<size_t>& items, const GenerateRunOptions& o,
                     GenerateRunResult& res, PartialWriter& partial, Progress& progress) {
  // A data-parallel shard without documents still keeps its (empty) share of the top-k rows.
  const bool any_document = std::any_of(res.entries.begin(), res.entries.end(), e_is_rolling);
  if (!any_document || (items.empty() && o.keep_top_k == 0)) return Status::ok();
  if (!prefix_token)
    return invalid_argument("perplexity documents need the tokenizer's bos or eos token as lm-eval's prefix token "
                            "(tokenizer_config.json)");
  // Base top-k of the comparison, and each item's first row in it (rows of every rolling item,
  // resumed or not, in eval-set order).
  at::Tensor base_ids, base_lp;
  if (!o.compare_tokens.empty()) {
    QB_ASSIGN_OR_RETURN(auto reader, model_io::SafetensorsReader::open(o.compare_tokens));
    QB_ASSIGN_OR_RETURN_CTX(base_ids, reader.load("top_ids"), o.compare_tokens.string());
    QB_ASSIGN_OR_RETURN_CTX(base_lp, reader.load("top_logprobs"), o.compare_tokens.string());
    if (base_ids.dim() != 2 || base_lp.sizes() != base_ids.sizes() || base_lp.scalar_type() != at::kFloat)
      return corrupt(o.compare_tokens.string() + ": expected top_ids [P, k] and top_logprobs [P, k] fp32");
    base_ids = base_ids.to(at::kLong);
  }
  std::vector<std::vector<int64_t>> doc_tokens(res.entries.size());
  std::vector<int64_t> first_row(res.entries.size(), 0);
  int64_t rows = 0;
  for (size_t i = 0; i < res.entries.size(); ++i) {
    if (!e_is_rolling(res.entries[i])) continue;
    for (int32_t id : tokenizer.encode(res.entries[i].prompt)) doc_tokens[i].push_back(id);
    first_row[i] = rows;
    rows += static_cast<int64_t>(doc_tokens[i].size());
  }
  if (base_ids.defined() && base_ids.size(0) != rows)
    return corrupt(o.compare_tokens.string() + ": " + std::to_string(base_ids.size(0)) + " token rows, this eval set "
                   "has " + std::to_string(rows) + " (a different tokenizer?)");
  struct Job {
    size_t item;
    int64_t row;  // first token row of this window
    eval::TokenWindow w;
  };
  std::vector<Job> jobs;
  for (size_t i : items) {
    int64_t row = first_row[i];
    for (auto& w : eval::rolling_windows(doc_tokens[i], *prefix_token, max_length)) {
      const auto k = static_cast<int64_t>(w.continuation.size());
      jobs.push_back({i, row, std::move(w)});
      row += k;
    }
    eval::RawOutput& r = res.items[i];
    r = eval::RawOutput{};
    r.loglikelihood = 0.0;
    r.tokens = static_cast<int64_t>(doc_tokens[i].size());
    if (base_ids.defined()) r.token_top1 = 0;
  }
  if (o.keep_top_k > 0) {
    res.token_top_ids = at::zeros({rows, o.keep_top_k}, at::kLong);
    res.token_top_logprobs = at::zeros({rows, o.keep_top_k}, at::kFloat);
    res.token_row_item = at::empty({rows}, at::kLong);
    for (size_t i = 0; i < res.entries.size(); ++i)
      res.token_row_item.narrow(0, first_row[i], static_cast<int64_t>(doc_tokens[i].size())).fill_(static_cast<int64_t>(i));
  }
  std::vector<int> windows_left(res.entries.size(), 0);
  for (const auto& j : jobs) ++windows_left[j.item];
  auto t0 = Clock::now();
  int64_t scored = 0;
  const auto bs = static_cast<size_t>(o.spec.batch_size);
  for (size_t b0 = 0; b0 < jobs.size(); b0 += bs) {
    const size_t b1 = std::min(jobs.size(), b0 + bs);
    std::vector<model::ScoreRequest> reqs;
    model::ScoreOptions so;
    so.max_length = max_length;
    so.top_k = o.keep_top_k;
    for (size_t j = b0; j < b1; ++j) {
      reqs.push_back({jobs[j].w.context, jobs[j].w.continuation});
      if (base_ids.defined())
        so.compare_ids.push_back(base_ids.narrow(0, jobs[j].row, static_cast<int64_t>(jobs[j].w.continuation.size())));
    }
    std::vector<model::ContinuationScore> scores;
    try {
      QB_ASSIGN_OR_RETURN(scores, model::score_continuations(model, reqs, so));
    } catch (const c10::Error& e) {
      return unavailable(device_error(e, static_cast<int64_t>(b1 - b0)));
    }
    for (size_t j = b0; j < b1; ++j) {
      const Job& job = jobs[j];
      const model::ContinuationScore& sc = scores[j - b0];
      eval::RawOutput& r = res.items[job.item];
      *r.loglikelihood += sc.logprob;
      const auto k = static_cast<int64_t>(job.w.continuation.size());
      scored += k;
      if (o.keep_top_k > 0) {
        res.token_top_ids.narrow(0, job.row, k).copy_(sc.top_ids);
        res.token_top_logprobs.narrow(0, job.row, k).copy_(sc.top_logprobs);
      }
      if (base_ids.defined()) {
        const at::Tensor blp = base_lp.narrow(0, job.row, k).contiguous();
        const at::Tensor vlp = sc.compare_logprobs.to(at::kFloat).contiguous();
        const at::Tensor agree = sc.argmax.eq(base_ids.narrow(0, job.row, k).select(1, 0));
        const int64_t width = blp.size(1);
        for (int64_t t = 0; t < k; ++t)
          r.token_kl.push_back(eval::coarse_kl({blp.data_ptr<float>() + t * width, static_cast<size_t>(width)},
                                               {vlp.data_ptr<float>() + t * width, static_cast<size_t>(width)}));
        *r.token_top1 += agree.sum().item<int64_t>();
      }
      if (--windows_left[job.item] == 0) {
        partial.add(static_cast<int64_t>(job.item), r);
        progress.advance(1);
      }
    }
    partial.sync();
  }
  for (size_t i : items)  // an empty document has no window
    if (windows_left[i] == 0 && doc_tokens[i].empty()) {
      partial.add(static_cast<int64_t>(i), res.items[i]);
      progress.advance(1);
    }
  const double secs = seconds_since(t0);
  res.stats["rolling_windows"] = jobs.size();
  res.stats["rolling_tokens"] = scored;
  res.stats["rolling_seconds"] = secs;
  res.stats["rolling_tokens_per_s"] = secs > 0 ? static_cast<double>(scored) / secs : 0.0;
  return Status::ok();
}

}  // namespace

Result<GenerateRunResult> run_generation(const GenerateRunOptions& o) {
  GenerateRunResult res;
  if (o.shards < 1 || o.shard < 0 || o.shard >= o.shards)
    return invalid_argument("shard " + std::to_string(o.shard) + " of " + std::to_string(o.shards) + " does not exist");
  QB_ASSIGN_OR_RETURN(res.entries, eval::load_eval_set(o.eval_set_dir / "eval_set.jsonl"));
  const auto& entries = res.entries;
  const size_t n = entries.size();
  json sample_params = json::object();
  if (auto sp = fs::read_file(o.eval_set_dir / "sample_params.json"); sp.is_ok()) {
    sample_params = json::parse(*sp, nullptr, false);
    if (sample_params.is_discarded()) return corrupt((o.eval_set_dir / "sample_params.json").string() + ": not JSON");
  }
  const bool enable_thinking = sample_params.value("enable_thinking", false);
  const int64_t batch_size = o.spec.batch_size;

  std::error_code ec;
  if (!stdfs::exists(o.model_dir / "tokenizer.json", ec))
    return not_found("model folder '" + o.model_dir.string() +
                     "' has no tokenizer.json: an eval needs the model's tokenizer (put tokenizer.json, "
                     "tokenizer_config.json next to config.json)");
  QB_ASSIGN_OR_RETURN(tok::Tokenizer tokenizer, tok::Tokenizer::load(o.model_dir));
  model::LoadOptions lo;
  lo.device = o.device;
  lo.dtype = o.dtype;
  auto t_load = Clock::now();
  QB_ASSIGN_OR_RETURN(model::Model model, model::Model::load(o.model_dir, lo));
  res.stats["load_seconds"] = seconds_since(t_load);

  // ---- tokenize ----
  std::vector<std::vector<int64_t>> prompt_ids(n);
  std::vector<std::vector<std::vector<int64_t>>> cont_ids(n);
  std::vector<size_t> length(n);
  tok::ChatOptions chat;
  chat.enable_thinking = enable_thinking;
  auto encode = [&](const std::string& text) {
    std::vector<int64_t> ids;
    for (int32_t id : tokenizer.encode(text)) ids.push_back(id);
    return ids;
  };
  // lm-eval's prefix token (HFLM.prefix_token_id): bos, else eos.
  std::optional<int64_t> prefix_token;
  if (auto b = tokenizer.bos_id()) prefix_token = *b;
  else if (auto e = tokenizer.eos_id()) prefix_token = *e;
  // lm-eval's _encode_pair (see the header).
  auto encode_pair = [&](std::string context, std::string continuation)
      -> Result<std::pair<std::vector<int64_t>, std::vector<int64_t>>> {
    if (context.empty()) {
      if (!prefix_token)
        return invalid_argument("an empty context needs the tokenizer's bos or eos token (tokenizer_config.json)");
      return std::make_pair(std::vector<int64_t>{*prefix_token}, encode(continuation));
    }
    const size_t keep = eval::py::rstrip(context).size();  // Python's str.rstrip()
    continuation = context.substr(keep) + continuation;
    context.resize(keep);
    std::vector<int64_t> whole = encode(context + continuation), ctx = encode(context);
    return std::make_pair(ctx, std::vector<int64_t>(whole.begin() + static_cast<std::ptrdiff_t>(std::min(ctx.size(), whole.size())), whole.end()));
  };
  // Per loglikelihood item: the context tokens of each choice (one entry when shared).
  std::vector<std::vector<std::vector<int64_t>>> ctx_ids(n);
  int64_t prompt_tokens = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto& e = entries[i];
    prompt_ids[i] = encode(e.chat_template ? tok::format_chat_prompt(e.prompt, chat) : e.prompt);
    if (prompt_ids[i].empty() && e.prompt_style != "rolling")
      return invalid_argument("eval item " + std::to_string(i) + " (" + e.source + "): an empty prompt");
    if (e.prompt_style == "loglikelihood") {
      for (size_t c = 0; c < e.continuations.size(); ++c) {
        const std::string& context = e.contexts.empty() ? e.prompt : e.contexts[c];
        QB_ASSIGN_OR_RETURN_CTX(auto pair, encode_pair(context, e.continuations[c]),
                                "eval item " + std::to_string(i) + " (" + e.source + ")");
        if (pair.second.empty())
          return invalid_argument("eval item " + std::to_string(i) + " (" + e.source + "): continuation " +
                                  std::to_string(c) + " has no tokens of its own");
        if (ctx_ids[i].empty() || ctx_ids[i].back() != pair.first) ctx_ids[i].push_back(std::move(pair.first));
        cont_ids[i].push_back(std::move(pair.second));
      }
      if (ctx_ids[i].size() != 1 && ctx_ids[i].size() != cont_ids[i].size()) {
        // Shared in part only: keep one context per choice.
        ctx_ids[i].clear();
        for (size_t c = 0; c < e.continuations.size(); ++c)
          ctx_ids[i].push_back(encode_pair(e.contexts.empty() ? e.prompt : e.contexts[c], e.continuations[c])->first);
      }
    }
    length[i] = prompt_ids[i].size();
    prompt_tokens += static_cast<int64_t>(length[i]);
    for (int64_t id : prompt_ids[i])
      if (id >= model.config().vocab_size)
        return invalid_argument("eval item " + std::to_string(i) + ": token id " + std::to_string(id) +
                                " is outside the model's vocabulary of " + std::to_string(model.config().vocab_size) +
                                " (the tokenizer in '" + o.model_dir.string() + "' does not belong to this model)");
  }
  res.stats["items"] = n;
  res.stats["prompt_tokens"] = prompt_tokens;

  // ---- resume ----
  res.items.resize(n);
  std::map<int64_t, eval::RawOutput> done;
  std::vector<bool> resumed(n, false);
  if (!o.partial_dir.empty()) done = read_partial(o.partial_dir / kPartialFile, n);
  for (auto& [idx, r] : done) {
    const auto& e = entries[static_cast<size_t>(idx)];
    bool fits = e.prompt_style == "loglikelihood" ? r.loglikelihoods.size() == e.continuations.size() : true;
    if (e.prompt_style == "rolling")  // per-token top-k is not in the resume file: recompute
      fits = r.loglikelihood.has_value() && o.keep_top_k == 0 && (o.compare_tokens.empty() || r.token_top1.has_value());
    if (!fits) continue;
    res.items[static_cast<size_t>(idx)] = std::move(r);
    resumed[static_cast<size_t>(idx)] = true;
    ++res.resumed;
  }
  if (res.resumed > 0)
    log::info("resuming: " + std::to_string(res.resumed) + " of " + std::to_string(n) +
              " items were completed by an earlier, interrupted run of this eval");

  std::vector<int64_t> stop_ids;
  for (std::string_view s : tok::kChatStopTokens)
    if (auto id = tokenizer.token_to_id(s)) stop_ids.push_back(*id);

  // Pending items by kind: generative ones grouped by their token budget (per dataset).
  std::map<int64_t, std::vector<size_t>> gen_by_budget;
  std::vector<size_t> ll_items, rolling_items;
  // This process's items: all, or those of its shard (data-parallel workers).
  auto mine = [&](size_t i) { return static_cast<int64_t>(i % static_cast<size_t>(o.shards)) == o.shard; };
  for (size_t i = 0; i < n; ++i) {
    if (!mine(i)) continue;
    if (e_is_rolling(entries[i])) {
      if (!resumed[i] || o.keep_top_k > 0) rolling_items.push_back(i);
      continue;
    }
    if (resumed[i]) continue;
    const auto& e = entries[i];
    if (e.prompt_style == "loglikelihood") {
      if (e.continuations.size() < 2)
        return invalid_argument("eval item " + std::to_string(i) + ": a loglikelihood item needs at least 2 continuations");
      ll_items.push_back(i);
    } else {
      auto budget_it = o.spec.max_new_tokens.find(e.dataset_name);
      if (budget_it == o.spec.max_new_tokens.end())
        return invalid_argument("eval item " + std::to_string(i) + ": no max_new_tokens for dataset '" + e.dataset_name +
                                "' in the generate spec");
      const int64_t budget = budget_it->second;
      gen_by_budget[budget].push_back(i);
    }
  }
  size_t pending = ll_items.size() + rolling_items.size();
  for (const auto& [b, v] : gen_by_budget) pending += v.size();

  // Fidelity logits: generative items take them from their generation's prefill; the rest
  // (log-likelihood items, items resumed from an earlier run) get a prefill pass at the end.
  std::vector<bool> have_logits(n, false);
  if (o.want_logits) res.last_logits = at::zeros({static_cast<int64_t>(n), model.config().vocab_size}, at::kFloat);

  PartialWriter partial(o.partial_dir);
  Progress progress("eval items", static_cast<int64_t>(pending));
  int64_t generated_tokens = 0;
  double gen_seconds = 0, ll_seconds = 0, prefill_seconds = 0, decode_seconds = 0;
  int64_t padded_prompt_tokens = 0;

  if (!o.forced_stop_steps.empty() && o.forced_stop_steps.size() != n)
    return invalid_argument("forced_stop_steps has " + std::to_string(o.forced_stop_steps.size()) + " entries for " +
                            std::to_string(n) + " eval items");
  auto forced_of = [&](const std::vector<size_t>& items) {
    std::vector<int64_t> f;
    if (!o.forced_stop_steps.empty())
      for (size_t i : items) f.push_back(o.forced_stop_steps[i]);
    return f;
  };
  // One finished generative item: its raw output, appended to the resume file.
  auto record = [&](size_t item, const model::Generation& gen) {
    eval::RawOutput& r = res.items[item];
    const std::vector<int32_t> ids(gen.tokens.begin(), gen.tokens.end());
    r.output = tokenizer.decode(ids);
    r.output_tokens = static_cast<int64_t>(ids.size());
    r.finish = gen.finish == model::FinishReason::kStop ? "stop" : "length";
    generated_tokens += r.output_tokens;
    partial.add(static_cast<int64_t>(item), r);
  };

  if (o.spec.batching == "continuous" && !gen_by_budget.empty()) {
    // Every pending generative item through one pool, each with its dataset's budget; results
    // reach the resume file as each decode round finishes them.
    std::vector<size_t> items;
    std::vector<std::vector<int64_t>> prompts;
    model::ContinuousOptions c;
    c.slots = batch_size;
    c.share_prefixes = o.share_prefixes;
    for (const auto& [budget, v] : gen_by_budget)
      for (size_t i : v) {
        items.push_back(i);
        prompts.push_back(prompt_ids[i]);
        c.max_new_tokens.push_back(budget);
      }
    model::GenerateOptions g;
    g.max_new_tokens = c.max_new_tokens.front();
    g.stop_token_ids = stop_ids;
    g.cuda_graph = o.device.is_cuda();
    g.forced_stop_steps = forced_of(items);
    model::ContinuousCallbacks cb;
    if (o.want_logits)
      cb.on_prefill = [&](const std::vector<int64_t>& ps, const at::Tensor& logits) {
        std::vector<int64_t> idx;
        for (int64_t p : ps) idx.push_back(static_cast<int64_t>(items[static_cast<size_t>(p)]));
        res.last_logits.index_copy_(0, at::tensor(idx, at::kLong), logits);
        for (int64_t i : idx) have_logits[static_cast<size_t>(i)] = true;
      };
    // Rounds finish an item or two every few steps: the resume file is synced at most once a
    // second (a crash loses at most that much work), and once at the end.
    auto last_sync = Clock::now();
    cb.on_finished = [&](const std::vector<model::FinishedGeneration>& finished) {
      for (const auto& f : finished) record(items[static_cast<size_t>(f.prompt)], f.generation);
      if (seconds_since(last_sync) >= 1.0) {
        partial.sync();
        last_sync = Clock::now();
      }
      progress.advance(static_cast<int64_t>(finished.size()));
      return Status::ok();
    };
    auto t0 = Clock::now();
    model::ContinuousStats cs;
    try {
      QB_TRY(model::generate_continuous(model, prompts, g, c, cb, &cs).status());
    } catch (const c10::Error& e) {
      return unavailable(device_error(e, batch_size));
    }
    partial.sync();
    gen_seconds += seconds_since(t0);
    prefill_seconds += cs.prefill_seconds;
    decode_seconds += cs.decode_seconds;
    padded_prompt_tokens += cs.prefill_tokens;
    res.stats["batching"] = "continuous";
    res.stats["slot_occupancy"] = cs.occupancy();
    res.stats["steady_slot_occupancy"] = cs.steady_occupancy();
    res.stats["decode_steps"] = cs.decode_steps;
    res.stats["prefill_forwards"] = cs.prefill_forwards;
    res.stats["shared_prefixes"] = cs.prefixes;
    res.stats["shared_prefix_tokens"] = cs.shared_tokens;
    gen_by_budget.clear();
  }
  int64_t static_row_steps = 0, static_used_row_steps = 0;
  for (const auto& [budget, items] : gen_by_budget) {
    for (const auto& batch : length_batches(items, length, batch_size)) {
      std::vector<std::vector<int64_t>> prompts;
      for (size_t i : batch) prompts.push_back(prompt_ids[i]);
      model::GenerateOptions g;
      g.max_new_tokens = budget;
      g.stop_token_ids = stop_ids;
      g.cuda_graph = o.device.is_cuda();
      g.forced_stop_steps = forced_of(batch);
      at::Tensor prefill_logits;
      if (o.want_logits) g.prefill_logits = &prefill_logits;
      auto t0 = Clock::now();
      std::vector<model::Generation> outs;
      try {
        model::GenerateStats gs;
        QB_ASSIGN_OR_RETURN(outs, model::generate_greedy(model, prompts, g, &gs));
        prefill_seconds += gs.prefill_seconds;
        decode_seconds += gs.decode_seconds;
        padded_prompt_tokens += gs.batch * gs.prompt_columns;
      } catch (const c10::Error& e) {
        return unavailable(device_error(e, static_cast<int64_t>(batch.size())));
      }
      gen_seconds += seconds_since(t0);
      if (o.want_logits) {
        std::vector<int64_t> idx(batch.begin(), batch.end());
        res.last_logits.index_copy_(0, at::tensor(idx, at::kLong), prefill_logits);
        for (size_t i : batch) have_logits[i] = true;
      }
      // A static batch steps all its rows until its longest member ends (the stop token's step
      // counts as used, as in continuous batching's occupancy).
      int64_t longest = 0;
      for (size_t k = 0; k < batch.size(); ++k) {
        const int64_t used = static_cast<int64_t>(outs[k].tokens.size()) + (outs[k].finish == model::FinishReason::kStop);
        longest = std::max(longest, used);
        static_used_row_steps += used;
        record(batch[k], outs[k]);
      }
      static_row_steps += longest * static_cast<int64_t>(batch.size());
      partial.sync();
      progress.advance(static_cast<int64_t>(batch.size()));
    }
  }
  // lm-eval's max_length (HFLM: the model's max_position_embeddings, else 2048).
  const int64_t max_length = o.spec.max_length.value_or(0) > 0 ? *o.spec.max_length
                             : model.config().max_position_embeddings > 0 ? model.config().max_position_embeddings
                                                                          : 2048;
  res.stats["max_length"] = max_length;
  std::vector<size_t> ll_length(n, 0);  // context + longest continuation
  for (size_t i : ll_items) {
    size_t longest = 0;
    for (const auto& c : cont_ids[i]) longest = std::max(longest, c.size());
    for (const auto& c : ctx_ids[i]) ll_length[i] = std::max(ll_length[i], c.size() + longest);
  }
  int64_t ll_forward_tokens = 0;
  for (const auto& batch : length_batches(ll_items, ll_length, batch_size)) {
    // Items whose choices share a context (and fit max_length) run it once.
    std::vector<size_t> grouped, paired;
    for (size_t i : batch)
      (o.shared_prefill && ctx_ids[i].size() == 1 && static_cast<int64_t>(ll_length[i]) <= max_length ? grouped : paired)
          .push_back(i);
    auto t0 = Clock::now();
    try {
      if (!grouped.empty()) {
        std::vector<model::ScoreRequest> reqs;
        for (size_t i : grouped) {
          ll_forward_tokens += static_cast<int64_t>(ctx_ids[i][0].size());
          for (const auto& c : cont_ids[i]) {
            reqs.push_back({ctx_ids[i][0], c});
            ll_forward_tokens += static_cast<int64_t>(c.size()) - 1;  // the last token is never fed
          }
        }
        QB_ASSIGN_OR_RETURN(auto scores, model::score_continuations_shared(model, reqs));
        size_t at = 0;
        for (size_t i : grouped)
          for (size_t c = 0; c < cont_ids[i].size(); ++c) res.items[i].loglikelihoods.push_back(scores[at++].logprob);
      }
      if (!paired.empty()) {
        std::vector<model::ScoreRequest> reqs;
        for (size_t i : paired)
          for (size_t c = 0; c < cont_ids[i].size(); ++c) {
            reqs.push_back({ctx_ids[i][ctx_ids[i].size() == 1 ? 0 : c], cont_ids[i][c]});
            ll_forward_tokens += static_cast<int64_t>(reqs.back().context.size() + reqs.back().continuation.size());
          }
        model::ScoreOptions so;
        so.max_length = max_length;
        QB_ASSIGN_OR_RETURN(auto scores, model::score_continuations(model, reqs, so));
        size_t at = 0;
        for (size_t i : paired)
          for (size_t c = 0; c < cont_ids[i].size(); ++c) res.items[i].loglikelihoods.push_back(scores[at++].logprob);
      }
    } catch (const c10::Error& e) {
      return unavailable(device_error(e, static_cast<int64_t>(batch.size())));
    }
    ll_seconds += seconds_since(t0);
    for (size_t i : batch) partial.add(static_cast<int64_t>(i), res.items[i]);
    partial.sync();
    progress.advance(static_cast<int64_t>(batch.size()));
  }
  res.stats["loglikelihood_forward_tokens"] = ll_forward_tokens;
  QB_TRY(score_rolling(model, tokenizer, prefix_token, max_length, rolling_items, o, res, partial, progress));
  if (static_row_steps > 0) {
    res.stats["batching"] = "static";
    res.stats["slot_occupancy"] = static_cast<double>(static_used_row_steps) / static_cast<double>(static_row_steps);
  }
  res.stats["generated_tokens"] = generated_tokens;
  res.stats["generate_seconds"] = gen_seconds;
  res.stats["decode_tokens_per_s"] = decode_seconds > 0 ? static_cast<double>(generated_tokens) / decode_seconds : 0.0;
  res.stats["prefill_seconds"] = prefill_seconds;  // generation's prompt forwards (+ first token)
  res.stats["prefill_tokens_per_s"] = prefill_seconds > 0 ? static_cast<double>(padded_prompt_tokens) / prefill_seconds : 0.0;
  res.stats["decode_seconds"] = decode_seconds;
  res.stats["loglikelihood_seconds"] = ll_seconds;
  res.stats["resumed_items"] = res.resumed;

  // ---- next-token logits at every prompt's last position (fidelity) ----
  if (o.want_logits) {
    auto t0 = Clock::now();
    std::vector<size_t> rest;
    for (size_t i = 0; i < n; ++i)
      if (!have_logits[i] && mine(i) && !e_is_rolling(entries[i])) rest.push_back(i);  // documents: per-token instead
    for (const auto& batch : length_batches(rest, length, batch_size)) {
      std::vector<std::vector<int64_t>> seqs;
      for (size_t i : batch) seqs.push_back(prompt_ids[i]);
      at::Tensor rows;
      try {
        QB_ASSIGN_OR_RETURN(rows, model::last_logits(model, seqs));
      } catch (const c10::Error& e) {
        return unavailable(device_error(e, static_cast<int64_t>(batch.size())));
      }
      std::vector<int64_t> idx(batch.begin(), batch.end());
      res.last_logits.index_copy_(0, at::tensor(idx, at::kLong), rows.to(at::kFloat));
    }
    res.stats["logits_seconds"] = seconds_since(t0);
    res.stats["logits_pass_items"] = rest.size();
  }
  return res;
}

}  // namespace qb::generate
