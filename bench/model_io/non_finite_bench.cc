// The NaN/Inf scan of a source model (model_io/non_finite.h, run by validate_source_model at a
// source model's first consumer): bytes/s over one large finite bf16 buffer in memory (the page
// cache case: the quantize step reads the same bytes right after), against at::isfinite().all()
// on the same data and against reading the bytes alone (the floor), and the resulting estimate
// for a Qwen3-8B checkpoint (16.4 GB in bf16).
//
//   bench_non_finite [--gb 2] [--threads N] [--repeat 5]
//   --threads sets libtorch's intra-op pool (the scan is threaded over it); default: all cores.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "steps/model_io/non_finite.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kQwen3_8bBytes = 16.4e9;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

template <class F>
double median_gbps(int repeat, double bytes, F&& run) {
  std::vector<double> rates;
  for (int r = 0; r < repeat; ++r) {
    auto t0 = Clock::now();
    run();
    rates.push_back(bytes / 1e9 / seconds_since(t0));
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  double gb = 2.0;
  int threads = 0, repeat = 5;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "usage: bench_non_finite [--gb G] [--threads N] [--repeat R]\n");
      return 2;
    }
    if (k == "--gb") gb = std::stod(argv[++i]);
    else if (k == "--threads") threads = std::stoi(argv[++i]);
    else if (k == "--repeat") repeat = std::stoi(argv[++i]);
    else return 2;
  }
  if (threads > 0) at::set_num_threads(threads);
  const auto n = static_cast<int64_t>(gb * 1e9 / 2);
  at::Tensor t = at::empty({n}, at::kBFloat16).uniform_(-1, 1);  // finite: the whole buffer is read
  const std::span<const std::uint8_t> bytes(static_cast<const std::uint8_t*>(t.data_ptr()), t.nbytes());
  std::printf("buffer: %.2f GB bf16, %d intra-op threads\n", t.nbytes() / 1e9, at::get_num_threads());

  bool found = false;
  const double scan = median_gbps(repeat, t.nbytes(), [&] {
    found |= qb::model_io::first_non_finite(qb::model_io::DType::kBF16, bytes).has_value();
  });
  // The floor: reading the same bytes and nothing else (an OR over 8-byte words).
  std::uint64_t sink = 0;
  const double read = median_gbps(repeat, t.nbytes(), [&] {
    const auto* w = static_cast<const std::uint64_t*>(t.data_ptr());
    const int64_t words = static_cast<int64_t>(t.nbytes() / 8);
    std::atomic<std::uint64_t> acc{0};
    at::parallel_for(0, words, 1 << 16, [&](int64_t b, int64_t e) {
      std::uint64_t x = 0;
      for (int64_t i = b; i < e; ++i) x |= w[i];
      acc.fetch_or(x);
    });
    sink |= acc.load();
  });
  bool all = true;
  const double torch = median_gbps(repeat, t.nbytes(), [&] { all &= at::isfinite(t).all().item<bool>(); });
  if (found || !all) {
    std::fprintf(stderr, "bench_non_finite: the buffer should be finite\n");
    return 1;
  }
  std::printf("first_non_finite:       %.2f GB/s (median of %d)\n", scan, repeat);
  std::printf("at::isfinite().all():   %.2f GB/s\n", torch);
  std::printf("read only (OR of words): %.2f GB/s (sink %llx)\n", read, static_cast<unsigned long long>(sink & 1));
  std::printf("Qwen3-8B (16.4 GB bf16) from memory: %.1f s scan vs %.1f s isfinite\n",
              kQwen3_8bBytes / 1e9 / scan, kQwen3_8bBytes / 1e9 / torch);
  return 0;
}
