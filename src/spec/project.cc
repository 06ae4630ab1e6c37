#include "spec/project.h"

#include "spec/canonical_json.h"
#include "spec/issues.h"

namespace qb::spec {

nlohmann::json ProjectSpec::to_json() const {
  return {{"devices", devices}, {"device", device}, {"compute_dtype", compute_dtype}, {"jobs", jobs},
          {"cpu_threads", cpu_threads}};
}

Result<ProjectSpec> ProjectSpec::from_json(const nlohmann::json& j) {
  Issues issues;
  CanonicalReader r(j, "", issues, {"devices", "device", "compute_dtype", "jobs", "cpu_threads"});
  ProjectSpec p;
  const auto& d = r.raw("devices");
  if (!d.is_array()) issues.error("devices", "expected a list");
  for (const auto& x : d.is_array() ? d : nlohmann::json::array()) {
    if (!x.is_number_integer() || x.get<int>() < 0 || x.get<int>() >= kMaxGpuId) issues.error("devices", "bad GPU id");
    else p.devices.push_back(x.get<int>());
  }
  p.device = r.str("device");
  p.compute_dtype = r.str("compute_dtype");
  p.jobs = static_cast<int>(r.i64("jobs"));
  p.cpu_threads = static_cast<int>(r.i64("cpu_threads"));
  QB_TRY(issues.to_status("cache/project.json"));
  return p;
}

void validate_compute(const std::string& device, const std::string& compute_dtype, Issues& issues) {
  if (device != "cpu" && device != "cuda") issues.error("device", "device must be cpu or cuda, got '" + device + "'");
  if (compute_dtype != "float32" && compute_dtype != "bfloat16")
    issues.error("compute_dtype", "compute_dtype must be float32 or bfloat16, got '" + compute_dtype + "'");
}

}  // namespace qb::spec
