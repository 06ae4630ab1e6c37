#include "spec/project.h"

#include <algorithm>
#include <regex>

#include "spec/canonical_json.h"
#include "spec/issues.h"

namespace qb::spec {

namespace {

// Options qbuild passes to srun itself (rules/slurm.ninja): a second value would fight it.
const std::vector<std::string> kOwnOptions = {"--job-name", "-J", "--comment", "--quit-on-interrupt"};

bool has_space_or_control(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; });
}

}  // namespace

const std::vector<std::string>& step_kind_names() {
  static const std::vector<std::string> kinds = {"check", "trans", "quant", "sample", "generate", "score"};
  return kinds;
}

SlurmJobSpec SlurmJobSpec::merged_with(const SlurmJobSpec& over) const {
  SlurmJobSpec s = *this;
  for (auto [mine, theirs] : {std::pair{&s.partition, &over.partition}, {&s.account, &over.account},
                              {&s.qos, &over.qos}, {&s.time, &over.time}, {&s.gres, &over.gres}, {&s.mem, &over.mem}})
    if (!theirs->empty()) *mine = *theirs;
  if (over.cpus_per_task) s.cpus_per_task = over.cpus_per_task;
  s.extra_args.insert(s.extra_args.end(), over.extra_args.begin(), over.extra_args.end());
  return s;
}

std::vector<std::string> SlurmJobSpec::srun_options() const {
  std::vector<std::string> o;
  if (!partition.empty()) o.push_back("--partition=" + partition);
  if (!account.empty()) o.push_back("--account=" + account);
  if (!qos.empty()) o.push_back("--qos=" + qos);
  if (!time.empty()) o.push_back("--time=" + time);
  if (!gres.empty() && gres != "none") o.push_back("--gres=" + gres);
  if (cpus_per_task) o.push_back("--cpus-per-task=" + std::to_string(cpus_per_task));
  if (!mem.empty()) o.push_back("--mem=" + mem);
  o.insert(o.end(), extra_args.begin(), extra_args.end());
  return o;
}

