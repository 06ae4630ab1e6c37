// Claiming GPUs for a step (see gpu_claim.h).
#include "runner/gpu_claim.h"

#include <chrono>
#include <thread>

#include <spdlog/spdlog.h>

namespace qb::runner {

std::string GpuClaim::visible() const {
  std::string s;
  for (int id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

Result<GpuClaim> claim_gpus(const store::Layout& layout, const std::vector<int>& devices, int count,
                            const std::string& note) {
  if (count < 1 || static_cast<size_t>(count) > devices.size())
    return invalid_argument(note + " needs " + std::to_string(count) + " GPU(s) at once, but may use " +
                            std::to_string(devices.size()) + " (the project's or its eval's devices)");
  bool told = false;
  for (;;) {
    GpuClaim c;
    for (int d : devices) {
      auto l = FileLock::try_acquire(layout.gpu_lock(d), note);
      if (l.is_ok()) {
        c.locks.push_back(std::move(*l));
        c.ids.push_back(d);
        if (static_cast<int>(c.ids.size()) == count) return c;
      } else if (l.status().code() != Code::kBusy) {
        return l.status();
      }
    }
    // Fewer than `count` free: let go of the partial claim (c's locks) before waiting.
    if (!told) {
      if (count == 1) spdlog::info("waiting for a free GPU among {} device(s)", devices.size());
      else spdlog::info("waiting for {} free GPUs at once among {} devices", count, devices.size());
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace qb::runner
