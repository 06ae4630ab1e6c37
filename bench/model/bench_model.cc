// bench_model: throughput of qb::model's batched greedy generation.
//
//   bench_model --shape qwen3-8b --device cuda --batch 128 --ctx 512 --new 128 [--cuda-graph]
//   bench_model --model tests/golden/models/qwen3-tiny --device cuda --compare-cpu
//   bench_model --shape qwen3-8b --device cuda --w8a8 ...   (random int8 W8A8 projections)
//   bench_model --shape qwen3-8b --device cuda --w8a16 | --w4a16 ...  (random weight-only int8
//                                                           per-channel / int4 group-128 layers)
//   bench_model --shape qwen3-8b --device cuda --r4 ...     (SpinQuant's online R4: a fast
//                                                           Hadamard before every down_proj)
//   bench_model ... --unfused   (one-token steps op by op instead of the fused CUDA kernels)
//   bench_model ... --profile   (GPU time per decode step by kernel, from the Kineto profiler:
//                                a full generation minus a prefill-only one, per step)
//
// Prefill is timed on its own (generate with one new token: the prompt forward plus the first
// argmax); decode as the steps after the prefill of a full generation with no stop tokens.
// Each measurement runs once to warm up, then --repeat times; the best run is reported. Prompts
// are random ids, all of length --ctx. Peak memory: the CUDA caching allocator's peak on a GPU,
// the process's max RSS on the CPU.
//
// --compare-cpu (needs --model): the same prompts on the CPU in float32 and on --device in
// --dtype: last-position logits (max |diff|) and 16 greedy tokens, eager and (with
// --cuda-graph) graph-replayed decoding — the check that the GPU paths compute the same thing.
// --w8a8 and --r4 change the random weights of a --shape model, so they exclude --model.
// `bench_model --help` lists every option with its default; a bad value is a usage error (exit 2).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/profiler_kineto.h>

#include "bench/common/bench_cli.h"
#include "bench/common/bench_device.h"
#include "steps/model/generate.h"
#include "steps/model/int8_linear.h"
#include "steps/model/model.h"
#include "steps/model/online_transforms.h"
#include "steps/model/random_model.h"
#include "steps/model/weight_only_linear.h"
#include "steps/model/device.h"

