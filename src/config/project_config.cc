// <pipeline dir>/project.yaml → ProjectSpec: the machine's resources, the cache folder and the
// executor. Everything is optional; `device` and `compute_dtype` are resolved here, so later
// layers only see cpu|cuda and float32|bfloat16, and `cache` is made absolute. The executor's
// rules are ProjectSpec::validate(), reported at their YAML location. Field reference:
// pipline/README.md.
#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "config/fields.h"
#include "config/loc_map.h"
#include "config/parsers.h"

namespace qb::config {
namespace {

const std::vector<std::string_view> kTopKeys = {"resources", "cache", "executor", "slurm"};
const std::vector<std::string_view> kResourceKeys = {"devices", "device", "compute_dtype", "jobs"};
const std::vector<std::string_view> kJobKeys = {"partition", "account", "qos", "time", "gres",
                                                "cpus_per_task", "mem", "extra_args"};

int default_jobs() { return std::max(1u, std::thread::hardware_concurrency()); }

spec::SlurmJobSpec parse_job(FileContext& c, MapReader& parent, const std::string& name) {
  spec::SlurmJobSpec s;
  MapReader r(c.diags, *parent.find(name), "slurm." + name, parent.find_key(name)->loc, kJobKeys);
  for (auto [key, out] : {std::pair{"partition", &s.partition}, {"account", &s.account}, {"qos", &s.qos},
                          {"time", &s.time}, {"gres", &s.gres}, {"mem", &s.mem}})
    *out = r.get_string(key, "").value_or("");
  s.cpus_per_task = static_cast<int>(r.get_positive_int("cpus_per_task", 0).value_or(0));
  if (const Node* e = r.find("extra_args")) s.extra_args = read_string_list(c.diags, *e, "extra_args").value_or(std::vector<std::string>{});
  return s;
}

}  // namespace

ProjectSpec parse_project(FileContext& c, const Node& root) {
  ProjectSpec spec;
  spec.jobs = default_jobs();
  MapReader top(c.diags, root, "", c.whole_file(), kTopKeys);
  LocMap locs(c.whole_file());
  locs.add_tree("", nullptr, root);

  const auto executor = top.get_enum("executor", {"local", "slurm"}, "local");
  spec.executor = executor.value_or("local");
  if (const Node* n = top.find("cache")) {
    if (auto dir = read_string(c.diags, *n, "cache")) {
      if (dir->empty()) {
        c.diags.error(n->loc, "'cache' is empty; leave it out for the default (cache/ in the project)");
      } else {
        std::filesystem::path p = std::filesystem::path(*dir).is_absolute() ? std::filesystem::path(*dir) : c.root / *dir;
        p = std::filesystem::absolute(p).lexically_normal();
        if (p.filename().empty()) p = p.parent_path();  // no trailing '/'
        auto own = std::filesystem::absolute(c.root / "cache").lexically_normal();
        if (p != own) spec.cache = p.string();  // the default written out stays the default
      }
    }
  }
  if (const Node* s = top.find("slurm")) {
    std::vector<std::string_view> keys = {"jobs", "default"};
    for (const auto& k : spec::step_kind_names()) keys.push_back(k);
    MapReader r(c.diags, *s, "slurm", top.find_key("slurm")->loc, keys);
    spec.slurm_jobs = static_cast<int>(r.get_positive_int("jobs", spec::kDefaultSlurmJobs).value_or(1));
    for (const auto& k : r.keys()) {
      if (k == "jobs") continue;
      if (k == "default") spec.slurm_default = parse_job(c, r, k);
      else spec.slurm_kinds[k] = parse_job(c, r, k);
    }
    if (spec.executor != "slurm" && executor)  // (a bad executor is already an error)
      c.diags.warning(top.find_key("slurm")->loc, "'slurm' is ignored: the executor is local (write 'executor: slurm')");
  }

  const Node* res = top.find("resources");
  Node empty;
  MapReader r(c.diags, res ? *res : empty, "resources",
              res ? top.find_key("resources")->loc : c.whole_file(), kResourceKeys);

  if (const Node* d = r.find("devices")) {
    spec.devices = read_gpu_ids(c, *d).value_or(std::vector<int>{});
  }
  std::string device = r.get_enum("device", {"auto", "cpu", "cuda"}, "auto").value_or("auto");
  // Under Slurm the scheduler hands out the GPUs: `device: cuda` needs no local ids.
  const bool slurm = spec.executor == "slurm";
  if (device == "cuda" && spec.devices.empty() && r.find("device") && !slurm) {
    c.diags.error(r.find("device")->loc,
                  "device 'cuda' needs at least one GPU id in 'devices'");
  }
  if (device == "cpu" && !spec.devices.empty()) {
    c.diags.warning(r.find_key("devices")->loc, "'devices' is ignored with device 'cpu'");
    spec.devices.clear();
  }
  spec.device = device == "cuda" && slurm ? "cuda" : spec.devices.empty() ? "cpu" : "cuda";
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

  // The executor's rules, reported with the errors above (all at once): a field that did not
  // parse kept its default, which these rules accept, so nothing is reported twice.
  spec::Issues issues;
  spec.validate(issues);
  locs.report(issues, c.diags);
  return spec;
}

}  // namespace qb::config
