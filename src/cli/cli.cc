#include "cli/cli.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/report_command.h"
#include "cli/score_command.h"
#include "cli/tool_commands.h"

namespace qb::cli {

namespace {

// The project root: --project, else the nearest folder at or above the working directory
// holding a pipline/ folder, else the working directory.
std::filesystem::path find_root(const std::string& flag) {
  if (!flag.empty()) return std::filesystem::absolute(flag).lexically_normal();
  auto dir = std::filesystem::current_path();
  for (auto d = dir; !d.empty(); d = d.parent_path()) {
    std::error_code ec;
    if (std::filesystem::is_directory(d / config::kDefaultPipelineDir, ec)) return d;
    if (d == d.parent_path()) break;
  }
  return dir;
}

const char* kFooter = R"(Targets:
  results/<dataset_name>.csv   every eval of that eval config (and what it needs)
  data/models/<variant>        one transformed or quantized model
  data/<dataset_name>.jsonl    one frozen eval set
  <variant>                    a variant's model and all its evals
  (none)                       everything the configs under pipline/ describe

Exit codes:
  0 success   1 a step failed or cannot run in this build, or verify found damage
  2 bad command line or target   3 config errors (all printed)
  4 another qbuild (or a step it needs to wait for) is running (--no-wait)   130 interrupted
)";

}  // namespace

int fail(const Status& s) {
  std::fprintf(stderr, "qbuild: error: %s\n", s.message().c_str());
  switch (s.code()) {
    case Code::kInvalidArgument: return kExitUsage;
    case Code::kBusy: return kExitBusy;
    case Code::kCancelled: return kExitInterrupted;
    default: return kExitBuildFailed;
  }
}

