// Checkpoint load throughput: writes a synthetic Llama-shaped bf16 checkpoint (~1.5 GB by
// default, 512 MB shards), then times Checkpoint::open + load of every tensor to a device.
//
//   bench_model_io [--gb 1.5] [--shard-mb 512] [--device cpu|cuda|cuda:N] [--repeat 3]
//                  [--threads N] [--dir DIR] [--keep]
//   --threads sets libtorch's inter-op pool size, which runs the threaded copies of big tensors.
//   --help lists every option with its default; a bad value is a usage error (exit 2).
//
// "warm" runs read from the page cache (the file was just written or read); "cold" runs first
// drop the shards from the page cache with posix_fadvise(DONTNEED) (works without root on clean,
// fsynced files), so they include the disk. Throughput = tensor bytes / wall time; CUDA runs end
// with a device synchronize. Loaded tensors are kept until the end of a run (as a model would).
// Measured on the lent H100 machine (16 cores, libtorch 2.11+cu130), 2 GB, 512 MB shards:
// warm 30 GB/s to cuda, 16 GB/s to cpu; cold ~1.4-1.7 GB/s (disk-bound) for both.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <ATen/Parallel.h>

#include "bench/common/bench_cli.h"
#include "bench/common/bench_device.h"
#include "steps/model_io/checkpoint.h"
#include "util/fs.h"

namespace {

using Clock = std::chrono::steady_clock;
using qb::model_io::Checkpoint;

struct Args {
  double gb = 1.5;
  std::uint64_t shard_mb = 512;
  std::string device = "cpu";
  int repeat = 3;
  int threads = 0;
  std::string dir;
  bool keep = false;
};

Args parse(int argc, char** argv) {
  Args a;
  qb::bench::App app{"Checkpoint load throughput: writes a synthetic Llama-shaped bf16 checkpoint, then times\n"
               "Checkpoint::open + load of every tensor to a device, cold (page cache dropped) and warm.",
               "bench_model_io"};
  app.add_option("--gb", a.gb, "checkpoint size in GB (10^9 bytes)")->check(CLI::Range(0.001, 1e4));
  app.add_option("--shard-mb", a.shard_mb, "largest shard in MiB")->check(qb::bench::at_least(1));
  qb::bench::add_device_option(app, a.device);
  app.add_option("--repeat", a.repeat, "timed loads per mode (cold, warm); the median is printed")
      ->check(qb::bench::at_least(1));
  app.add_option("--threads", a.threads, "libtorch's inter-op pool size (0: its default)")
      ->check(qb::bench::at_least(0));
  auto* dir = app.add_option("--dir", a.dir, "write the checkpoint here and keep it (default: a temp folder)");
  app.add_flag("--keep", a.keep, "keep the temp folder (its path is printed)")->excludes(dir);
  if (auto rc = qb::bench::parse(app, argc, argv)) std::exit(*rc);
  return a;
}

void die(const qb::Status& s) {
  std::fprintf(stderr, "bench_model_io: %s\n", s.to_string().c_str());
  std::exit(1);
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void drop_page_cache(const std::vector<std::filesystem::path>& files) {
  for (const auto& f : files) {
    int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse(argc, argv);
  if (args.threads > 0) at::set_num_interop_threads(args.threads);  // load copies run on this pool
  const at::Device device(args.device);

  qb::fs::TempDir tmp;
  std::filesystem::path dir = args.dir;
  if (dir.empty()) {
    auto t = qb::fs::TempDir::create(std::filesystem::temp_directory_path(), "qb_bench_model_io-");
    if (!t.is_ok()) die(t.status());
    tmp = std::move(t).value();
    dir = tmp.path();
    if (args.keep) tmp.release();
  }

  // Llama-7B-like layer shapes, hidden 4096 / intermediate 11008, bf16, repeated until the target
  // size. All tensors view one random buffer: the writer copies each, memory stays small.
  const int64_t h = 4096, ffn = 11008;
  at::Tensor pool = at::empty({ffn * h}, at::kBFloat16).uniform_(-1, 1);
  auto view = [&](std::vector<int64_t> shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return pool.narrow(0, 0, n).view(shape);
  };
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  std::uint64_t bytes = 0;
  const auto target = static_cast<std::uint64_t>(args.gb * 1e9);
  for (int layer = 0; bytes < target; ++layer) {
    std::string p = "model.layers." + std::to_string(layer) + ".";
    for (auto& [name, t] : std::vector<std::pair<std::string, at::Tensor>>{
             {p + "input_layernorm.weight", view({h})},
             {p + "self_attn.q_proj.weight", view({h, h})},
             {p + "self_attn.k_proj.weight", view({h, h})},
             {p + "self_attn.v_proj.weight", view({h, h})},
             {p + "self_attn.o_proj.weight", view({h, h})},
             {p + "post_attention_layernorm.weight", view({h})},
             {p + "mlp.gate_proj.weight", view({ffn, h})},
             {p + "mlp.up_proj.weight", view({ffn, h})},
             {p + "mlp.down_proj.weight", view({h, ffn})}}) {
      if (bytes >= target) break;
      bytes += t.nbytes();
      tensors.emplace_back(name, t);
    }
  }

  qb::model_io::SaveOptions opts;
  opts.max_shard_bytes = args.shard_mb << 20;
  auto t0 = Clock::now();
  if (auto s = qb::model_io::save_checkpoint(dir, tensors, {{"model_type", "llama"}}, {}, opts); !s) die(s);
  double write_s = seconds_since(t0);
  std::printf("checkpoint: %zu tensors, %.3f GB in %s\n", tensors.size(), bytes / 1e9, dir.c_str());
  std::printf("write (incl. fsync):    %.2f GB/s  (%.2f s)\n", bytes / 1e9 / write_s, write_s);
  std::printf("device %s, %zu inter-op threads\n", device.str().c_str(), at::get_num_interop_threads());
  tensors.clear();

  for (const char* mode : {"cold", "warm"}) {
    std::vector<double> rates;
    for (int r = 0; r < args.repeat; ++r) {
      auto c0 = Checkpoint::open(dir);
      if (!c0.is_ok()) die(c0.status());
      if (std::strcmp(mode, "cold") == 0) drop_page_cache(c0->weight_files());
      std::vector<at::Tensor> loaded;
      auto l0 = Clock::now();
      auto c = Checkpoint::open(dir);
      if (!c.is_ok()) die(c.status());
      for (const std::string& name : c->tensor_names()) {
        auto t = c->load(name, device);
        if (!t.is_ok()) die(t.status());
        loaded.push_back(std::move(t).value());
      }
      qb::bench::sync(device);
      double s = seconds_since(l0);
      rates.push_back(bytes / 1e9 / s);
      std::printf("load %s run %d:        %.2f GB/s  (%.3f s)\n", mode, r + 1, rates.back(), s);
    }
    std::sort(rates.begin(), rates.end());
    std::printf("load %s median:         %.2f GB/s\n", mode, rates[rates.size() / 2]);
  }
  return 0;
}
