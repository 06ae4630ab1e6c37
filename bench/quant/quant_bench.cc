// Quantization benchmarks: wall time and peak memory per phase.
//
//   bench_quant layer [--device cpu|cuda] [--dtype bf16|fp32] [--scale S] [--tokens T]
//                     [--block 128] [--repeat R]
//       One Qwen3-8B-shaped decoder layer's seven Linears (q 4096x4096, k/v 1024x4096,
//       o 4096x4096, gate/up 12288x4096, down 4096x12288), every dimension divided by S
//       (default 1; use 8 on a CPU): per Linear, RTN int8 per-channel, Hessian accumulation from
//       T random calibration tokens (default 2048; 512 x 2048 = 1M tokens is the reference
//       setting), GPTQ int8 per-channel with actorder; per-phase totals for the layer.
//   bench_quant model [--device ...] [--dtype ...] [--scale S] [--layers L] [--samples N]
//                     [--seq T] [--method rtn,static,gptq,sq-gptq,awq] [--model DIR]
//                     [--calibration-path eager|fast]
//       A random Qwen3-shaped checkpoint (hidden 4096/S, intermediate 12288/S, 32/S heads of
//       128, vocab 151936/S, L layers) written to a temp dir (or an existing checkpoint: --model,
//       e.g. `qbuild random-model --shape qwen3-8b --device cuda`), then the quantize step for
//       each method: rtn = RTN W8A8 dynamic (no calibration), static = RTN W8A8 with static
//       per-tensor activations (static_minmax), gptq = GPTQ W8A8 static (actorder static, the
//       seed's gptq-W8A8-static); sq-gptq = the smooth step (SmoothQuant, α 0.5, llm-compressor's
//       mappings) then that GPTQ on the smoothed model (pipline/qwen3-8b's
//       smoothquant-gptq-W8A8-static); awq = the smooth step (AWQ, duo scaling, 20-point grid)
//       then RTN W4A16_ASYM (awq-W4A16); N x T random calibration tokens; prints the wall time
//       (both steps for sq-gptq / awq, the smooth step's equivalence check included), the peak
//       GPU allocation and the steps' own phase timings.
//       bench/quant/llmc_smooth_bench.py runs llm-compressor's oneshot on the same checkpoint,
//       recipes and tokens (scripts/gpu/smooth_awq.sh runs both in one call).
//
// Peak memory: CPU max RSS (getrusage) for the process; on CUDA builds of libtorch also the
// caching allocator's peak bytes per phase (reset before each phase).
//
// Measured (bf16, full Qwen3-8B shapes, block 128, actorder):
//   H100 80GB (libtorch 2.11+cu130, standalone qmath build): per layer RTN 0.14 s (first call
//   includes CUDA start-up; ~2 ms per Linear after), Hessians 0.11 s for 2k tokens / 1.47 s for
//   128k tokens (7 separate; the step shares 4), GPTQ 3.9-5.0 s (q 0.63, k/v 0.35, o 0.43,
//   gate/up 0.40-0.53, down 1.2-1.6 s); peak GPU allocation 3.7 GiB (down_proj). The GPTQ column
//   loop is kernel-launch bound (about 10 launches per column). (Session 1 numbers, before the
//   column loop replayed CUDA graphs; whole-model numbers of `model` mode: bench/RESULTS.md.)
//   CPU (this 2-core shared box, OMP_NUM_THREADS=1, dims /8): per layer RTN 0.05 s, Hessians
//   (1k tokens) 0.22 s, GPTQ 1.26 s.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/common/bench_cli.h"
#include "bench/common/bench_device.h"
#include "steps/qmath/gptq.h"
#include "steps/qmath/qparams.h"
#ifndef QB_BENCH_LAYER_ONLY  // a build with qmath alone (e.g. a GPU check) has only `layer`
#include "steps/model_io/checkpoint.h"
#include "spec/smooth_spec.h"
#include "steps/quant/quantize.h"
#include "steps/quant/smooth.h"
#include "util/fs.h"
#endif

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Args {
  std::string mode = "layer";
  std::string device = "cpu";
  std::string dtype = "bf16";
  std::int64_t scale = 1, tokens = 2048, block = 128, repeat = 1;
  std::int64_t layers = 2, samples = 16, seq = 512;
  std::string method = "rtn,gptq";
  std::string model;
  std::string calibration_path = "eager";  // eager (the step's) | fast (SDPA, fused GEMMs)
};

