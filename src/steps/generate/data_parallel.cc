// Data-parallel evaluation (see data_parallel.h).
#include "steps/generate/data_parallel.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <thread>

#include "steps/eval/rows.h"
#include "steps/model/model_config.h"
#include "steps/model_io/safetensors.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/subprocess.h"

namespace qb::generate {

namespace stdfs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kOutputs = "outputs.jsonl";
constexpr const char* kLogits = "logits.safetensors";
constexpr const char* kStats = "stats.json";
// keep_top_k: the token rows of the worker's own documents, "rows" [p] int64 their row numbers in
// the whole eval set's token_topk file, "top_ids" / "top_logprobs" [p, k].
constexpr const char* kTokenRows = "token_rows.safetensors";

json request_json(const GenerateRunOptions& o, int64_t shard, int64_t shards, const stdfs::path& out_dir,
                  int64_t cpu_threads) {
  return {{"model_dir", o.model_dir.string()},
          {"eval_set_dir", o.eval_set_dir.string()},
          {"device", o.device.is_cuda() ? "cuda" : "cpu"},
          {"dtype", o.dtype ? json(model::dtype_label(*o.dtype)) : json(nullptr)},
          {"spec", o.spec.to_json()},
          {"partial_dir", o.partial_dir.empty() ? std::string()
                                                : (o.partial_dir / ("shard-" + std::to_string(shard) + "-of-" +
                                                                    std::to_string(shards))).string()},
          {"want_logits", o.want_logits},
          {"share_prefixes", o.share_prefixes},
          {"keep_top_k", o.keep_top_k},
          {"compare_tokens", o.compare_tokens.string()},
          {"shared_prefill", o.shared_prefill},
          {"forced_stop_steps", o.forced_stop_steps},
          {"shard", shard},
          {"shards", shards},
          {"cpu_threads", cpu_threads},
          {"out_dir", out_dir.string()}};
}

Result<GenerateRunOptions> parse_request(const json& j, const std::string& where) {
  try {
    GenerateRunOptions o;
    o.model_dir = j.at("model_dir").get<std::string>();
    o.eval_set_dir = j.at("eval_set_dir").get<std::string>();
    o.device = j.at("device").get<std::string>() == "cuda" ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
    if (!j.at("dtype").is_null()) {
      QB_ASSIGN_OR_RETURN(at::ScalarType dt, model::parse_dtype(j.at("dtype").get<std::string>()));
      o.dtype = dt;
    }
    QB_ASSIGN_OR_RETURN(o.spec, spec::GenerateSpec::from_json(j.at("spec")));
    o.partial_dir = j.at("partial_dir").get<std::string>();
    o.want_logits = j.at("want_logits").get<bool>();
    o.share_prefixes = j.at("share_prefixes").get<bool>();
    o.keep_top_k = j.at("keep_top_k").get<int64_t>();
    o.compare_tokens = j.at("compare_tokens").get<std::string>();
    o.shared_prefill = j.at("shared_prefill").get<bool>();
    o.forced_stop_steps = j.at("forced_stop_steps").get<std::vector<int64_t>>();
    o.shard = j.at("shard").get<int64_t>();
    o.shards = j.at("shards").get<int64_t>();
    return o;
  } catch (const json::exception& e) {
    return corrupt(where + ": not a generate-worker request (" + e.what() + ")");
  }
}

std::string tail_of(const stdfs::path& file, size_t bytes) {
  auto text = fs::read_file(file);
  if (!text.is_ok()) return "";
  return text->size() > bytes ? text->substr(text->size() - bytes) : *text;
}

// The per-token top-k of the perplexity documents, every row from exactly one worker (that of
// its document), back in eval-set order.
Status merge_token_rows(const std::vector<stdfs::path>& dirs, int64_t shards, GenerateRunResult& res) {
  std::vector<at::Tensor> rows, ids, lps;
  int64_t total = 0;
  for (int64_t k = 0; k < shards; ++k) {
    const stdfs::path file = dirs[static_cast<size_t>(k)] / kTokenRows;
    QB_ASSIGN_OR_RETURN(auto reader, model_io::SafetensorsReader::open(file));
    QB_ASSIGN_OR_RETURN_CTX(at::Tensor r, reader.load("rows"), file.string());
    QB_ASSIGN_OR_RETURN_CTX(at::Tensor i, reader.load("top_ids"), file.string());
    QB_ASSIGN_OR_RETURN_CTX(at::Tensor l, reader.load("top_logprobs"), file.string());
    if (r.dim() != 1 || i.dim() != 2 || i.size(0) != r.size(0) || l.sizes() != i.sizes() || l.scalar_type() != at::kFloat)
      return corrupt(file.string() + ": expected rows [p], top_ids [p, k] and top_logprobs [p, k] fp32");
    if (!ids.empty() && i.size(1) != ids.front().size(1)) return corrupt(file.string() + ": another top-k width");
    rows.push_back(r.to(at::kLong));
    ids.push_back(i.to(at::kLong));
    lps.push_back(l);
    total += r.size(0);
  }
  if (total == 0) return Status::ok();  // no documents in the eval set
  const at::Tensor all_rows = at::cat(rows);
  const at::Tensor seen = at::zeros({total}, at::kLong);
  if (all_rows.min().item<int64_t>() < 0 || all_rows.max().item<int64_t>() >= total)
    return corrupt("generate workers: token rows outside [0, " + std::to_string(total) + ")");
  seen.index_add_(0, all_rows, at::ones({total}, at::kLong));
  if (!seen.eq(1).all().item<bool>())
    return corrupt("generate workers: a token row of the perplexity documents is missing or doubled");
  res.token_top_ids = at::empty({total, ids.front().size(1)}, at::kLong);
  res.token_top_logprobs = at::empty({total, ids.front().size(1)}, at::kFloat);
  res.token_top_ids.index_copy_(0, all_rows, at::cat(ids));
  res.token_top_logprobs.index_copy_(0, all_rows, at::cat(lps));
  return Status::ok();
}

}  // namespace