namespace {

using qb::model::GenerateOptions;
using qb::model::GenerateStats;
using qb::model::Model;

struct Args {
  std::string shape = "tiny", model, device = "cpu", dtype = "bf16", attention = "sdpa";
  int64_t batch = 1, ctx = 512, new_tokens = 128, repeat = 2, check_every = 0;
  bool cuda_graph = false, static_shapes = false, compare_cpu = false, w8a8 = false, r4 = false;
  bool profile = false, unfused = false, w8a16 = false, w4a16 = false;
};

Args parse(int argc, char** argv) {
  Args a;
  qb::bench::App app{"Prefill and decode throughput, and peak memory, of qb::model's batched greedy generation\n"
               "on a random-weight model of a named shape or on a checkpoint. The last output line is JSON.",
               "bench_model"};
  auto* shape = app.add_option("--shape", a.shape, "random-weight model of this shape")
                    ->check(qb::bench::checked_by(qb::model::shape_config, "qwen3-8b|tiny|demo"));
  auto* model = app.add_option("--model", a.model, "a checkpoint folder instead of a --shape")
                    ->check(CLI::ExistingDirectory)
                    ->excludes(shape);
  qb::bench::add_device_option(app, a.device);
  app.add_option("--dtype", a.dtype, "weights and activations (auto: the checkpoint's)")
      ->check(qb::bench::dtype_validator());
  app.add_option("--batch", a.batch, "prompts per generation")->check(qb::bench::at_least(1));
  app.add_option("--ctx", a.ctx, "prompt length in tokens (random ids)")->check(qb::bench::at_least(1));
  app.add_option("--new", a.new_tokens, "tokens generated per prompt (decode is timed when > 1)")
      ->check(qb::bench::at_least(0));
  app.add_option("--repeat", a.repeat, "timed runs after one warm-up; the best is reported")
      ->check(qb::bench::at_least(1));
  app.add_option("--check-every", a.check_every,
                 "decode steps between host syncs for the all-rows-stopped test (0: automatic)")
      ->check(qb::bench::at_least(0));
  app.add_flag("--static", a.static_shapes, "static cache shapes, without CUDA graphs");
  app.add_flag("--cuda-graph", a.cuda_graph, "replay the decode steps as CUDA graphs");
  app.add_option("--attention", a.attention, "attention implementation")
      ->check(CLI::IsMember({"sdpa", "reference"}));
  app.add_flag("--compare-cpu", a.compare_cpu,
               "CPU fp32 vs --device in --dtype: last logits and 16 greedy tokens, eager and graph")
      ->needs(model);
  app.add_flag("--w8a8", a.w8a8, "random int8 W8A8 projections (per-channel weights, per-token inputs)")
      ->excludes(model);
  auto* w8 = app.add_flag("--w8a16", a.w8a16, "random int8 weight-only projections (per-channel)")
                ->excludes(model);
  app.add_flag("--w4a16", a.w4a16, "random int4 weight-only projections (symmetric, group 128)")
      ->excludes(model)
      ->excludes(w8);
  app.add_flag("--r4", a.r4, "SpinQuant's online R4: a fast Hadamard before every down_proj")->excludes(model);
  app.add_flag("--profile", a.profile, "GPU time per decode step by kernel (Kineto)");
  app.add_flag("--unfused", a.unfused, "one-token steps op by op instead of the fused CUDA kernels");
  if (auto rc = qb::bench::parse(app, argc, argv)) std::exit(*rc);
  return a;
}

template <typename T>
T check(qb::Result<T> r, const char* what) {
  if (!r.is_ok()) {
    std::fprintf(stderr, "bench_model: %s: %s\n", what, r.status().to_string().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

Model make_model(const Args& a, at::Device device, std::optional<at::ScalarType> dtype) {
  qb::model::LoadOptions lo;
  lo.device = device;
  lo.dtype = dtype;
  lo.attention = a.attention == "reference" ? qb::model::AttentionImpl::kReference
                                            : qb::model::AttentionImpl::kSdpa;
  if (!a.model.empty()) return check(Model::load(a.model, lo), "loading the model");
  auto config = check(qb::model::shape_config(a.shape), "shape");
  const at::ScalarType t = dtype.value_or(config.dtype);
  lo.dtype = t;
  c10::InferenceMode inference;
  qb::model::ModelWeights w = qb::model::random_weights(config, t, device, 1234);
  if (a.w8a8) {
    // Per-channel symmetric int8 weights (absmax / 127), dynamic per-token int8 inputs.
    for (auto& l : w.layers)
      for (auto* p : {&l.q_proj, &l.k_proj, &l.v_proj, &l.o_proj, &l.gate_proj, &l.up_proj,
                      &l.down_proj}) {
        const at::Tensor wf = (*p)->effective_weight(at::kFloat);                // [out, in]
        const at::Tensor scale = wf.abs().amax(1, true).clamp_min(1e-8) / 127.0;  // [out, 1]
        const at::Tensor q = at::round(wf / scale).clamp(-128, 127).to(at::kChar);
        *p = check(qb::model::Int8Linear::create(q, scale, std::nullopt, std::nullopt, t),
                   "int8 layer");
      }
  }
  if (a.w8a16 || a.w4a16) {
    // RTN as compressed-tensors quantizes: int8 absmax / 127 per channel; int4 absmax / 7.5 per
    // group of 128, codes in [-8, 7].
    for (auto& l : w.layers)
      for (auto* p : {&l.q_proj, &l.k_proj, &l.v_proj, &l.o_proj, &l.gate_proj, &l.up_proj,
                      &l.down_proj}) {
        const at::Tensor wf = (*p)->effective_weight(at::kFloat);                // [out, in]
        const int64_t out = wf.size(0), in = wf.size(1);
        if (a.w8a16) {
          const at::Tensor scale = wf.abs().amax(1, true).clamp_min(1e-8) / 127.0;  // [out, 1]
          const at::Tensor q = at::round(wf / scale).clamp(-128, 127).to(at::kChar);
          *p = check(qb::model::WeightOnlyLinear::create(8, q, scale, std::nullopt, std::nullopt, t),
                     "w8a16 layer");
        } else {
          const at::Tensor g = wf.reshape({out, in / 128, 128});
          const at::Tensor scale = g.abs().amax(2, true).clamp_min(1e-8) / 7.5;   // [out, G, 1]
          const at::Tensor q = at::round(g / scale).clamp(-8, 7).to(at::kChar).reshape({out, in});
          *p = check(qb::model::WeightOnlyLinear::create(4, q, scale.reshape({out, in / 128}),
                                                         std::nullopt, std::nullopt, t),
                     "w4a16 layer");
        }
      }
  }
  if (a.r4) {
    // What a SpinQuant R1+R2+R4 checkpoint loads as: down_proj behind the online Hadamard.
    qb::hadamard::RotationOptions ro;
    ro.type = qb::hadamard::RotationType::kRandomHadamard;  // 12288 = 12·2^10 needs a k·2^m
    ro.size = config.intermediate_size;
    auto rot = check(qb::hadamard::Rotation::create(ro), "R4 rotation");
    auto t = std::make_shared<qb::model::RotationTransform>(rot, /*inverse=*/false, "R4");
    for (auto& l : w.layers) l.down_proj = check(qb::model::make_transformed(t, l.down_proj), "R4");
  }
  return check(Model::create(config, std::move(w), lo), "building the model");
}

std::vector<std::vector<int64_t>> random_prompts(int64_t batch, int64_t ctx, int64_t vocab) {
  const at::Tensor ids = at::randint(0, vocab, {batch, ctx}, at::kLong);
  std::vector<std::vector<int64_t>> out(batch);
  for (int64_t b = 0; b < batch; ++b)
    out[b] = std::vector<int64_t>(ids[b].data_ptr<int64_t>(), ids[b].data_ptr<int64_t>() + ctx);
  return out;
}

// The CUDA caching allocator's peak on a GPU, the process's max RSS on the CPU.
double peak_memory_gib(at::Device device) {
  return device.is_cuda() ? qb::bench::peak_gpu_gib(device) : qb::bench::rss_gib();
}

// Best of `repeat` timed runs after one warm-up.
GenerateStats best_run(const Model& m, const std::vector<std::vector<int64_t>>& prompts,
                       const GenerateOptions& opts, int64_t repeat, bool by_decode) {
  GenerateStats best;
  for (int64_t r = 0; r <= repeat; ++r) {
    GenerateStats s;
    check(qb::model::generate_greedy(m, prompts, opts, &s), "generate");
    if (r == 0) continue;
    const double t = by_decode ? s.decode_seconds : s.prefill_seconds;
    const double b = by_decode ? best.decode_seconds : best.prefill_seconds;
    if (r == 1 || t < b) best = s;
  }
  return best;
}

// GPU time by kernel name (µs, launches) of what `fn` runs, from the Kineto profiler.
std::map<std::string, std::pair<double, int64_t>> kernel_times(const std::function<void()>& fn) {
  namespace prof = torch::autograd::profiler;
  using torch::profiler::impl::ActivityType;
  const torch::profiler::impl::ProfilerConfig cfg(torch::profiler::impl::ProfilerState::KINETO);
  const std::set<ActivityType> acts{ActivityType::CPU, ActivityType::CUDA};
  prof::prepareProfiler(cfg, acts);
  prof::enableProfiler(cfg, acts);
  fn();
  const auto result = prof::disableProfiler();
  std::map<std::string, std::pair<double, int64_t>> by;
  for (const auto& e : result->events()) {
    if (e.deviceType() != c10::DeviceType::CUDA) continue;
    auto& slot = by[e.name()];
    slot.first += static_cast<double>(e.durationNs()) / 1e3;
    slot.second += 1;
  }
  return by;
}

// Per decode step: (generation of `steps` new tokens) - (prefill-only generation), / steps - 1.
void profile_decode(const Model& m, const std::vector<std::vector<int64_t>>& prompts,
                    GenerateOptions opts, int64_t steps, double wall_ms) {
  opts.max_new_tokens = 1;
  const auto pre = kernel_times([&] { check(qb::model::generate_greedy(m, prompts, opts), "generate"); });
  opts.max_new_tokens = steps;
  const auto all = kernel_times([&] { check(qb::model::generate_greedy(m, prompts, opts), "generate"); });
  const double n = static_cast<double>(steps - 1);
  std::vector<std::tuple<double, double, std::string>> rows;  // µs/step, launches/step, name
  double total = 0;
  for (const auto& [name, tc] : all) {
    auto it = pre.find(name);
    const double us = (tc.first - (it == pre.end() ? 0 : it->second.first)) / n;
    const double launches = static_cast<double>(tc.second - (it == pre.end() ? 0 : it->second.second)) / n;
    if (launches <= 0) continue;
    rows.emplace_back(us, launches, name);
    total += us;
  }
  std::sort(rows.rbegin(), rows.rend());
  double launches_total = 0;
  for (const auto& r : rows) launches_total += std::get<1>(r);
  std::printf("profile: GPU kernel time %.3f ms per decode step (%.0f kernels), wall %.3f ms\n",
              total / 1e3, launches_total, wall_ms);
  for (size_t i = 0; i < rows.size() && i < 30; ++i) {
    const auto& [us, k, name] = rows[i];
    std::printf("  %8.1f us %5.1f%% %6.1f x  %.110s\n", us, 100 * us / total, k, name.c_str());
  }
}

int compare_cpu(const Args& a, at::Device device, std::optional<at::ScalarType> dtype) {
  const Model cpu = make_model(a, at::kCPU, at::kFloat);
  const Model dev = make_model(a, device, dtype);
  at::manual_seed(7);
  const auto prompts = random_prompts(a.batch, a.ctx, cpu.config().vocab_size);
  const at::Tensor lc = check(qb::model::last_logits(cpu, prompts), "cpu logits");
  const at::Tensor ld = check(qb::model::last_logits(dev, prompts), "device logits");
  const double diff = (lc - ld).abs().max().item<double>();
  const double scale = lc.abs().max().item<double>();
  std::printf("last logits: max |cpu - %s| = %.3g (max |logit| %.3g)\n", device.str().c_str(),
              diff, scale);
  GenerateOptions g;
  g.max_new_tokens = 16;
  g.stop_at_eos = false;
  const auto tc = check(qb::model::generate_greedy(cpu, prompts, g), "cpu generate");
  const auto te = check(qb::model::generate_greedy(dev, prompts, g), "device generate");
  int same_eager = 0, same_graph = 0;
  for (size_t i = 0; i < prompts.size(); ++i) same_eager += tc[i].tokens == te[i].tokens;
  std::printf("greedy 16 tokens, eager on %s: %d / %zu rows equal to the cpu\n",
              device.str().c_str(), same_eager, prompts.size());
  if (a.cuda_graph) {
    g.cuda_graph = true;
    const auto tg = check(qb::model::generate_greedy(dev, prompts, g), "graph generate");
    for (size_t i = 0; i < prompts.size(); ++i) same_graph += te[i].tokens == tg[i].tokens;
    std::printf("greedy 16 tokens, cuda graph: %d / %zu rows equal to eager\n", same_graph,
                prompts.size());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  const at::Device device = check(qb::model::parse_device(a.device), "device");
  const auto dtype = check(qb::model::parse_dtype_option(a.dtype), "dtype");
  if (a.compare_cpu) return compare_cpu(a, device, dtype);

  const auto t0 = std::chrono::steady_clock::now();
  Model m = make_model(a, device, dtype);
  if (a.unfused) m.set_fused_decode(false);
  const double build_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  at::manual_seed(7);
  const auto prompts = random_prompts(a.batch, a.ctx, m.config().vocab_size);

  GenerateOptions opts;
  opts.stop_at_eos = false;
  opts.stop_check_interval = a.check_every;
  opts.static_shapes = a.static_shapes;
  opts.cuda_graph = a.cuda_graph;
  opts.max_new_tokens = 1;
  const GenerateStats pre = best_run(m, prompts, opts, a.repeat, false);
  opts.max_new_tokens = a.new_tokens;
  const GenerateStats dec =
      a.new_tokens > 1 ? best_run(m, prompts, opts, a.repeat, true) : GenerateStats{};

  const double prefill_tps = a.batch * a.ctx / pre.prefill_seconds;
  const double decode_tps = dec.decode_steps > 0 ? dec.batch * dec.decode_steps / dec.decode_seconds : 0;
  const double step_ms = dec.decode_steps > 0 ? 1e3 * dec.decode_seconds / dec.decode_steps : 0;
  const double peak = peak_memory_gib(device);
  std::printf("model %s%s on %s as %s, attention %s%s%s%s (built in %.1f s)\n",
              a.model.empty() ? a.shape.c_str() : a.model.c_str(), a.w8a8 ? " (w8a8)" : (a.w8a16 ? " (w8a16)" : (a.w4a16 ? " (w4a16)" : "")),
              device.str().c_str(), qb::model::dtype_label(m.dtype()), a.attention.c_str(),
              a.static_shapes ? ", static shapes" : "", a.cuda_graph ? ", cuda graph" : "",
              m.fused_decode() ? ", fused decode" : "", build_s);
  std::printf("prefill: %lld x %lld tokens in %.4f s = %.0f tok/s\n", (long long)a.batch,
              (long long)a.ctx, pre.prefill_seconds, prefill_tps);
  std::printf("decode:  %lld steps x %lld rows in %.4f s = %.0f tok/s (%.2f ms/step)\n",
              (long long)dec.decode_steps, (long long)a.batch, dec.decode_seconds, decode_tps,
              step_ms);
  std::printf("peak memory: %.2f GiB\n", peak);
  const char* quant = a.w8a8 ? "w8a8" : (a.w8a16 ? "w8a16" : (a.w4a16 ? "w4a16" : "none"));
  std::printf("{\"shape\": \"%s\", \"quant\": \"%s\", \"device\": \"%s\", \"dtype\": \"%s\", \"batch\": %lld, "
              "\"ctx\": %lld, \"new\": %lld, \"cuda_graph\": %s, \"prefill_tok_s\": %.1f, "
              "\"decode_tok_s\": %.1f, \"decode_ms_per_step\": %.3f, \"peak_gib\": %.3f, \"fused\": %s}\n",
              a.model.empty() ? a.shape.c_str() : a.model.c_str(), quant, device.str().c_str(),
              qb::model::dtype_label(m.dtype()), (long long)a.batch, (long long)a.ctx,
              (long long)a.new_tokens, a.cuda_graph ? "true" : "false", prefill_tps, decode_tps,
              step_ms, peak, m.fused_decode() ? "true" : "false");
  if (a.profile && a.new_tokens > 1) profile_decode(m, prompts, opts, a.new_tokens, step_ms);
  return 0;
}
