// ProjectSpec: the machine's resources, from <pipeline dir>/project.yaml (every field optional).
// Not part of any key by itself: the one resource that changes numbers, compute_dtype, is copied
// into the specs of the nodes it affects (QuantRecipe, GenerateSpec) and hashed there.
//
//   devices        GPU ids; empty = CPU only
//   device         resolved: "cpu" | "cuda" (cuda exactly when devices are listed)
//   compute_dtype  resolved: "float32" on the CPU, "bfloat16" on CUDA, unless written
//   jobs           parallel CPU steps (default: the machine's cores)
//
// JSON (cache/project.json, what `qbuild step` reads): {"devices", "device", "compute_dtype",
// "jobs", "cpu_threads"}; cpu_threads = the intra-op threads of each CPU step, decided per
// invocation from the cores and the steps run in parallel (runner/build.cc).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/issues.h"
#include "util/status.h"

namespace qb::spec {

inline constexpr int kMaxGpuId = 1024;
inline constexpr int kMaxJobs = 4096;

struct ProjectSpec {
  std::vector<int> devices;
  std::string device = "cpu";
  std::string compute_dtype = "float32";
  int jobs = 1;         // the config layer defaults it to the machine's cores
  int cpu_threads = 0;  // 0: not decided (a step run by hand uses every core)

  nlohmann::json to_json() const;
  static Result<ProjectSpec> from_json(const nlohmann::json& j);
  bool operator==(const ProjectSpec&) const = default;
};

// The rule for a node's device + compute dtype (issues at "device" / "compute_dtype").
void validate_compute(const std::string& device, const std::string& compute_dtype, Issues& issues);

}  // namespace qb::spec
