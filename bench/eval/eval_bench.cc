// bench_eval: wall time of the evaluate stage. Three modes (--mode):
//
//   generate (default)  the generate engine (run_generation: tokenize, batched greedy generation
//       sorted by length, the fidelity logits pass) and scoring on a synthetic eval set of
//       MMLU-like items (0-shot, ~200-token chat prompts) and GSM8K-like items (4-shot-sized,
//       ~700-token chat prompts), every item generating up to --max-new tokens. A random-weight
//       model never emits a stop token, so every item runs the full budget: the worst case.
//   perplexity  lm-eval's rolling log-likelihood over synthetic documents of about --tokens
//       tokens in all (WikiText-2's test split is ~300k Qwen3 tokens in 62 documents), windows of
//       --max-length (0: the model's max_position_embeddings), --batch windows per forward;
//       compare rolling_tokens_per_s with bench_model's prefill ceiling for the same shape.
//   choices  --items HellaSwag-like items (a ~80-token context, 4 endings of ~25 tokens) scored
//       twice in the same call: the shared-context prefill (one forward of each context, the
//       endings batched over its KV cache) and one forward per choice; items/s of each, and the
//       largest difference between their log-likelihoods.
//
//   qbuild random-model --shape qwen3-8b --device cuda --out /tmp/q8b
//   bench_eval --model /tmp/q8b --device cuda --items 512 --max-new 256 --batch 128
//   bench_eval --mode perplexity --model /tmp/q8b --device cuda --tokens 300000 --max-length 4096 --batch 8
//   bench_eval --mode choices --model /tmp/q8b --device cuda --items 1000 --batch 64
//
// Prints one JSON line: wall seconds per phase, prompt / generated tokens, achieved prefill and
// decode rates (perplexity: rolling_tokens_per_s; choices: items/s of both paths), peak GPU
// memory.
//
// Generate mode, realistic lengths (--lengths lognormal): each generative item stops after a length drawn from
// a log-normal distribution (--median, --sigma; capped at --max-new, --seed fixed), emulating a
// model that emits its stop token (the engine's forced-stop hook). --runs lists the engines to
// compare on the same items in one call (static, continuous, continuous-unshared: continuous
// without shared prefixes); one JSON line each, then a summary line with items/s ratios.
// --prompts few-shot gives MMLU-like items a 5-shot block per subject (8 subjects) and
// GSM8K-like items one 4-shot block, the prompts shared prefixes save work on.
//
//   bench_eval --model /tmp/q8b --device cuda --items 1024 --max-new 1024 --batch 128 \
//              --lengths lognormal --median 150 --sigma 0.8 --runs static,continuous
#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/common/bench_cli.h"
#include "bench/common/bench_device.h"
#include "steps/eval/eval_set.h"
#include "steps/eval/score_run.h"
#include "steps/generate/generate_run.h"
#include "steps/model/device.h"
#include "util/fs.h"