Args parse(int argc, char** argv) {
  Args a;
  qb::bench::App app{"Quantization benchmarks: wall time and peak memory per phase. The options before the mode's\n"
               "name (--device, --dtype, --scale) may also follow it; `bench_quant MODE --help` lists the mode's.",
               "bench_quant"};
  app.require_subcommand(1);
  qb::bench::add_device_option(app, a.device);
  app.add_option("--dtype", a.dtype, "weights and compute")->check(CLI::IsMember({"bf16", "fp32"}));
  app.add_option("--scale", a.scale, "divide every Qwen3-8B dimension by S (8 on a CPU)")
      ->check(qb::bench::at_least(1));
  auto* layer = app.add_subcommand("layer", "one Qwen3-8B-shaped layer's seven Linears: RTN, Hessians, GPTQ");
  layer->add_option("--tokens", a.tokens, "random calibration tokens per Hessian")->check(qb::bench::at_least(1));
  layer->add_option("--block", a.block, "GPTQ block size (columns)")->check(qb::bench::at_least(1));
  layer->add_option("--repeat", a.repeat, "passes over the layer (the last is printed)")->check(qb::bench::at_least(1));
  auto* model = app.add_subcommand("model", "the quantize step per method on a random Qwen3-shaped checkpoint");
  auto* dir = model->add_option("--model", a.model, "an existing checkpoint instead of the random one")
                  ->check(CLI::ExistingDirectory);
  model->add_option("--layers", a.layers, "decoder layers of the random checkpoint")
      ->check(qb::bench::at_least(1))
      ->excludes(dir);
  model->add_option("--samples", a.samples, "random calibration samples")->check(qb::bench::at_least(1));
  model->add_option("--seq", a.seq, "tokens per calibration sample")->check(qb::bench::at_least(1));
  model->add_option("--method", a.method, "comma-separated, run in this order")
      ->check(qb::bench::list_of({"rtn", "static", "gptq", "sq-gptq", "awq"}));
  model->add_option("--calibration-path", a.calibration_path,
                    "eager (transformers' eager layer, what the quantize step runs) | fast (SDPA, fused GEMMs)")
      ->check(CLI::IsMember({"eager", "fast"}));
  if (auto rc = qb::bench::parse(app, argc, argv)) std::exit(*rc);
  a.mode = layer->parsed() ? "layer" : "model";
  return a;
}

// Timing and memory: bench/common/bench_device.h.
using qb::bench::reset_peak;
using qb::bench::rss_gib;
using qb::bench::timed;

