// Placement of calibration hidden states (see hidden_states.h).
#include "steps/quant/hidden_states.h"

#include <algorithm>

#ifdef QB_QUANT_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

namespace qb::quant {

std::int64_t free_device_bytes(at::Device device) {
#ifdef QB_QUANT_CUDA
  if (device.is_cuda()) {
    c10::cuda::OptionalCUDAGuard guard;
    if (device.has_index()) guard.set_device(device);  // else the current device
    std::size_t free = 0, total = 0;
    if (cudaMemGetInfo(&free, &total) == cudaSuccess) return static_cast<std::int64_t>(free);
  }
#else
  (void)device;
#endif
  return -1;
}

HiddenStates::HiddenStates(at::Device device, std::int64_t bytes) : device_(device) {
  if (!device.is_cuda()) return;
  const std::int64_t free = free_device_bytes(device);
  const std::int64_t margin = std::max<std::int64_t>(std::int64_t{4} << 30, free / 4);
  on_device_ = free >= 0 && bytes + margin <= free;
}

at::Tensor HiddenStates::store(const at::Tensor& t) const {
  if (on_device_ || !t.is_cuda()) return t;
  auto host = at::empty(t.sizes(), t.options().device(at::kCPU).pinned_memory(true));
  host.copy_(t);
  return host;
}

std::string HiddenStates::where() const {
  if (!device_.is_cuda()) return "cpu";
  return on_device_ ? device_.str() : std::string("cpu (pinned)");
}

}  // namespace qb::quant