#ifdef QB_BENCH_CUDA_STATS
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace {

namespace stdfs = std::filesystem;

struct Args {
  std::string model, device = "cpu", dtype = "bfloat16", work = "/tmp/qbuild-bench-eval";
  std::string mode = "generate";
  int items = 512, max_new = 256, batch = 128;
  int64_t tokens = 300'000, max_length = 0;
  bool logits = true;
  std::string lengths = "fixed", prompts = "zero-shot", runs = "static";
  double median = 150, sigma = 0.8;
  int seed = 0;
};

// Reads the command line into `a`; nullopt to go on, else the exit status (0 after --help).
std::optional<int> parse(int argc, char** argv, Args& a) {
  qb::bench::App app{"Wall time of the evaluate stage on a synthetic MMLU-like + GSM8K-like eval set against a\n"
               "model folder; prints one JSON line.",
               "bench_eval"};
  app.add_option("--model", a.model, "model folder (e.g. from `qbuild random-model`)")
      ->required()
      ->check(CLI::ExistingDirectory);
  qb::bench::add_device_option(app, a.device);
  app.add_option("--dtype", a.dtype, "weights and activations (auto: the checkpoint's)")
      ->check(qb::bench::dtype_validator());
  app.add_option("--items", a.items, "items per dataset (MMLU-like and GSM8K-like)")->check(qb::bench::at_least(1));
  app.add_option("--max-new", a.max_new, "generated tokens per item (all of them: no stop token)")
      ->check(qb::bench::at_least(1));
  app.add_option("--batch", a.batch, "generation batch size")->check(qb::bench::at_least(1));
  app.add_flag_callback("--no-logits", [&a] { a.logits = false; }, "skip the fidelity logits pass");
  app.add_option("--work", a.work, "scratch folder for the eval set (emptied first)");
  app.add_option("--mode", a.mode, "generate | perplexity | choices (see the file's header)")
      ->check(CLI::IsMember({"generate", "perplexity", "choices"}));
  app.add_option("--tokens", a.tokens, "perplexity: about this many document tokens in all")
      ->check(qb::bench::at_least(1));
  app.add_option("--max-length", a.max_length, "perplexity/choices: lm-eval's max_length (0: the model's)")
      ->check(qb::bench::at_least(0));
  app.add_option("--lengths", a.lengths, "output lengths: fixed (every item runs --max-new) or lognormal")
      ->check(CLI::IsMember({"fixed", "lognormal"}));
  app.add_option("--median", a.median, "lognormal: median output length in tokens (the stop token included)")
      ->check(CLI::PositiveNumber);
  app.add_option("--sigma", a.sigma, "lognormal: sigma of log(length)")->check(CLI::NonNegativeNumber);
  app.add_option("--seed", a.seed, "lognormal: seed of the length draws");
  app.add_option("--prompts", a.prompts, "zero-shot, or few-shot (shared 5-shot / 4-shot blocks)")
      ->check(CLI::IsMember({"zero-shot", "few-shot"}));
  app.add_option("--runs", a.runs, "comma-separated engines to compare: static, continuous, continuous-unshared");
  return qb::bench::parse(app, argc, argv);
}

// Deterministic filler text of about `words` words (varied so prompts differ in length).
std::string filler(int words, int salt) {
  static const char* w[] = {"the", "number", "of", "apples", "in", "each", "basket", "is", "twelve",
                            "and", "a", "farmer", "sells", "three", "baskets", "every", "morning", "to",
                            "market", "where", "prices", "rise", "by", "five", "percent"};
  std::string s;
  for (int i = 0; i < words; ++i) {
    s += w[(i * 7 + salt * 13) % 25];
    s += (i % 17 == 16) ? ". " : " ";
  }
  return s;
}

// A few-shot block: `shots` worked examples of ~`words` words each, the same for every item of
// `subject` (as evalscope's MMLU takes its five examples from the subject's dev split).
std::string few_shot_block(int shots, int words, int subject) {
  std::string s;
  for (int k = 0; k < shots; ++k)
    s += "Example " + std::to_string(k + 1) + ": " + filler(words, 1000 + subject * 31 + k) + "\nANSWER: " +
         std::string(1, static_cast<char>('A' + (subject + k) % 4)) + "\n\n";
  return s;
}

std::vector<qb::eval::EvalEntry> synthetic_set(int per_dataset, bool few_shot) {
  std::vector<qb::eval::EvalEntry> out;
  for (int i = 0; i < 2 * per_dataset; ++i) {
    qb::eval::EvalEntry e;
    e.index = i;
    const bool mmlu = i < per_dataset;
    e.dataset_name = mmlu ? "mmlu" : "gsm8k";
    e.subset_name = mmlu ? "synthetic" : "main";
    e.task_type = mmlu ? "knowledge" : "math";
    e.weight = 1;
    if (mmlu) {
      e.prompt = "Answer the following multiple choice question. The last line of your response should be of the "
                 "following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of A,B,C,D. Think "
                 "step by step before answering.\n\n" +
                 (few_shot ? few_shot_block(5, 90, i % 8) : std::string()) + filler(80 + (i * 37) % 120, i) +
                 "?\n\nA) one\nB) two\nC) three\nD) four";
      e.gold = "B";
      e.choices = {"one", "two", "three", "four"};
    } else {
      e.prompt = (few_shot ? few_shot_block(4, 120, 100) : std::string()) + filler(420 + (i * 53) % 200, i) +
                 "\nPlease reason step by step, and put your final answer within \\boxed{}.";
      e.gold = "42";
    }
    e.source = "synthetic:" + std::to_string(i);
    out.push_back(std::move(e));
  }
  return out;
}

// Per item: the step at which it emits its stop token (lognormal), or -1 (runs to --max-new).
std::vector<int64_t> draw_stops(const Args& a, size_t n) {
  std::vector<int64_t> out(n, -1);
  if (a.lengths != "lognormal") return out;
  std::mt19937_64 rng(static_cast<uint64_t>(a.seed));
  std::normal_distribution<double> normal(std::log(a.median), a.sigma);
  for (auto& s : out) {
    const double len = std::round(std::exp(normal(rng)));  // tokens, the stop token included
    s = len >= a.max_new ? -1 : std::max<int64_t>(0, static_cast<int64_t>(len) - 1);
  }
  return out;
}

std::vector<std::string> split_runs(const std::string& runs) {
  std::vector<std::string> out;
  std::stringstream ss(runs);
  for (std::string r; std::getline(ss, r, ',');)
    if (!r.empty()) out.push_back(r);
  return out;
}


// Documents of filler text, ~1.3 tokens per word, about `tokens` tokens in all, ~4,800 each (a
// WikiText-2 test page's average).
std::vector<qb::eval::EvalEntry> synthetic_documents(int64_t tokens) {
  std::vector<qb::eval::EvalEntry> out;
  const int64_t per_doc = 4800, docs = std::max<int64_t>(1, tokens / per_doc);
  for (int64_t i = 0; i < docs; ++i) {
    qb::eval::EvalEntry e;
    e.index = i;
    e.dataset_name = "perplexity";
    e.subset_name = "default";
    e.task_type = "perplexity";
    e.prompt_style = "rolling";
    e.chat_template = false;
    e.weight = 1;
    e.prompt = filler(static_cast<int>(tokens / docs / 13 * 10), static_cast<int>(i));
    e.metadata = {{"words", static_cast<int64_t>(e.prompt.size() / 6)}, {"bytes", static_cast<int64_t>(e.prompt.size())}};
    e.source = "synthetic:" + std::to_string(i);
    out.push_back(std::move(e));
  }
  return out;
}

// HellaSwag-like items: "<activity>: <~60 words>" and 4 endings of ~20 words each.
std::vector<qb::eval::EvalEntry> synthetic_choices(int items) {
  std::vector<qb::eval::EvalEntry> out;
  for (int i = 0; i < items; ++i) {
    qb::eval::EvalEntry e;
    e.index = i;
    e.dataset_name = "hellaswag";
    e.subset_name = "default";
    e.task_type = "commonsense";
    e.prompt_style = "loglikelihood";
    e.chat_template = false;
    e.weight = 1;
    e.prompt = "Synthetic activity: " + filler(50 + (i * 31) % 30, i);
    while (!e.prompt.empty() && e.prompt.back() == ' ') e.prompt.pop_back();
    for (int c = 0; c < 4; ++c) {
      std::string ending = filler(15 + (i * 7 + c * 5) % 10, i * 4 + c);
      while (!ending.empty() && ending.back() == ' ') ending.pop_back();
      e.choices.push_back(ending);
      e.continuations.push_back(" " + ending);
    }
    e.gold = "0";
    e.source = "synthetic:" + std::to_string(i);
    out.push_back(std::move(e));
  }
  return out;
}


// The peak GPU memory since the last reset (CUDA builds with a CUDA device), in GiB.
void add_peak_gpu(nlohmann::json& j, const at::Device& dev) {
#ifdef QB_BENCH_CUDA_STATS
  if (dev.is_cuda()) {
    auto s = c10::cuda::CUDACachingAllocator::getDeviceStats(0);
    j["peak_gpu_gib"] = static_cast<double>(s.allocated_bytes[static_cast<int>(c10::CachingAllocator::StatType::AGGREGATE)].peak) /
                        (1024.0 * 1024.0 * 1024.0);
  }
#else
  (void)j;
  (void)dev;
#endif
}

// One run_generation and its scoring, timed: the run's stats plus score_seconds and
// wall_seconds, and the scored report; nullopt after printing the error.
struct TimedRun {
  nlohmann::json stats;
  nlohmann::ordered_json report;
};
std::optional<TimedRun> timed_run(const qb::generate::GenerateRunOptions& o, const std::string& label) {
  auto t0 = std::chrono::steady_clock::now();
  auto r = qb::generate::run_generation(o);
  if (!r.is_ok()) {
    std::fprintf(stderr, "bench_eval: %s%s\n", label.c_str(), r.status().message().c_str());
    return std::nullopt;
  }
  auto t1 = std::chrono::steady_clock::now();
  auto scored = qb::eval::score_outputs(r->entries, r->items, {});
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!scored.is_ok()) {
    std::fprintf(stderr, "bench_eval: %s\n", scored.status().message().c_str());
    return std::nullopt;
  }
  TimedRun out{r->stats, std::move(scored->report)};
  out.stats["score_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  out.stats["wall_seconds"] = wall;
  return out;
}

// --mode perplexity or choices: lm-eval requests on the eval set in a.work (see the header).
int run_lm_eval_mode(const Args& a, at::Device dev, std::optional<at::ScalarType> dt) {
  qb::generate::GenerateRunOptions o;
  o.model_dir = a.model;
  o.eval_set_dir = a.work + "/eval_set";
  o.device = dev;
  o.dtype = dt;
  o.spec.batch_size = a.batch;
  o.spec.max_length = a.max_length;
  if (a.mode == "choices") {
    // The same items one forward per choice, in the same call (the comparison's baseline).
    qb::generate::GenerateRunOptions per_choice = o;
    per_choice.shared_prefill = false;
    auto b0 = std::chrono::steady_clock::now();
    auto base = qb::generate::run_generation(per_choice);
    const double base_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count();
    auto s0 = std::chrono::steady_clock::now();
    auto shared = qb::generate::run_generation(o);
    const double shared_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
    if (!base.is_ok() || !shared.is_ok()) {
      std::fprintf(stderr, "bench_eval: %s\n", (!base.is_ok() ? base.status() : shared.status()).message().c_str());
      return 1;
    }
    double max_diff = 0;
    for (size_t i = 0; i < base->items.size(); ++i)
      for (size_t c = 0; c < base->items[i].loglikelihoods.size(); ++c)
        max_diff = std::max(max_diff, std::abs(base->items[i].loglikelihoods[c] - shared->items[i].loglikelihoods[c]));
    const double base_ll = base->stats.value("loglikelihood_seconds", 0.0);
    const double shared_ll = shared->stats.value("loglikelihood_seconds", 0.0);
    nlohmann::json j = {{"mode", "choices"}, {"items", a.items}, {"choices_per_item", 4}, {"batch_size", a.batch},
                        {"device", a.device},
                        {"per_choice", {{"wall_seconds", base_s}, {"loglikelihood_seconds", base_ll},
                                        {"items_per_s", base_ll > 0 ? a.items / base_ll : 0.0},
                                        {"forward_tokens", base->stats.value("loglikelihood_forward_tokens", 0)}}},
                        {"shared_prefill", {{"wall_seconds", shared_s}, {"loglikelihood_seconds", shared_ll},
                                            {"items_per_s", shared_ll > 0 ? a.items / shared_ll : 0.0},
                                            {"forward_tokens", shared->stats.value("loglikelihood_forward_tokens", 0)}}},
                        {"speedup", shared_ll > 0 ? base_ll / shared_ll : 0.0},
                        {"max_abs_loglikelihood_diff", max_diff}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  auto timed = timed_run(o, "");
  if (!timed) return 1;
  nlohmann::json j = timed->stats;
  j["items_per_dataset"] = a.items;
  j["max_new_tokens"] = a.max_new;
  j["batch_size"] = a.batch;
  j["device"] = a.device;
  j["mode"] = a.mode;
  if (timed->report.contains("overall")) j["overall_acc"] = timed->report["overall"]["acc"];
  if (timed->report.contains("perplexity")) j["perplexity"] = timed->report["perplexity"];
  const double gen_s = j.value("generate_seconds", 0.0);
  j["generated_tokens_per_s_incl_prefill"] = gen_s > 0 ? j.value("generated_tokens", 0) / gen_s : 0.0;
  add_peak_gpu(j, dev);
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (auto rc = parse(argc, argv, a)) return *rc;
  const auto runs = split_runs(a.runs);
  for (const auto& r : runs)
    if (r != "static" && r != "continuous" && r != "continuous-unshared") {
      std::fprintf(stderr, "bench_eval: --runs: unknown engine '%s' (static, continuous, continuous-unshared)\n",
                   r.c_str());
      return 2;
    }
  if (runs.empty()) {
    std::fprintf(stderr, "bench_eval: --runs lists no engine\n");
    return 2;
  }
  auto dev = qb::model::parse_device(a.device);  // both checked by parse()
  auto dt = qb::model::parse_dtype_option(a.dtype);
  stdfs::remove_all(a.work);
  stdfs::create_directories(a.work + "/eval_set");
  auto entries = a.mode == "perplexity" ? synthetic_documents(a.tokens)
                 : a.mode == "choices"  ? synthetic_choices(a.items)
                                        : synthetic_set(a.items, a.prompts == "few-shot");
  if (auto s = qb::fs::write_file_atomic(a.work + "/eval_set/eval_set.jsonl", qb::eval::eval_set_to_jsonl(entries)); !s.is_ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  if (a.mode != "generate") return run_lm_eval_mode(a, *dev, *dt);
  const std::vector<int64_t> stops = draw_stops(a, entries.size());
  nlohmann::json summary = {{"summary", true}, {"lengths", a.lengths}, {"prompts", a.prompts}};
  if (a.lengths == "lognormal") {
    int64_t sum = 0;
    for (int64_t s : stops) sum += s < 0 ? a.max_new : s + 1;
    summary["median"] = a.median;
    summary["sigma"] = a.sigma;
    summary["seed"] = a.seed;
    summary["mean_length"] = static_cast<double>(sum) / static_cast<double>(stops.size());
  }
  for (const std::string& run : runs) {
    qb::generate::GenerateRunOptions o;
    o.model_dir = a.model;
    o.eval_set_dir = a.work + "/eval_set";
    o.device = *dev;
    o.dtype = *dt;
    o.spec.max_new_tokens = {{"mmlu", a.max_new}, {"gsm8k", a.max_new}};
    o.spec.batch_size = a.batch;
    o.spec.batching = run == "static" ? "static" : "continuous";
    o.share_prefixes = run != "continuous-unshared";
    o.want_logits = a.logits;
    if (a.lengths == "lognormal") o.forced_stop_steps = stops;
#ifdef QB_BENCH_CUDA_STATS
    if (dev->is_cuda()) {
      (void)at::empty({1}, at::Device(at::kCUDA, 0));  // the allocator knows no device before its first use
      c10::cuda::CUDACachingAllocator::resetPeakStats(0);
    }
#endif
    auto timed = timed_run(o, run + ": ");
    if (!timed) return 1;
    nlohmann::json j = timed->stats;
    j["run"] = run;
    j["items_per_dataset"] = a.items;
    j["max_new_tokens"] = a.max_new;
    j["batch_size"] = a.batch;
    j["device"] = a.device;
    j["lengths"] = a.lengths;
    j["prompts"] = a.prompts;
    j["overall_acc"] = timed->report["overall"]["acc"];
    const double gen_s = j.value("generate_seconds", 0.0);
    j["generated_tokens_per_s_incl_prefill"] = gen_s > 0 ? j.value("generated_tokens", 0) / gen_s : 0.0;
    // Generative items per second of generation (prefill + decode; the fidelity pass apart).
    const double items_per_s = gen_s > 0 ? static_cast<double>(entries.size()) / gen_s : 0.0;
    j["items_per_s"] = items_per_s;
    add_peak_gpu(j, *dev);
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
    summary[run] = {{"items_per_s", items_per_s},
                    {"slot_occupancy", j.value("slot_occupancy", 0.0)},
                    {"decode_tokens_per_s", j.value("decode_tokens_per_s", 0.0)},
                    {"prefill_seconds", j.value("prefill_seconds", 0.0)},
                    {"generate_seconds", gen_s}};
    if (j.contains("steady_slot_occupancy")) summary[run]["steady_slot_occupancy"] = j["steady_slot_occupancy"];
  }
  auto ratio = [&](const char* x, const char* y) {
    if (summary.contains(x) && summary.contains(y) && summary[y]["items_per_s"].get<double>() > 0)
      summary[std::string(x) + "_over_" + y] = summary[x]["items_per_s"].get<double>() / summary[y]["items_per_s"].get<double>();
  };
  ratio("continuous", "static");
  ratio("continuous", "continuous-unshared");
  if (runs.size() > 1) std::printf("%s\n", summary.dump().c_str());
  return 0;
}
