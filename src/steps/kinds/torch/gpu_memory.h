// Peak GPU memory of one step (the CUDA caching allocator's high-water mark), recorded in the
// artifact's meta as "peak_gpu_gib" so that `qbuild runs` and the benchmarks can report it.
#pragma once

#include "runner/step_registry.h"

namespace qb::steps {

// Runs `fn`; on a CUDA step, resets the allocator's peak first and records it afterwards.
Status with_gpu_peak(runner::StepContext& ctx, Status (*fn)(runner::StepContext&));

}  // namespace qb::steps
