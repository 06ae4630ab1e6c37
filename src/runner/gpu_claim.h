// Claiming GPUs for a step: one flock per device (cache/locks/gpu<N>.lock, released by the
// kernel however the step dies). A data-parallel generate node (spec::GenerateSpec::
// data_parallel) holds N devices at once, one per worker process.
//
// All or nothing: a step takes its N locks only when N of its devices are free at once, and
// otherwise lets go of what it took and retries, so two steps each holding part of what the
// other needs never wait on each other forever. (A step waiting for N may wait longer than
// single-device steps that keep grabbing one free device; a study's GPU steps are few.)
#pragma once

#include <string>
#include <vector>

#include "store/layout.h"
#include "util/file_lock.h"
#include "util/status.h"

namespace qb::runner {

struct GpuClaim {
  std::vector<FileLock> locks;
  std::vector<int> ids;  // in the order of `devices`
  std::string visible() const;  // CUDA_VISIBLE_DEVICES for the step: "0,5"
};

// Claims `count` of `devices` (waits while fewer are free; logs once that it waits). An error
// when count is not in [1, devices.size()] — the eval config rules that out, but a node run by
// hand after project.yaml lost devices would wait forever.
Result<GpuClaim> claim_gpus(const store::Layout& layout, const std::vector<int>& devices, int count,
                            const std::string& note);

}  // namespace qb::runner
