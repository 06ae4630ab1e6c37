#ifdef QBUILD_WITH_TORCH
#include "steps/kinds/torch/torch_step.h"

#include <ATen/Parallel.h>

#include <cstdlib>

#ifdef QB_HAVE_C10_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace qb::steps {

namespace {

// The same bits on every x86-64 machine: MKL, oneDNN and ATen pick AVX-512 / AMX kernels where
// the CPU has them, and those sum in other orders than their AVX2 kernels. A step pins all three
// to AVX2 before its first tensor operation (a user's own setting wins: then it is their call).
// Returns the setting in force, recorded in the artifact's meta.
std::string pin_cpu_isa() {
  ::setenv("MKL_CBWR", "AVX2", 0);
  ::setenv("ATEN_CPU_CAPABILITY", "avx2", 0);
  ::setenv("ONEDNN_MAX_CPU_ISA", "AVX2", 0);
  return std::string("MKL_CBWR=") + std::getenv("MKL_CBWR") + " ATEN_CPU_CAPABILITY=" +
         std::getenv("ATEN_CPU_CAPABILITY") + " ONEDNN_MAX_CPU_ISA=" + std::getenv("ONEDNN_MAX_CPU_ISA");
}

}  // namespace

at::Device step_device(const runner::StepContext& ctx) {
  return ctx.device == "cuda" ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
}

Status run_torch_step(runner::StepContext& ctx, const std::string& spec_device,
                      const std::function<Status(runner::StepContext&)>& fn) {
  if (spec_device != ctx.device)
    return unavailable("this node was planned for '" + spec_device + "' (its key depends on it) but the step "
                               "was given '" + ctx.device + "'; run `qbuild` again so the plan matches the project's "
                               "devices");
  ctx.meta["cpu_isa"] = pin_cpu_isa();
  if (ctx.cpu_threads > 0) at::set_num_threads(ctx.cpu_threads);
  ctx.meta["cpu_threads"] = at::get_num_threads();
#ifdef QB_HAVE_C10_CUDA
  const bool cuda = ctx.device == "cuda" && at::hasCUDA();
  if (cuda) {
    (void)at::empty({1}, at::Device(at::kCUDA, 0));  // the allocator knows no device before its first use
    c10::cuda::CUDACachingAllocator::resetPeakStats(0);
  }
  Status s = fn(ctx);
  if (cuda) {
    auto st = c10::cuda::CUDACachingAllocator::getDeviceStats(0);
    ctx.meta["peak_gpu_gib"] =
        static_cast<double>(st.allocated_bytes[static_cast<int>(c10::CachingAllocator::StatType::AGGREGATE)].peak) /
        (1024.0 * 1024.0 * 1024.0);
  }
  return s;
#else
  return fn(ctx);
#endif
}

}  // namespace qb::steps
#endif