int bench_layer(const Args& a) {
  const at::Device dev(a.device);
  const auto dtype = a.dtype == "fp32" ? at::kFloat : at::kBFloat16;
  const std::int64_t C = 4096 / a.scale, F = 12288 / a.scale, KV = 1024 / a.scale;
  struct Shape { const char* name; std::int64_t out, in; };
  const std::vector<Shape> shapes = {{"q_proj", C, C},  {"k_proj", KV, C},   {"v_proj", KV, C},
                                     {"o_proj", C, C},  {"gate_proj", F, C}, {"up_proj", F, C},
                                     {"down_proj", C, F}};
  qb::qmath::QuantArgs args;
  args.strategy = qb::qmath::Strategy::kChannel;
  args.actorder = qb::qmath::ActOrder::kWeight;
  qb::qmath::GptqOptions opts;
  opts.block_size = a.block;
  std::printf("layer bench: device %s, weights %s, dims /%lld, %lld calibration tokens, "
              "block %lld\n",
              a.device.c_str(), a.dtype.c_str(), static_cast<long long>(a.scale),
              static_cast<long long>(a.tokens), static_cast<long long>(a.block));
  std::printf("%-10s %12s %9s %11s %11s %9s %10s\n", "linear", "shape", "rtn_s", "hessian_s",
              "gptq_s", "gpu_GiB", "rel_err");
  double tot_rtn = 0, tot_h = 0, tot_g = 0, peak = 0;
  for (int rep = 0; rep < a.repeat; ++rep) {
    tot_rtn = tot_h = tot_g = 0;
    for (const auto& s : shapes) {
      auto gen = at::detail::createCPUGenerator(42);
      auto w = (at::randn({s.out, s.in}, gen) * 0.02).to(dev, dtype);
      // Calibration activations with per-feature scales (outlier channels) like real inputs.
      auto feat = at::exp(at::randn({1, s.in}, gen)).to(dev);
      reset_peak(dev);
      qb::qmath::QuantizedWeight r;
      const double t_rtn = timed(dev, [&] { r = *qb::qmath::rtn_quantize_weight(w, args); });
      qb::qmath::HessianAccumulator acc(s.in);
      const std::int64_t chunk = 2048;
      const double t_h = timed(dev, [&] {
        for (std::int64_t t = 0; t < a.tokens; t += chunk) {
          const auto n = std::min(chunk, a.tokens - t);
          auto x = (at::randn({1, n, s.in}, at::TensorOptions().device(dev)) * feat).to(dtype);
          (void)acc.add(x);
        }
      });
      auto H = *acc.finalize();
      qb::qmath::GptqResult g;
      const double t_g = timed(dev, [&] { g = *qb::qmath::gptq_quantize(w, H, args, opts); });
      const double err =
          ((w.to(at::kFloat) - g.dequantized.to(at::kFloat)).norm() / w.to(at::kFloat).norm())
              .item<double>();
      const double pk = qb::bench::peak_gpu_gib(dev);
      peak = std::max(peak, pk);
      tot_rtn += t_rtn;
      tot_h += t_h;
      tot_g += t_g;
      if (rep == a.repeat - 1) {
        char shape[32];
        std::snprintf(shape, sizeof shape, "%lldx%lld", static_cast<long long>(s.out),
                      static_cast<long long>(s.in));
        std::printf("%-10s %12s %9.4f %11.4f %11.4f %9.2f %10.2e\n", s.name, shape, t_rtn, t_h,
                    t_g, pk, err);
      }
    }
  }
  std::printf("layer total: rtn %.3f s, hessian %.3f s, gptq %.3f s; peak GPU alloc %.2f GiB; "
              "max RSS %.2f GiB\n",
              tot_rtn, tot_h, tot_g, peak, rss_gib());
  std::printf("(Hessians here are one per Linear; the quantize step shares q/k/v and gate/up "
              "inputs, 4 per layer)\n");
  return 0;
}