Result<GenerateRunResult> run_generation_parallel(const GenerateRunOptions& o, const ParallelOptions& p) {
  const int64_t shards = static_cast<int64_t>(p.devices.size());
  if (shards < 1) return invalid_argument("data-parallel generation needs at least one device");
  if (p.worker_argv.empty()) return invalid_argument("data-parallel generation needs a worker command");
  QB_ASSIGN_OR_RETURN(std::vector<eval::EvalEntry> entries, eval::load_eval_set(o.eval_set_dir / "eval_set.jsonl"));
  const size_t n = entries.size();

  std::vector<stdfs::path> dirs;
  for (int64_t k = 0; k < shards; ++k) {
    const stdfs::path dir = p.work_dir / ("shard-" + std::to_string(k));
    std::error_code ec;
    stdfs::remove_all(dir, ec);
    stdfs::create_directories(dir, ec);
    if (ec) return io_error("cannot create " + dir.string() + ": " + ec.message());
    QB_TRY(fs::write_file_atomic(dir / "request.json", request_json(o, k, shards, dir, p.cpu_threads).dump(2)));
    dirs.push_back(dir);
  }

  // One thread per worker, each waiting on its process.
  std::vector<Result<ProcessResult>> results(static_cast<size_t>(shards), internal_error("not run"));
  std::vector<std::thread> threads;
  for (int64_t k = 0; k < shards; ++k)
    threads.emplace_back([&, k] {
      const auto& dir = dirs[static_cast<size_t>(k)];
      std::vector<std::string> argv = p.worker_argv;
      argv.push_back((dir / "request.json").string());
      ProcessOptions po;
      if (!p.devices[static_cast<size_t>(k)].empty()) po.env["CUDA_VISIBLE_DEVICES"] = p.devices[static_cast<size_t>(k)];
      po.env["QB_WORKER_ERROR_FILE"] = (dir / "error.log").string();
      po.die_with_parent = true;
      results[static_cast<size_t>(k)] = run_process(argv, po);
    });
  for (auto& t : threads) t.join();
  for (int64_t k = 0; k < shards; ++k) {
    const auto& r = results[static_cast<size_t>(k)];
    if (!r.is_ok()) return r.status().with_context("generate worker " + std::to_string(k));
    if (r->interrupted) return unavailable("generate worker " + std::to_string(k) + " was interrupted");
    if (r->signaled || r->exit_code != 0)
      return internal_error("generate worker " + std::to_string(k) + " (device '" + p.devices[static_cast<size_t>(k)] +
                            "') failed (" + (r->signaled ? "signal " + std::to_string(r->signal)
                                                         : "exit " + std::to_string(r->exit_code)) +
                            "): " + tail_of(dirs[static_cast<size_t>(k)] / "error.log", 2000));
  }

  // Merge in item order; every item from exactly its own shard.
  GenerateRunResult res;
  res.entries = std::move(entries);
  res.items.resize(n);
  std::vector<bool> have(n, false);
  json shard_stats = json::array();
  for (int64_t k = 0; k < shards; ++k) {
    const auto& dir = dirs[static_cast<size_t>(k)];
    const stdfs::path file = dir / kOutputs;
    QB_ASSIGN_OR_RETURN(std::string text, fs::read_file(file));
    QB_TRY(eval::for_each_line(text, [&](int line, std::string_view s) -> Status {
      const std::string where = file.string() + ":" + std::to_string(line);
      QB_ASSIGN_OR_RETURN(auto item, eval::parse_raw_output(s, where));
      const int64_t i = item.first;
      if (i < 0 || static_cast<size_t>(i) >= n || i % shards != k)
        return corrupt(where + ": item " + std::to_string(i) + " is not one of shard " + std::to_string(k) + "'s");
      if (have[static_cast<size_t>(i)]) return corrupt(where + ": item " + std::to_string(i) + " twice");
      have[static_cast<size_t>(i)] = true;
      res.items[static_cast<size_t>(i)] = std::move(item.second);
      return Status::ok();
    }));
    QB_ASSIGN_OR_RETURN(std::string st, fs::read_file(dir / kStats));
    json sj = json::parse(st, nullptr, false);
    if (sj.is_discarded()) return corrupt((dir / kStats).string() + ": not JSON");
    res.resumed += sj.value("resumed_items", int64_t{0});
    shard_stats.push_back(std::move(sj));
    if (o.want_logits) {
      QB_ASSIGN_OR_RETURN(auto reader, model_io::SafetensorsReader::open(dir / kLogits));
      QB_ASSIGN_OR_RETURN_CTX(at::Tensor rows, reader.load("logits"), (dir / kLogits).string());
      const int64_t mine = (static_cast<int64_t>(n) - k + shards - 1) / shards;
      if (rows.dim() != 2 || rows.size(0) != mine || rows.scalar_type() != at::kFloat)
        return corrupt((dir / kLogits).string() + ": 'logits' is not a float32 [" + std::to_string(mine) + ", V] tensor");
      if (!res.last_logits.defined()) res.last_logits = at::empty({static_cast<int64_t>(n), rows.size(1)}, at::kFloat);
      if (rows.size(1) != res.last_logits.size(1)) return corrupt((dir / kLogits).string() + ": another vocabulary size");
      res.last_logits.index_copy_(0, at::arange(k, static_cast<int64_t>(n), shards, at::kLong), rows);
    }
  }
  if (o.keep_top_k > 0) QB_TRY(merge_token_rows(dirs, shards, res));
  for (size_t i = 0; i < n; ++i)
    if (!have[i])
      return corrupt("generate worker " + std::to_string(static_cast<int64_t>(i) % shards) + " left item " +
                     std::to_string(i) + " without a result");

  // Totals: counts add up; the node took as long as its slowest worker.
  res.stats = nlohmann::ordered_json::object();
  res.stats["workers"] = shards;
  for (const char* key : {"items", "prompt_tokens", "generated_tokens", "resumed_items"}) {
    int64_t sum = 0;
    for (const auto& s : shard_stats) sum += s.value(key, int64_t{0});
    res.stats[key] = key == std::string("items") ? static_cast<int64_t>(n) : sum;
  }
  for (const char* key : {"load_seconds", "generate_seconds", "prefill_seconds", "decode_seconds",
                          "loglikelihood_seconds", "logits_seconds"}) {
    double mx = 0;
    for (const auto& s : shard_stats) mx = std::max(mx, s.value(key, 0.0));
    res.stats[std::string("max_") + key] = mx;
  }
  res.stats["shards"] = shard_stats;
  return res;
}

