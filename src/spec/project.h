// ProjectSpec: the machine's resources and where steps run, from <pipeline dir>/project.yaml
// (every field optional). Not part of any key by itself: the one resource that changes numbers,
// compute_dtype, is copied into the specs of the nodes it affects (QuantRecipe, GenerateSpec)
// and hashed there. Where a step runs (the executor, its Slurm options, the cache folder) never
// changes what it computes, so none of it is hashed; `qbuild explain` shows it.
//
//   devices        GPU ids of this machine; empty = CPU only (local executor)
//   device         resolved: "cpu" | "cuda" (cuda when devices are listed, or written with
//                  executor: slurm, where Slurm hands out the GPUs)
//   compute_dtype  resolved: "float32" on the CPU, "bfloat16" on CUDA, unless written
//   jobs           parallel CPU steps (default: the machine's cores)
//   cache          the content-addressed store's folder, absolute; "" = <root>/cache. May be on
//                  a shared file system, used by several checkouts (store/layout.h)
//   executor       "local": every step runs on this machine (GPU steps claim a device through
//                  a lock file); "slurm": steps of the kinds below run as Slurm jobs, one srun
//                  per Ninja edge (rules/slurm.ninja)
//   slurm_jobs     Slurm jobs at once (the depth of build.ninja's `slurm` pool)
//   slurm_default  srun options for every kind that runs as a job
//   slurm_kinds    per kind, options that override slurm_default; a CPU kind (check, sample,
//                  score) runs as a job only when listed here, a GPU kind always (gres gpu:1
//                  unless written)
//
// JSON (cache/project.json, what `qbuild step` reads): {"devices", "device", "compute_dtype",
// "jobs", "cpu_threads", "cache", "executor", "slurm": {"jobs", "default", "kinds"}};
// cpu_threads = the intra-op threads of each CPU step, decided per invocation from the cores and
// the steps run in parallel (runner/build.cc).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/issues.h"
#include "util/status.h"

namespace qb::spec {

inline constexpr int kMaxGpuId = 1024;
inline constexpr int kMaxJobs = 4096;
inline constexpr int kDefaultSlurmJobs = 8;

// srun's options for one step kind. An empty string or 0 leaves the option to Slurm's
// defaults (the cluster's default partition, account, time limit...).
struct SlurmJobSpec {
  std::string partition, account, qos;
  std::string time;  // Slurm's formats: "minutes", "M:S", "H:M:S", "D-H", "D-H:M", "D-H:M:S"
  std::string gres;  // "gpu:1", "gpu:h100:2", ...; "none" = no --gres (a GPU kind on the CPU)
  int cpus_per_task = 0;
  std::string mem;                      // "64G", "4096M", "4096" (MiB)
  std::vector<std::string> extra_args;  // more srun options, verbatim ("--constraint=h100")

  // `over`'s non-empty fields replace these; extra_args are appended.
  SlurmJobSpec merged_with(const SlurmJobSpec& over) const;
  // The srun options, in a fixed order ("--partition=gpu", "--gres=gpu:1", ...).
  std::vector<std::string> srun_options() const;
  void validate(const std::string& path, Issues& issues) const;
  nlohmann::json to_json() const;
  static SlurmJobSpec from_json(const nlohmann::json& j, const std::string& path, Issues& issues);
  bool operator==(const SlurmJobSpec&) const = default;
};

struct ProjectSpec {
  std::vector<int> devices;
  std::string device = "cpu";
  std::string compute_dtype = "float32";
  int jobs = 1;         // the config layer defaults it to the machine's cores
  int cpu_threads = 0;  // 0: not decided (a step run by hand uses every core)
  std::string cache;    // absolute; "" = <project root>/cache
  std::string executor = "local";  // "local" | "slurm"
  int slurm_jobs = kDefaultSlurmJobs;
  SlurmJobSpec slurm_default;
  std::map<std::string, SlurmJobSpec> slurm_kinds;

  // The srun settings of a kind that runs as a Slurm job (GPU kinds always under executor:
  // slurm, CPU kinds when listed in slurm_kinds), merged with slurm_default; nullopt when the
  // kind runs locally.
  std::optional<SlurmJobSpec> slurm_job(const std::string& kind, bool gpu) const;
  // The executor's rules (issues at "executor", "cache", "slurm.jobs", "slurm.<kind>.<field>").
  void validate(Issues& issues) const;
  nlohmann::json to_json() const;
  static Result<ProjectSpec> from_json(const nlohmann::json& j);
  bool operator==(const ProjectSpec&) const = default;
};

// The step kinds a `slurm:` block may name.
const std::vector<std::string>& step_kind_names();

// The rule for a node's device + compute dtype (issues at "device" / "compute_dtype").
void validate_compute(const std::string& device, const std::string& compute_dtype, Issues& issues);

}  // namespace qb::spec
