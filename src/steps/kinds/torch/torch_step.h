// What every libtorch step kind does around its work: runs on the device its spec was keyed
// with (a spec planned for CUDA never silently runs on the CPU), with the CPU kernels pinned to
// AVX2 (MKL_CBWR, ATEN_CPU_CAPABILITY, ONEDNN_MAX_CPU_ISA: the same bits on any x86-64 machine),
// with the intra-op threads the build gave it (cores / parallel steps: parallel CPU steps never
// oversubscribe), and records its peak GPU memory (the CUDA caching allocator's high-water mark)
// as meta "peak_gpu_gib".
#pragma once

#include <functional>
#include <string>

#include <ATen/ATen.h>

#include "runner/step_registry.h"

namespace qb::steps {

// Runs `fn`. `spec_device` is the device in the node's spec ("cpu" | "cuda"). Records
// meta "device" (the device used) and "cpu_threads".
Status run_torch_step(runner::StepContext& ctx, const std::string& spec_device,
                      const std::function<Status(runner::StepContext&)>& fn);

// The device a step computes on: cuda:0 (CUDA_VISIBLE_DEVICES shows it the one it holds) or cpu.
at::Device step_device(const runner::StepContext& ctx);

}  // namespace qb::steps
