// SpinQuant benchmarks.
//
//   bench_transforms spinquant [--device cpu|cuda] [--scale S] [--layers L] [--rotations R1,R2]
//                              [--type hadamard|random-hadamard|random-matrix] [--block B]
//                              [--model DIR]
//       A random bf16 Qwen3-8B-shaped checkpoint (hidden 4096/S, intermediate 12288/S, 32/S query
//       and 8/S KV heads of 128, vocab 151936/S, L layers; S = 1, L = 36 is Qwen3-8B) written to a
//       temp dir (or an existing checkpoint: --model), then run_spinquant: the step's own phase timings (load, fuse_rotate,
//       equivalence, save), max RSS and, on CUDA builds, the caching allocator's peak.
//   bench_transforms r4 [--device cpu|cuda] [--dtype bf16|fp32] [--hidden C] [--size F]
//                       [--tokens T] [--block B] [--repeat N]
//       The online R4 cost: per call, down_proj alone (x [T, F] · Wᵀ, W [C, F]) against the fast
//       Hadamard transform of x (butterfly and gemm backends) and a dense x · Q (Q [F, F]), so the
//       overhead per decode step (T = batch) can be read off. Defaults: C 4096, F 12288, T 1.
//   bench_transforms fwht [--device ...] [--dtype ...] [--rows R] [--repeat N]
//       The transform alone at the sizes of the Qwen/Llama families, both backends, GB/s.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/common/bench_cli.h"
#include "bench/common/bench_device.h"
#include "steps/hadamard/hadamard_transform.h"
#include "steps/hadamard/random.h"
#include "steps/hadamard/rotation.h"
#include "steps/model_io/checkpoint.h"
#include "steps/transforms/spinquant.h"
#include "util/fs.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Args {
  std::string mode;
  std::string device = "cpu", dtype = "bf16", rotations = "R1,R2", type = "hadamard", model;
  int64_t scale = 1, layers = 36, block = 0, hidden = 4096, size = 12288, tokens = 1, rows = 64, repeat = 20;
};

Args parse(int argc, char** argv) {
  Args a;
  qb::bench::App app{"SpinQuant benchmarks: the spinquant step's phases, the online R4's cost per call, the fast\n"
               "Hadamard transform alone. --device may also follow the mode's name; `bench_transforms MODE\n"
               "--help` lists the mode's options.",
               "bench_transforms"};
  app.require_subcommand(1);
  qb::bench::add_device_option(app, a.device);
  auto* sq = app.add_subcommand("spinquant", "run_spinquant on a random bf16 Qwen3-shaped checkpoint (or --model)");
  auto* model = sq->add_option("--model", a.model, "an existing checkpoint instead of the random one")
                    ->check(CLI::ExistingDirectory);
  sq->add_option("--scale", a.scale, "divide every Qwen3-8B dimension by S")
      ->check(qb::bench::at_least(1))
      ->excludes(model);
  sq->add_option("--layers", a.layers, "decoder layers of the random checkpoint")
      ->check(qb::bench::at_least(1))
      ->excludes(model);
  sq->add_option("--rotations", a.rotations, "comma-separated")->check(qb::bench::list_of({"R1", "R2", "R4"}));
  sq->add_option("--type", a.type, "transform_type")
      ->check(CLI::IsMember({"hadamard", "random-hadamard", "random-matrix"}));
  sq->add_option("--block", a.block, "transform_block_size (0: the whole dimension)")->check(qb::bench::at_least(0));
  auto* r4 = app.add_subcommand("r4", "down_proj alone vs the online R4 before it (butterfly, gemm, dense)");
  r4->add_option("--dtype", a.dtype, "activations and weights")->check(CLI::IsMember({"bf16", "fp32"}));
  r4->add_option("--hidden", a.hidden, "down_proj's outputs C")->check(qb::bench::at_least(1));
  r4->add_option("--size", a.size, "down_proj's inputs F (the R4 size)")->check(qb::bench::at_least(1));
  r4->add_option("--tokens", a.tokens, "rows of x (the decode batch)")->check(qb::bench::at_least(1));
  r4->add_option("--block", a.block, "Hadamard block size (0: F)")->check(qb::bench::at_least(0));
  r4->add_option("--repeat", a.repeat, "timed calls after one warm-up; the median is printed")
      ->check(qb::bench::at_least(1));
  auto* fwht = app.add_subcommand("fwht", "the transform alone at the Qwen/Llama sizes, both backends, GB/s");
  fwht->add_option("--dtype", a.dtype, "the transformed rows")->check(CLI::IsMember({"bf16", "fp32"}));
  fwht->add_option("--rows", a.rows, "rows per call")->check(qb::bench::at_least(1));
  fwht->add_option("--repeat", a.repeat, "timed calls after one warm-up; the median is printed")
      ->check(qb::bench::at_least(1));
  if (auto rc = qb::bench::parse(app, argc, argv)) std::exit(*rc);
  a.mode = sq->parsed() ? "spinquant" : r4->parsed() ? "r4" : "fwht";
  return a;
}

