#ifdef QBUILD_WITH_TORCH
#include "steps/kinds/torch/gpu_memory.h"

#include <ATen/ATen.h>

#ifdef QB_HAVE_C10_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace qb::steps {

Status with_gpu_peak(runner::StepContext& ctx, Status (*fn)(runner::StepContext&)) {
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