#ifndef QB_BENCH_LAYER_ONLY
// A random Qwen3-shaped checkpoint in `dir`.
void write_model(const Args& a, const std::filesystem::path& dir, at::ScalarType dtype) {
  const std::int64_t C = 4096 / a.scale, F = 12288 / a.scale, H = std::max<std::int64_t>(1, 32 / a.scale),
                     KVH = std::max<std::int64_t>(1, 8 / a.scale), D = 128,
                     V = 151936 / a.scale;
  auto gen = at::detail::createCPUGenerator(7);
  std::vector<std::pair<std::string, at::Tensor>> t;
  auto rnd = [&](std::vector<std::int64_t> shape, double s) {
    return (at::randn(shape, gen) * s).to(dtype);
  };
  t.emplace_back("model.embed_tokens.weight", rnd({V, C}, 1.0));
  for (std::int64_t l = 0; l < a.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    t.emplace_back(p + "input_layernorm.weight", at::ones({C}).to(dtype));
    t.emplace_back(p + "self_attn.q_proj.weight", rnd({H * D, C}, 0.02));
    t.emplace_back(p + "self_attn.k_proj.weight", rnd({KVH * D, C}, 0.02));
    t.emplace_back(p + "self_attn.v_proj.weight", rnd({KVH * D, C}, 0.02));
    t.emplace_back(p + "self_attn.q_norm.weight", at::ones({D}).to(dtype));
    t.emplace_back(p + "self_attn.k_norm.weight", at::ones({D}).to(dtype));
    t.emplace_back(p + "self_attn.o_proj.weight", rnd({C, H * D}, 0.02));
    t.emplace_back(p + "post_attention_layernorm.weight", at::ones({C}).to(dtype));
    t.emplace_back(p + "mlp.gate_proj.weight", rnd({F, C}, 0.02));
    t.emplace_back(p + "mlp.up_proj.weight", rnd({F, C}, 0.02));
    t.emplace_back(p + "mlp.down_proj.weight", rnd({C, F}, 0.02));
  }
  t.emplace_back("model.norm.weight", at::ones({C}).to(dtype));
  t.emplace_back("lm_head.weight", rnd({V, C}, 0.02));
  json config = {{"architectures", {"Qwen3ForCausalLM"}}, {"model_type", "qwen3"},
                 {"hidden_size", C}, {"intermediate_size", F}, {"num_hidden_layers", a.layers},
                 {"num_attention_heads", H}, {"num_key_value_heads", KVH}, {"head_dim", D},
                 {"vocab_size", V}, {"max_position_embeddings", 40960}, {"rms_norm_eps", 1e-6},
                 {"rope_theta", 1000000.0}, {"tie_word_embeddings", false},
                 {"attention_bias", false}, {"hidden_act", "silu"},
                 {"torch_dtype", dtype == at::kFloat ? "float32" : "bfloat16"},
                 {"bos_token_id", 151643}, {"eos_token_id", 151645}};
  auto s = qb::model_io::save_checkpoint(dir, t, config, json::object());
  if (!s.is_ok()) {
    std::fprintf(stderr, "writing the model: %s\n", s.to_string().c_str());
    std::exit(1);
  }
}