// Timing and memory: bench/common/bench_device.h.
using qb::bench::rss_gib;
using qb::bench::time_it;

int spinquant(const Args& a) {
  const at::Device dev(a.device);
  const int64_t C = 4096 / a.scale, F = 12288 / a.scale, H = 32 / a.scale, KVH = std::max<int64_t>(8 / a.scale, 1),
                D = 128, V = 151936 / a.scale;
  auto tmp = qb::fs::TempDir::create(qb::fs::stdfs::temp_directory_path(), "qb-bench-spinquant-");
  if (!tmp.is_ok()) return std::fprintf(stderr, "%s\n", tmp.status().to_string().c_str()), 1;
  const auto src = a.model.empty() ? tmp->path() / "src" : qb::fs::stdfs::path(a.model);
  if (a.model.empty()) {
    auto t0 = Clock::now();
    std::vector<std::pair<std::string, at::Tensor>> t;
    auto r = [&](std::vector<int64_t> s, double scale) { return (at::randn(s) * scale).to(at::kBFloat16); };
    t.emplace_back("model.embed_tokens.weight", r({V, C}, 1.0));
    for (int64_t i = 0; i < a.layers; ++i) {
      const std::string p = "model.layers." + std::to_string(i) + ".";
      t.emplace_back(p + "input_layernorm.weight", (1 + 0.1 * at::randn({C})).to(at::kBFloat16));
      t.emplace_back(p + "self_attn.q_proj.weight", r({H * D, C}, 0.02));
      t.emplace_back(p + "self_attn.k_proj.weight", r({KVH * D, C}, 0.02));
      t.emplace_back(p + "self_attn.v_proj.weight", r({KVH * D, C}, 0.02));
      t.emplace_back(p + "self_attn.q_norm.weight", (1 + 0.1 * at::randn({D})).to(at::kBFloat16));
      t.emplace_back(p + "self_attn.k_norm.weight", (1 + 0.1 * at::randn({D})).to(at::kBFloat16));
      t.emplace_back(p + "self_attn.o_proj.weight", r({C, H * D}, 0.02));
      t.emplace_back(p + "post_attention_layernorm.weight", (1 + 0.1 * at::randn({C})).to(at::kBFloat16));
      t.emplace_back(p + "mlp.gate_proj.weight", r({F, C}, 0.02));
      t.emplace_back(p + "mlp.up_proj.weight", r({F, C}, 0.02));
      t.emplace_back(p + "mlp.down_proj.weight", r({C, F}, 0.02));
    }
    t.emplace_back("model.norm.weight", (1 + 0.1 * at::randn({C})).to(at::kBFloat16));
    t.emplace_back("lm_head.weight", r({V, C}, 0.02));
    json config = {{"architectures", {"Qwen3ForCausalLM"}}, {"model_type", "qwen3"}, {"hidden_size", C},
                   {"intermediate_size", F}, {"num_hidden_layers", a.layers}, {"num_attention_heads", H},
                   {"num_key_value_heads", KVH}, {"head_dim", D}, {"vocab_size", V},
                   {"max_position_embeddings", 40960}, {"rms_norm_eps", 1e-6}, {"rope_theta", 1000000.0},
                   {"tie_word_embeddings", false}, {"dtype", "bfloat16"}, {"attention_bias", false}};
    auto s = qb::model_io::save_checkpoint(src, t, config, json::object());
    if (!s.is_ok()) return std::fprintf(stderr, "%s\n", s.to_string().c_str()), 1;
    std::printf("random Qwen3-shaped model: C %ld F %ld H %ld KVH %ld V %ld L %ld, written in %.1f s\n", C, F, H,
                KVH, V, a.layers, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  qb::transforms::SpinQuantRequest req;
  req.input_dir = src;
  req.output_dir = tmp->path() / "out";
  req.device = dev;
  qb::spec::SpinQuantParams params;
  auto type = qb::spec::parse_rotation_type(a.type);
  if (!type.is_ok()) return std::fprintf(stderr, "%s\n", type.status().to_string().c_str()), 1;
  params.transform_type = *type;
  params.rotations.clear();
  for (size_t b = 0, e; b <= a.rotations.size(); b = e + 1) {
    e = a.rotations.find(',', b);
    if (e == std::string::npos) e = a.rotations.size();
    auto id = qb::spec::parse_rotation_id(a.rotations.substr(b, e - b));
    if (!id) return std::fprintf(stderr, "unknown rotation in '%s'\n", a.rotations.c_str()), 1;
    params.rotations.push_back(*id);
  }
  std::sort(params.rotations.begin(), params.rotations.end());
  if (a.block) params.transform_block_size = a.block;
  req.params = params;
  auto meta = qb::transforms::run_spinquant(req);
  if (!meta.is_ok()) return std::fprintf(stderr, "%s\n", meta.status().to_string().c_str()), 1;
  const auto& t = (*meta)["timings_s"];
  std::printf("spinquant %s %s on %s: load %.2f s, fuse/rotate %.2f s, to host %.2f s, equivalence %.2f s, "
              "save %.2f s\n",
              a.rotations.c_str(), a.type.c_str(), a.device.c_str(), t["load"].get<double>(),
              t["fuse_rotate"].get<double>(), t.value("to_host", 0.0), t["equivalence"].get<double>(),
              t["save"].get<double>());
  std::printf("equivalence: %s\n", (*meta)["equivalence"].dump().c_str());
  std::printf("max RSS %.2f GiB, device peak %.2f GiB\n", rss_gib(), qb::bench::peak_gpu_gib(dev));
  return 0;
}

at::ScalarType dtype_of(const Args& a) { return a.dtype == "fp32" ? at::kFloat : at::kBFloat16; }

int r4(const Args& a) {
  const at::Device dev(a.device);
  const auto dt = dtype_of(a);
  auto x = at::randn({a.tokens, a.size}).to(dev, dt);
  auto w = (at::randn({a.hidden, a.size}) * 0.02).to(dev, dt);
  const double base = time_it(dev, a.repeat, [&] { (void)at::matmul(x, w.t()); });
  std::printf("down_proj [%ld, %ld] x [%ld, %ld]^T %s on %s: %.1f us\n", a.tokens, a.size, a.hidden, a.size,
              a.dtype.c_str(), a.device.c_str(), base * 1e6);
  for (auto backend : {qb::hadamard::Backend::kButterfly, qb::hadamard::Backend::kGemm}) {
    auto spec = qb::hadamard::HadamardSpec::create(a.size, a.block, qb::hadamard::random_signs(1, a.block ? a.block : a.size),
                                                   backend);
    if (!spec.is_ok()) return std::fprintf(stderr, "%s\n", spec.status().to_string().c_str()), 1;
    const double t = time_it(dev, a.repeat, [&] { (void)qb::hadamard::hadamard_transform(x, *spec); });
    std::printf("  + R4 %-9s (k=%ld): %.1f us (%.0f%% of down_proj); x36 layers: %.2f ms per decode step\n",
                qb::hadamard::backend_name(backend), spec->base_order(), t * 1e6, 100 * t / base, 36 * t * 1e3);
  }
  const int64_t b = a.block ? a.block : a.size;
  auto q = at::randn({b, b}).to(dev, dt);
  const double td = time_it(dev, a.repeat, [&] { (void)at::matmul(x.view({a.tokens, a.size / b, b}), q); });
  std::printf("  + R4 dense     (x @ Q, Q [%ld, %ld]): %.1f us (%.0f%% of down_proj)\n", b, b, td * 1e6, 100 * td / base);
  return 0;
}

int fwht(const Args& a) {
  const at::Device dev(a.device);
  const auto dt = dtype_of(a);
  std::printf("%-7s %-5s %12s %12s   (rows %ld, %s, %s)\n", "n", "k", "butterfly", "gemm", a.rows, a.dtype.c_str(),
              a.device.c_str());
  for (int64_t n : {128, 1024, 4096, 5120, 12288, 14336, 17408, 18944, 25600, 29568}) {
    auto x = at::randn({a.rows, n}).to(dev, dt);
    double t[2];
    int64_t k = 0;
    for (int i = 0; i < 2; ++i) {
      auto spec = *qb::hadamard::HadamardSpec::create(n, 0, {}, i ? qb::hadamard::Backend::kGemm : qb::hadamard::Backend::kButterfly);
      k = spec.base_order();
      t[i] = time_it(dev, a.repeat, [&] { (void)qb::hadamard::hadamard_transform(x, spec); });
    }
    const double bytes = 2.0 * static_cast<double>(x.numel() * x.element_size());
    std::printf("%-7ld %-5ld %9.1f us %9.1f us   (%.1f / %.1f GB/s)\n", n, k, t[0] * 1e6, t[1] * 1e6,
                bytes / t[0] / 1e9, bytes / t[1] / 1e9);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  if (a.mode == "spinquant") return spinquant(a);
  if (a.mode == "r4") return r4(a);
  if (a.mode == "fwht") return fwht(a);
  return qb::bench::kExitUsage;  // parse() requires one of the modes
}