int run_main(int argc, char** argv, const runner::StepRegistry& reg) {
  // Log lines (spdlog's default logger, and util/log.h through it) go to standard error:
  // standard output carries a command's result alone, so `qbuild generate … > out.txt` holds
  // the text and `qbuild tokenize … | …` the ids. `qbuild step` logs to its own file instead.
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("", std::make_shared<spdlog::sinks::stderr_color_sink_mt>()));
  CLI::App app{"qbuild — make for LLM quantization experiments.\n"
               "Compiles the YAML configs under pipline/ (transform × quantize × evaluate) into a\n"
               "content-hashed artifact graph, generates cache/build.ninja and runs Ninja; a step\n"
               "runs only when something its artifact depends on changed.",
               "qbuild"};
  // The step kinds this binary runs (a torch-free build lists fewer).
  std::string steps = "\nSteps (each a Ninja edge: qbuild step <kind> <key>; GPU steps take one device each):\n";
  for (const auto& [name, k] : reg.kinds()) {
    std::string n = "  " + name;
    n.resize(std::max<std::size_t>(n.size() + 1, 15), ' ');
    steps += n + k.summary + (k.gpu ? " [gpu]" : "") + "\n";
  }
  app.footer(std::string(kFooter) + steps);
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", std::string("qbuild ") + QBUILD_VERSION);

  std::string project;
  Common c;
  BuildArgs b;
  app.add_option("--project", project, "project root (default: the nearest folder with pipline/)");
  app.add_option("--pipeline", c.selection.pipeline_dir, "pipeline folder, relative to the root")->capture_default_str();
  app.add_option("--trans-config", c.selection.trans, "only this trans config (name or file; repeatable)");
  app.add_option("--quant-config", c.selection.quant, "only this quant config (name or file; repeatable)");
  app.add_option("--eval-config", c.selection.eval, "only this eval config (dataset_name or file; repeatable)");
  app.add_flag("-v,--verbose", c.verbose, "show every pass and Ninja's commands");
  app.add_flag("-n,--dry-run", b.dry_run, "print the plan with the reason each step would run; run nothing");
  app.add_option("-j,--jobs", b.jobs,
                 "parallel steps (0 or unset: project.yaml's jobs, the number of cores); GPU steps are also limited "
                 "to one per device; each step gets cores / jobs intra-op CPU threads (at least 1), so parallel CPU "
                 "steps never oversubscribe the machine")
      ->check(CLI::Range(0, 4096));
  app.add_option("-k,--keep-going", b.keep_going, "keep going until N steps fail (0 = never stop)")
      ->check(CLI::Range(0, 1000000));
  app.add_flag("--no-wait", b.no_wait, "fail instead of waiting when another qbuild runs here");
  app.add_option("targets", b.targets, "what to build (see Targets below)");

  std::string kind, key, target;
  std::vector<std::string> target_list;
  bool force = false, json = false, all = false;
  GcArgs gca;
  auto* step = app.add_subcommand("step", "run one step of the graph (what each Ninja edge runs)");
  step->add_option("kind", kind, "step kind")->required();
  step->add_option("key", key, "node key")->required();
  step->add_flag("--force", force, "rebuild even when the artifact exists");
  std::vector<std::string> job_command;
  auto* job = app.add_subcommand("job", "run a step as a Slurm job and report how the job ended (what build.ninja's "
                                        "edges run under executor: slurm; rules/slurm.ninja)");
  job->add_option("key", key, "node key")->required();
  job->add_option("command", job_command, "after '--': the srun command line that runs the step")->required();
  auto* explain = app.add_subcommand("explain", "what went into a target's key, and why it would (not) run");
  explain->add_option("target", target, "a target or a node key")->required();
  auto* status = app.add_subcommand("status", "every configured node: cached, to run, or unavailable");
  status->add_flag("--json", json, "machine-readable output");
  auto* runs = app.add_subcommand("runs", "the steps the last invocation ran (from the index)");
  runs->add_flag("--json", json, "machine-readable output");
  runs->add_flag("--all", all, "every recorded run, not only the last invocation's");
  auto* graph = app.add_subcommand("graph", "the artifact graph in Graphviz DOT");
  auto* gc = app.add_subcommand("gc", "delete cache objects that no config under the pipeline folder needs");
  gc->add_flag("-n,--dry-run", gca.dry_run, "list what would be deleted");
  gc->add_option("--keep-days", gca.keep_days, "keep unneeded objects built in the last N days")->capture_default_str();
  gc->add_flag("--all", gca.all, "delete unneeded objects however recent");
  gc->add_flag("--no-wait", b.no_wait, "fail (exit 4) instead of waiting for a running qbuild or step");
  auto* verify = app.add_subcommand(
      "verify", "check every byte of cached artifacts against their checksums; quarantine the damaged");
  verify->add_option("targets", target_list, "what to check (default: every object in the cache)");
  verify->add_flag("--no-wait", b.no_wait, "fail (exit 4) instead of waiting for a running qbuild");
  std::vector<std::string> report_targets;
  auto* report = app.add_subcommand(
      "report", "write results/<dataset_name>.html (table, charts, quantization errors, build timeline, recipe "
                "differences) and the model cards of the quantized variants");
  report->add_option("targets", report_targets, "results/<dataset_name>.csv or .html, or a dataset_name (default: all)");
  report->footer(kReportFooter);
  ToolArgs tools;
  add_tool_commands(app, tools);
  ScoreArgs score;
  add_score_command(app, score);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  c.root = find_root(project);

  if (*step) return cmd_step(c, kind, key, force, reg);
  if (*job) return cmd_job(c, key, job_command);
  if (*explain) return cmd_explain(c, target, reg);
  if (*status) return cmd_status(c, json, reg);
  if (*runs) return cmd_runs(c, json, all);
  if (*graph) return cmd_graph(c, reg);
  if (*gc) {
    gca.no_wait = b.no_wait;  // --no-wait is accepted before or after `gc`
    return cmd_gc(c, b.targets, gca, reg);
  }
  if (*verify) return cmd_verify(c, target_list, b.no_wait, reg);
  if (*report) return cmd_report(c, report_targets, reg);
  if (int rc = run_tool_command(app, tools, reg.tools(), reg.tools_delegate()); rc >= 0) return rc;
  if (int rc = run_score_command(score); rc >= 0) return rc;
  return cmd_build(c, b, reg);
}

}  // namespace qb::cli
