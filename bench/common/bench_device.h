// What the libtorch benchmarks share besides their command line (bench_cli.h): the --device and
// --dtype options, checked when the command line is parsed (so `--device cuda` on a machine
// without one is a usage error, not a crash halfway through), timing that waits for the GPU, and
// memory peaks (the CUDA caching allocator's, and the process's max RSS).
//
// On the CPU, and in builds of libtorch without CUDA, sync() does nothing and the GPU peaks are 0;
// the CUDA caching allocator is reached only where QB_BENCH_CUDA_STATS is defined (CUDA builds of
// libtorch, see bench/common/CMakeLists.txt).
#pragma once

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace qb::bench {

// --device cpu|cuda|cuda:N into `device` (its default stays), checked by qb::model::parse_device.
CLI::Option* add_device_option(CLI::App& app, std::string& device);

// A dtype as qb::model::parse_dtype_option reads it (bf16, bfloat16, fp32, float32, fp16,
// float16, auto), for --dtype options whose value goes to that function.
CLI::Validator dtype_validator();

// Waits for the work queued on a CUDA device (its current device when it has no index).
void sync(const at::Device& d);

// Wall seconds of one call of f, the device synchronized before and after.
template <typename F>
double timed(const at::Device& d, F&& f) {
  sync(d);
  const auto t0 = std::chrono::steady_clock::now();
  f();
  sync(d);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Median wall seconds of `repeat` (>= 1) synchronized calls of f, after one warm-up call.
template <typename F>
double time_it(const at::Device& d, std::int64_t repeat, F&& f) {
  f();
  sync(d);
  std::vector<double> t;
  for (std::int64_t i = 0; i < repeat; ++i) t.push_back(timed(d, f));
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Restarts the CUDA caching allocator's peak on a CUDA device; nothing elsewhere.
void reset_peak(const at::Device& d);
// The CUDA caching allocator's peak allocation on a CUDA device since the start or the last
// reset_peak(), in GiB; 0 elsewhere.
double peak_gpu_gib(const at::Device& d);
// The process's peak resident set (getrusage's ru_maxrss), in GiB.
double rss_gib();

}  // namespace qb::bench
