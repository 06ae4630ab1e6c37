#include "bench/common/bench_device.h"

#include <sys/resource.h>

#include <ATen/detail/CUDAHooksInterface.h>

#include "bench/common/bench_cli.h"
#include "steps/model/device.h"

#ifdef QB_BENCH_CUDA_STATS
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace qb::bench {

namespace {

#ifdef QB_BENCH_CUDA_STATS
c10::DeviceIndex index_of(const at::Device& d) { return d.has_index() ? d.index() : 0; }
#endif

}  // namespace

CLI::Option* add_device_option(CLI::App& app, std::string& device) {
  return app.add_option("--device", device, "where to run: cpu, cuda or cuda:N")
      ->check(checked_by([](const std::string& s) { return qb::model::parse_device(s); },
                               "cpu|cuda[:N]"));
}

CLI::Validator dtype_validator() {
  return checked_by([](const std::string& s) { return qb::model::parse_dtype_option(s); },
                          "bf16|fp16|fp32|auto");
}

void sync(const at::Device& d) {
  if (!d.is_cuda()) return;
  const auto& hooks = at::detail::getCUDAHooks();
  hooks.deviceSynchronize(d.has_index() ? d.index() : hooks.current_device());
}

void reset_peak(const at::Device& d) {
#ifdef QB_BENCH_CUDA_STATS
  if (d.is_cuda()) {
    (void)at::empty({1}, d);  // the allocator knows no device before its first use
    c10::cuda::CUDACachingAllocator::resetPeakStats(index_of(d));
  }
#else
  (void)d;
#endif
}

double peak_gpu_gib(const at::Device& d) {
#ifdef QB_BENCH_CUDA_STATS
  if (d.is_cuda()) {
    const auto s = c10::cuda::CUDACachingAllocator::getDeviceStats(index_of(d));
    constexpr auto kAll = static_cast<std::size_t>(c10::CachingAllocator::StatType::AGGREGATE);
    return static_cast<double>(s.allocated_bytes[kAll].peak) / (1024.0 * 1024.0 * 1024.0);
  }
#else
  (void)d;
#endif
  return 0;
}

double rss_gib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / (1024.0 * 1024.0);  // KiB -> GiB
}

}  // namespace qb::bench