int generate_worker_main(const stdfs::path& request_file) {
  auto fail = [&](const Status& s) {
    std::fprintf(stderr, "generate worker: %s\n", s.to_string().c_str());
    if (const char* f = std::getenv("QB_WORKER_ERROR_FILE")) (void)fs::write_file_atomic(f, s.to_string() + "\n");
    return 1;
  };
  auto text = fs::read_file(request_file);
  if (!text.is_ok()) return fail(text.status());
  const json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return fail(corrupt(request_file.string() + ": not JSON"));
  auto o = parse_request(j, request_file.string());
  if (!o.is_ok()) return fail(o.status());
  if (const int64_t t = j.value("cpu_threads", int64_t{0}); t > 0) at::set_num_threads(static_cast<int>(t));
  const stdfs::path out = j.value("out_dir", std::string());
  try {
    auto r = run_generation(*o);
    if (!r.is_ok()) return fail(r.status());
    std::string lines;
    std::vector<int64_t> mine;
    for (size_t i = static_cast<size_t>(o->shard); i < r->items.size(); i += static_cast<size_t>(o->shards)) {
      lines += eval::raw_output_line(static_cast<int64_t>(i), r->items[i]);
      mine.push_back(static_cast<int64_t>(i));
    }
    if (Status s = fs::write_file_atomic(out / kOutputs, lines); !s.is_ok()) return fail(s);
    if (o->want_logits) {
      const at::Tensor rows = r->last_logits.index_select(0, at::tensor(mine, at::kLong));
      if (Status s = model_io::write_safetensors(out / kLogits, {{"logits", rows}}); !s.is_ok()) return fail(s);
    }
    if (o->keep_top_k > 0) {
      at::Tensor rows = at::empty({0}, at::kLong), ids = at::empty({0, o->keep_top_k}, at::kLong),
                 lps = at::empty({0, o->keep_top_k}, at::kFloat);
      if (r->token_row_item.defined()) {
        rows = r->token_row_item.remainder(o->shards).eq(o->shard).nonzero().squeeze(1);
        ids = r->token_top_ids.index_select(0, rows);
        lps = r->token_top_logprobs.index_select(0, rows);
      }
      if (Status s = model_io::write_safetensors(out / kTokenRows, {{"rows", rows}, {"top_ids", ids}, {"top_logprobs", lps}});
          !s.is_ok())
        return fail(s);
    }
    nlohmann::ordered_json stats = r->stats;
    stats["resumed_items"] = r->resumed;
    if (Status s = fs::write_file_atomic(out / kStats, stats.dump(2)); !s.is_ok()) return fail(s);
  } catch (const c10::Error& e) {
    return fail(internal_error(std::string("libtorch: ") + e.what_without_backtrace()));
  }
  return 0;
}

}  // namespace qb::generate
