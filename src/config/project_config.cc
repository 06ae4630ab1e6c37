// <pipeline dir>/project.yaml → ProjectSpec: the machine's resources. Everything is optional;
// `device` and `compute_dtype` are resolved here, so later layers only see cpu|cuda and
// float32|bfloat16. Field reference: pipline/README.md.
#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "config/fields.h"
#include "config/parsers.h"

namespace qb::config {
namespace {

const std::vector<std::string_view> kTopKeys = {"resources"};
const std::vector<std::string_view> kResourceKeys = {"devices", "device", "compute_dtype", "jobs"};

int default_jobs() { return std::max(1u, std::thread::hardware_concurrency()); }

}  // namespace

ProjectSpec parse_project(FileContext& c, const Node& root) {
  ProjectSpec spec;
  spec.jobs = default_jobs();
  MapReader top(c.diags, root, "", c.whole_file(), kTopKeys);
  const Node* res = top.find("resources");
  Node empty;
  MapReader r(c.diags, res ? *res : empty, "resources",
              res ? top.find_key("resources")->loc : c.whole_file(), kResourceKeys);

  if (const Node* d = r.find("devices")) {
    spec.devices = read_gpu_ids(c, *d).value_or(std::vector<int>{});
  }
  std::string device = r.get_enum("device", {"auto", "cpu", "cuda"}, "auto").value_or("auto");
  if (device == "cuda" && spec.devices.empty() && r.find("device")) {
    c.diags.error(r.find("device")->loc,
                  "device 'cuda' needs at least one GPU id in 'devices'");
  }
  if (device == "cpu" && !spec.devices.empty()) {
    c.diags.warning(r.find_key("devices")->loc, "'devices' is ignored with device 'cpu'");
    spec.devices.clear();
  }
  spec.device = spec.devices.empty() ? "cpu" : "cuda";
  std::string dtype = r.get_enum("compute_dtype", {"auto", "float32", "bfloat16"}, "auto")
                          .value_or("auto");
  spec.compute_dtype = dtype != "auto" ? dtype : (spec.device == "cuda" ? "bfloat16" : "float32");
  auto jobs = r.get_positive_int("jobs", spec.jobs);
  if (jobs && *jobs > spec::kMaxJobs) {
    c.diags.error(r.find("jobs")->loc, fmt::format("'jobs' must be at most {}, got {}", spec::kMaxJobs,
                                                   *jobs));
    jobs = 1;
  }
  spec.jobs = static_cast<int>(jobs.value_or(1));
  return spec;
}

}  // namespace qb::config
