// bench_eval: wall time of the evaluate stage: the generate engine (run_generation: tokenize,
// batched greedy generation sorted by length, the fidelity logits pass) and scoring on a synthetic eval set of
// MMLU-like items (0-shot, ~200-token chat prompts) and GSM8K-like items (4-shot-sized,
// ~700-token chat prompts), every item generating up to --max-new tokens. A random-weight model
// never emits a stop token, so every item runs the full budget: the worst case.
//
//   qbuild random-model --shape qwen3-8b --device cuda --out /tmp/q8b
//   bench_eval --model /tmp/q8b --device cuda --items 512 --max-new 256 --batch 128
//
// Prints one JSON line: wall seconds per phase, prompt / generated tokens, achieved prefill and
// decode rates, peak GPU memory.
#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

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
  int items = 512, max_new = 256, batch = 128;
  bool logits = true;
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

std::vector<qb::eval::EvalEntry> synthetic_set(int per_dataset) {
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
                 filler(80 + (i * 37) % 120, i) + "?\n\nA) one\nB) two\nC) three\nD) four";
      e.gold = "B";
      e.choices = {"one", "two", "three", "four"};
    } else {
      e.prompt = filler(420 + (i * 53) % 200, i) + "\nPlease reason step by step, and put your final answer within \\boxed{}.";
      e.gold = "42";
    }
    e.source = "synthetic:" + std::to_string(i);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (auto rc = parse(argc, argv, a)) return *rc;
  auto dev = qb::model::parse_device(a.device);  // both checked by parse()
  auto dt = qb::model::parse_dtype_option(a.dtype);
  stdfs::remove_all(a.work);
  stdfs::create_directories(a.work + "/eval_set");
  auto entries = synthetic_set(a.items);
  if (auto s = qb::fs::write_file_atomic(a.work + "/eval_set/eval_set.jsonl", qb::eval::eval_set_to_jsonl(entries)); !s.is_ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  qb::generate::GenerateRunOptions o;
  o.model_dir = a.model;
  o.eval_set_dir = a.work + "/eval_set";
  o.device = *dev;
  o.dtype = *dt;
  o.spec.max_new_tokens = {{"mmlu", a.max_new}, {"gsm8k", a.max_new}};
  o.spec.batch_size = a.batch;
  o.want_logits = a.logits;
  auto t0 = std::chrono::steady_clock::now();
  auto r = qb::generate::run_generation(o);
  if (!r.is_ok()) {
    std::fprintf(stderr, "bench_eval: %s\n", r.status().message().c_str());
    return 1;
  }
  auto t1 = std::chrono::steady_clock::now();
  auto scored = qb::eval::score_outputs(r->entries, r->items, {});
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!scored.is_ok()) {
    std::fprintf(stderr, "bench_eval: %s\n", scored.status().message().c_str());
    return 1;
  }
  nlohmann::json j = r->stats;
  j["score_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  j["wall_seconds"] = wall;
  j["items_per_dataset"] = a.items;
  j["max_new_tokens"] = a.max_new;
  j["batch_size"] = a.batch;
  j["device"] = a.device;
  j["overall_acc"] = scored->report["overall"]["acc"];
  const double gen_s = j.value("generate_seconds", 0.0);
  j["generated_tokens_per_s_incl_prefill"] = gen_s > 0 ? j.value("generated_tokens", 0) / gen_s : 0.0;
#ifdef QB_BENCH_CUDA_STATS
  if (dev->is_cuda()) {
    auto s = c10::cuda::CUDACachingAllocator::getDeviceStats(0);
    j["peak_gpu_gib"] = static_cast<double>(s.allocated_bytes[static_cast<int>(c10::CachingAllocator::StatType::AGGREGATE)].peak) /
                        (1024.0 * 1024.0 * 1024.0);
  }
#endif
  std::printf("%s\n", j.dump().c_str());
  return 0;
}
