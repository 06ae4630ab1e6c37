// `qbuild step <kind> <key>`: runs one node of the graph, as a Ninja edge does.
//
//  1. reads cache/nodes/<key>.json (written when build.ninja was generated);
//  2. holds the store lock — adopted from the build that runs it, else taken: shared, exclusive
//     with --force (runner/project.h has the scheme) — then the node's lock, and re-checks the
//     store: a hit returns at once;
//  3. checks every byte of its inputs against their manifests' checksums (XXH3 reads ~10 GB/s
//     from the page cache, and the step reads the same bytes next, so they are warm; a few
//     seconds for an 8B model): a damaged input is quarantined and the step fails, saying so,
//     so the next qbuild rebuilds that input instead of building on it;
//  4. for a GPU step, claims a free device through cache/locks/gpu<N>.lock (flock: released by
//     the kernel however the step dies) and narrows CUDA_VISIBLE_DEVICES to it — N devices at
//     once for a data-parallel generate node (runner/gpu_claim.h); the run's start is when it
//     holds the device, so runs on one GPU never overlap in the index;
//  5. logs to logs/<invocation>/<log_name>.log and writes <log_name>.sh beside it, which replays
//     exactly this step;
//  6. runs the kind's function into a temporary directory, publishes it atomically, records the
//     run (start, end, status, host, GPU) in the index.
// SIGINT/SIGTERM record the run as interrupted and exit 130 without publishing anything.
#pragma once

#include <string>

#include "runner/step_registry.h"
#include "store/layout.h"

namespace qb::runner {

struct StepOptions {
  bool force = false;  // rebuild even when the artifact exists (replaces it)
};

Status run_step(const store::Layout& layout, const StepRegistry& registry, const std::string& kind,
                const std::string& key, const StepOptions& opts);

}  // namespace qb::runner
