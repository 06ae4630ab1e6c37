// One function per subcommand; cli.cc parses arguments into these structs and dispatches.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cli/pipeline_input.h"
#include "runner/step_registry.h"

namespace qb::cli {

struct Common {
  std::filesystem::path root;  // the project root (holds pipline/)
  Selection selection;
  bool verbose = false;
};

struct BuildArgs {
  std::vector<std::string> targets;
  bool dry_run = false;
  int jobs = 0;
  int keep_going = 1;
  bool no_wait = false;
};

int cmd_build(const Common& c, const BuildArgs& a, const runner::StepRegistry& reg);
int cmd_step(const Common& c, const std::string& kind, const std::string& key, bool force,
             const runner::StepRegistry& reg);
// `qbuild job <key> -- <srun ...>`: a step run as a Slurm job (runner/slurm_job.h).
int cmd_job(const Common& c, const std::string& key, const std::vector<std::string>& command);
int cmd_explain(const Common& c, const std::string& target, const runner::StepRegistry& reg);
int cmd_status(const Common& c, bool json, const runner::StepRegistry& reg);
int cmd_runs(const Common& c, bool json, bool all);
int cmd_graph(const Common& c, const runner::StepRegistry& reg);
struct GcArgs {
  bool dry_run = false;
  int keep_days = 7;
  bool all = false;
  bool no_wait = false;
};
int cmd_gc(const Common& c, const std::vector<std::string>& targets, const GcArgs& a, const runner::StepRegistry& reg);
int cmd_verify(const Common& c, const std::vector<std::string>& targets, bool no_wait, const runner::StepRegistry& reg);
int cmd_report(const Common& c, const std::vector<std::string>& targets, const runner::StepRegistry& reg);

// Prints "qbuild: error: <message>" and maps the status code to an exit code.
int fail(const Status& s);

}  // namespace qb::cli