void SlurmJobSpec::validate(const std::string& path, Issues& issues) const {
  for (auto [name, value] : {std::pair{"partition", &partition}, {"account", &account}, {"qos", &qos}})
    if (has_space_or_control(*value))
      issues.error(field(path, name), std::string("'") + name + "' may not contain spaces or control characters");
  static const std::regex kTime(R"(\d+(:\d{1,2}){0,2}|\d+-\d{1,2}(:\d{1,2}){0,2}|UNLIMITED|INFINITE)");
  if (!time.empty() && !std::regex_match(time, kTime))
    issues.error(field(path, "time"), "time '" + time +
                                          "' is not a Slurm time limit (minutes, M:S, H:M:S, D-H, D-H:M or D-H:M:S)");
  static const std::regex kGresItem(R"([A-Za-z][A-Za-z0-9_]*(:[A-Za-z0-9_.-]+)?(:\d+)?)");
  if (!gres.empty() && gres != "none") {
    std::size_t start = 0;
    for (;;) {
      std::size_t comma = gres.find(',', start);
      std::string item = gres.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!std::regex_match(item, kGresItem)) {
        issues.error(field(path, "gres"), "gres '" + gres + "' is not Slurm's name[:type][:count] (e.g. gpu:1), or none");
        break;
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (cpus_per_task < 0 || cpus_per_task > kMaxJobs)
    issues.error(field(path, "cpus_per_task"),
                 "'cpus_per_task' must be between 1 and " + std::to_string(kMaxJobs) + ", got " + std::to_string(cpus_per_task));
  static const std::regex kMem(R"(\d+[KMGTkmgt]?)");
  if (!mem.empty() && !std::regex_match(mem, kMem))
    issues.error(field(path, "mem"), "mem '" + mem + "' is not a Slurm memory size (a number with K, M, G or T; M when none)");
  for (std::size_t i = 0; i < extra_args.size(); ++i) {
    const std::string& a = extra_args[i];
    const std::string p = item(field(path, "extra_args"), i);
    if (a.empty() || a[0] != '-' || a.find_first_of("\n\r") != std::string::npos) {
      issues.error(p, "'" + a + "' is not an srun option (each item is one option, e.g. --constraint=h100)");
      continue;
    }
    const std::string name = a.substr(0, a.find('='));
    if (std::find(kOwnOptions.begin(), kOwnOptions.end(), name) != kOwnOptions.end() ||
        (name.rfind("-J", 0) == 0 && name.size() > 2))
      issues.error(p, "qbuild sets " + (name.rfind("-J", 0) == 0 ? std::string("--job-name") : name) +
                          " itself (the job is named after the step; rules/slurm.ninja)");
  }
}

nlohmann::json SlurmJobSpec::to_json() const {
  return {{"partition", partition}, {"account", account}, {"qos", qos},
          {"time", time},           {"gres", gres},       {"cpus_per_task", cpus_per_task},
          {"mem", mem},             {"extra_args", extra_args}};
}

SlurmJobSpec SlurmJobSpec::from_json(const nlohmann::json& j, const std::string& path, Issues& issues) {
  CanonicalReader r(j, path, issues, {"partition", "account", "qos", "time", "gres", "cpus_per_task", "mem", "extra_args"});
  SlurmJobSpec s;
  s.partition = r.str("partition");
  s.account = r.str("account");
  s.qos = r.str("qos");
  s.time = r.str("time");
  s.gres = r.str("gres");
  s.cpus_per_task = static_cast<int>(r.i64("cpus_per_task"));
  s.mem = r.str("mem");
  s.extra_args = r.strings("extra_args");
  return s;
}

std::optional<SlurmJobSpec> ProjectSpec::slurm_job(const std::string& kind, bool gpu) const {
  if (executor != "slurm") return std::nullopt;
  auto it = slurm_kinds.find(kind);
  if (!gpu && it == slurm_kinds.end()) return std::nullopt;
  SlurmJobSpec s = it == slurm_kinds.end() ? slurm_default : slurm_default.merged_with(it->second);
  if (gpu && s.gres.empty()) s.gres = "gpu:1";
  return s;
}

void ProjectSpec::validate(Issues& issues) const {
  if (executor != "local" && executor != "slurm")
    issues.error("executor", "executor must be local or slurm, got '" + executor + "'");
  if (!cache.empty() && cache[0] != '/') issues.error("cache", "cache must be an absolute path, got '" + cache + "'");
  if (slurm_jobs < 1 || slurm_jobs > kMaxJobs)
    issues.error("slurm.jobs", "'jobs' must be between 1 and " + std::to_string(kMaxJobs) + ", got " + std::to_string(slurm_jobs));
  slurm_default.validate("slurm.default", issues);
  for (const auto& [kind, s] : slurm_kinds) {
    const auto& kinds = step_kind_names();
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end())
      issues.error(field("slurm", kind), "'" + kind + "' is not a step kind");
    s.validate(field("slurm", kind), issues);
  }
}

nlohmann::json ProjectSpec::to_json() const {
  nlohmann::json kinds = nlohmann::json::object();
  for (const auto& [k, s] : slurm_kinds) kinds[k] = s.to_json();
  return {{"devices", devices},
          {"device", device},
          {"compute_dtype", compute_dtype},
          {"jobs", jobs},
          {"cpu_threads", cpu_threads},
          {"cache", cache},
          {"executor", executor},
          {"slurm", {{"jobs", slurm_jobs}, {"default", slurm_default.to_json()}, {"kinds", kinds}}}};
}

Result<ProjectSpec> ProjectSpec::from_json(const nlohmann::json& j) {
  Issues issues;
  CanonicalReader r(j, "", issues,
                    {"devices", "device", "compute_dtype", "jobs", "cpu_threads", "cache", "executor", "slurm"});
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
  p.cache = r.str("cache");
  p.executor = r.str("executor");
  CanonicalReader s(r.raw("slurm"), "slurm", issues, {"jobs", "default", "kinds"});
  p.slurm_jobs = static_cast<int>(s.i64("jobs"));
  p.slurm_default = SlurmJobSpec::from_json(s.raw("default"), "slurm.default", issues);
  const auto& kinds = s.raw("kinds");
  if (!kinds.is_object()) issues.error("slurm.kinds", "expected an object");
  else
    for (const auto& [k, v] : kinds.items()) p.slurm_kinds[k] = SlurmJobSpec::from_json(v, field("slurm.kinds", k), issues);
  QB_TRY(issues.to_status("cache/project.json"));
  return p;
}

void validate_compute(const std::string& device, const std::string& compute_dtype, Issues& issues) {
  if (device != "cpu" && device != "cuda") issues.error("device", "device must be cpu or cuda, got '" + device + "'");
  if (compute_dtype != "float32" && compute_dtype != "bfloat16")
    issues.error("compute_dtype", "compute_dtype must be float32 or bfloat16, got '" + compute_dtype + "'");
}

}  // namespace qb::spec
