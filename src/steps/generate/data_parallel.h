// Data-parallel evaluation of one model: the eval set's items split over N worker processes
// (one per GPU, each seeing only its own through CUDA_VISIBLE_DEVICES; on the CPU, N processes
// sharing the cores), merged in item order. A study's evaluation is most of its GPU time, and
// one variant's items are independent, so N GPUs finish one generate node about N times sooner.
//
// Worker k runs run_generation() on the items i with i % N == k (round-robin: each worker gets
// the same mix of datasets and prompt lengths) from a request file the parent writes, and
// leaves outputs.jsonl (its items' raw-output lines), logits.safetensors (its items' rows, when
// asked) and stats.json in its folder. Each worker resumes from its own predictions.jsonl under
// <partial_dir>/shard-<k>-of-<N>, so an interrupted parallel run resumes with the same N.
//
// The worker is an executable given by the caller (argv prefix + the request file): qbuild
// itself in production (a `generate-worker` command), a test binary in tests/generate.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "steps/generate/generate_run.h"
#include "util/status.h"

namespace qb::generate {

struct ParallelOptions {
  // One worker per entry: its CUDA_VISIBLE_DEVICES ("" on the CPU: leave it as it is).
  std::vector<std::string> devices;
  std::vector<std::string> worker_argv;  // the worker command; the request file is appended
  std::filesystem::path work_dir;        // the workers' folders (created)
  int64_t cpu_threads = 0;               // > 0: each worker's intra-op threads (CPU runs)
};

// Runs o over ParallelOptions::devices.size() workers and merges their results: items and
// logits in eval-set order, stats {"workers": N, "shards": [each worker's stats], and the sums
// and maxima of the totals}. Errors: a worker that fails (its exit status and the tail of its
// stderr file) or leaves an item missing, doubled or outside its shard.
Result<GenerateRunResult> run_generation_parallel(const GenerateRunOptions& o, const ParallelOptions& p);

// The worker side: reads the request file, runs its shard, writes its folder. Returns the
// process's exit status (0 ok, 1 failed: the message on stderr).
int generate_worker_main(const std::filesystem::path& request_file);

}  // namespace qb::generate