int bench_model(const Args& a) {
  const at::Device dev(a.device);
  const auto dtype = a.dtype == "fp32" ? at::kFloat : at::kBFloat16;
  auto tmp = qb::fs::TempDir::create(std::filesystem::temp_directory_path(), "bench_quant_");
  if (!tmp.is_ok()) return 1;
  auto dir = tmp->path();
  auto t0 = Clock::now();
  std::filesystem::path model_dir = a.model;
  if (model_dir.empty()) {
    model_dir = dir / "model";
    write_model(a, model_dir, dtype);
    std::printf("model bench: Qwen3-shaped, dims /%lld, %lld layers, %s, written in %.1f s\n",
                static_cast<long long>(a.scale), static_cast<long long>(a.layers),
                a.dtype.c_str(), std::chrono::duration<double>(Clock::now() - t0).count());
  } else {
    std::printf("model bench: %s\n", model_dir.c_str());
  }
  std::vector<std::string> methods;
  for (std::size_t i = 0; i <= a.method.size();) {
    auto j = a.method.find(',', i);
    if (j == std::string::npos) j = a.method.size();
    methods.push_back(a.method.substr(i, j - i));
    i = j + 1;
  }
  for (const auto& m : methods) {
    if (m != "rtn" && m != "static" && m != "gptq" && m != "sq-gptq" && m != "awq") {
      std::fprintf(stderr, "unknown method '%s' (rtn, static, gptq, sq-gptq, awq)\n", m.c_str());
      return 2;
    }
    // The seed's recipes: RTN W8A8 dynamic (the preset), and static per-tensor activations
    // (static_minmax) with per-channel weights, by RTN or GPTQ (actorder static).
    // sq-gptq: SmoothQuant before gptq's recipe; awq: AWQ before RTN W4A16_ASYM.
    const bool gptq = m == "gptq" || m == "sq-gptq";
    qb::spec::QuantRecipe recipe;
    recipe.modifier = gptq ? qb::spec::Modifier::kGptq : qb::spec::Modifier::kRtn;
    recipe.ignore = {"lm_head"};
    recipe.groups = {qb::spec::preset_group(*qb::spec::find_scheme(m == "awq" ? "W4A16_ASYM" : "W8A8"), {"Linear"})};
    if (m != "rtn" && m != "awq") {
      qb::spec::QuantArgs acts;
      acts.observer = qb::spec::ObserverKind::kStaticMinMax;
      recipe.groups[0].input_activations = acts;
    }
    if (m != "rtn") recipe.calibration = qb::spec::CalibrationSpec{"txt", a.samples, a.seq, 0};
    if (gptq) recipe.groups[0].weights.actorder = qb::spec::ActOrder::kWeight;
    if (m == "sq-gptq") recipe.stages = {qb::spec::SmoothQuantStage{}};
    if (m == "awq") recipe.stages = {qb::spec::AwqStage{}};
    const auto smooth = qb::spec::SmoothSpec::of(recipe);
    qb::spec::Issues issues;
    recipe.validate(issues);
    if (!issues.ok()) {
      std::fprintf(stderr, "%s: %s\n", m.c_str(), issues.to_status("recipe").to_string().c_str());
      return 1;
    }
    qb::quant::QuantizeRequest req;
    req.recipe = recipe.quantization_stage();
    req.model_dir = smooth ? dir / ("smoothed_" + m) : model_dir;
    req.output_dir = dir / ("out_" + m);
    req.device = dev;
    auto gen = at::detail::createCPUGenerator(3);
    auto ids = at::randint(151936 / a.scale, {a.samples, a.seq}, gen,
                           at::TensorOptions().dtype(at::kInt));
    for (std::int64_t i = 0; i < a.samples; ++i) {
      auto row = ids[i].contiguous();
      req.calibration_samples.emplace_back(row.data_ptr<int>(), row.data_ptr<int>() + a.seq);
    }
    qb::quant::SmoothRequest sreq;
    if (smooth) {
      sreq.spec = *smooth;
      sreq.model_dir = model_dir;
      sreq.output_dir = req.model_dir;
      sreq.calibration_samples = req.calibration_samples;
      sreq.device = dev;
      sreq.compute_dtype = dtype;
    }
    if (!req.recipe.calibration) req.calibration_samples.clear();
    req.compute_dtype = dtype;
    req.calibration_path = a.calibration_path == "fast" ? qb::model::LayerPath::kFast
                                                        : qb::model::LayerPath::kEager;
    json report, smooth_report;
    req.report = &report;
    sreq.report = &smooth_report;
    reset_peak(dev);
    double smooth_wall = 0;
    const double wall = timed(dev, [&] {
      if (smooth) {
        const auto t0 = Clock::now();
        auto r = qb::quant::run_smooth(sreq);
        if (!r.is_ok()) {
          std::fprintf(stderr, "%s: %s\n", m.c_str(), r.status().to_string().c_str());
          std::exit(1);
        }
        smooth_wall = std::chrono::duration<double>(Clock::now() - t0).count();
      }
      auto s = qb::quant::run_quantize(req);
      if (!s.is_ok()) {
        std::fprintf(stderr, "%s: %s\n", m.c_str(), s.to_string().c_str());
        std::exit(1);
      }
    });
    if (smooth)
      std::printf("%s: smooth step %.2f s, timings %s\n", m.c_str(), smooth_wall,
                  smooth_report["timings"].dump().c_str());
    std::printf("%s: wall %.2f s, peak GPU alloc %.2f GiB, timings %s\n", m.c_str(), wall,
                qb::bench::peak_gpu_gib(dev), report["timings"].dump().c_str());
    std::fflush(stdout);
    std::error_code ec;
    std::filesystem::remove_all(req.output_dir, ec);  // a 36-layer output is ~9 GB of disk
    if (smooth) std::filesystem::remove_all(req.model_dir, ec);
  }
  std::printf("max RSS %.2f GiB\n", rss_gib());
  return 0;
}
#else
int bench_model(const Args&) {
  std::fprintf(stderr, "bench_quant: built without the quantize step (layer mode only)\n");
  return 2;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  return a.mode == "layer" ? bench_layer(a) : bench_model(a);
}
