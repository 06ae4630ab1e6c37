// The build command and the inspection commands (step, explain, status, runs, graph, gc, verify).
#include "cli/commands.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

#include <fmt/format.h>

#include "cli/cli.h"
#include "cli/report_command.h"
#include "ninja/build_file.h"
#include "report/vega_bundle.h"
#include "runner/build.h"
#include "runner/gc.h"
#include "runner/noop_memo.h"
#include "runner/project.h"
#include "runner/run_record.h"
#include "runner/slurm.h"
#include "runner/slurm_job.h"
#include "runner/step_runner.h"
#include "runner/verify.h"
#include "util/dep_log.h"
#include "util/file_lock.h"
#include "util/strings.h"
#include "util/subprocess.h"

namespace qb::cli {

namespace {

using Clock = std::chrono::steady_clock;

// Narrates the build's passes with a timer each under -v (load → graph → plan → generate → run).
class Passes {
 public:
  explicit Passes(bool verbose) : verbose_(verbose) {}
  void done(const char* pass) {
    auto now = Clock::now();
    if (verbose_)
      std::fprintf(stderr, "qbuild: %-9s %7.1f ms\n", pass, std::chrono::duration<double, std::milli>(now - last_).count());
    last_ = now;
  }

 private:
  bool verbose_;
  Clock::time_point last_ = Clock::now();
};

void print_warnings(runner::Project& p) {
  for (const auto& w : p.warnings()) std::fprintf(stderr, "qbuild: warning: %s\n", w.c_str());
}

struct Loaded {
  std::unique_ptr<runner::Project> project;
  LoadedPipeline pipeline;
  runner::Planned planned;
};

// The passes every graph command shares. Returns an exit code on failure.
std::variant<Loaded, int> load_and_plan(const Common& c, const std::vector<std::string>& targets,
                                        const runner::StepRegistry& reg, bool read_only, bool no_wait, Passes& passes,
                                        bool exclusive_store = false) {
  Loaded l;
  auto pl = load_for_build(c.root, c.selection);
  if (!pl.is_ok()) {
    if (pl.status().code() == Code::kInvalidArgument && starts_with(pl.status().message(), "--"))
      return fail(pl.status());
    std::fprintf(stderr, "qbuild: %s; nothing was built\n", pl.status().message().c_str());
    return kExitConfig;
  }
  l.pipeline = std::move(*pl);
  passes.done("load");
  runner::OpenOptions oo;
  oo.read_only = read_only;
  oo.no_wait = no_wait;
  oo.exclusive_store = exclusive_store;
  oo.note = "qbuild " + join(targets, " ");
  auto project = runner::Project::open(store::Layout(c.root, l.pipeline.project.cache), oo);
  if (!project.is_ok()) return fail(project.status());
  l.project = std::move(*project);
  passes.done("open");
  auto planned = runner::plan_build(*l.project, l.pipeline.input, reg.catalog(), targets);
  print_warnings(*l.project);
  if (!planned.is_ok()) return fail(planned.status());
  l.planned = std::move(*planned);
  passes.done("plan");
  // A pipeline folder without a single config is a wrong --pipeline (or a checkout without its
  // configs), not an empty study: say so rather than "0 to run" — and gc must not take it for
  // "nothing is needed".
  if (std::none_of(l.planned.graph.nodes.begin(), l.planned.graph.nodes.end(),
                   [](const graph::Node& n) { return !n.is_source(); })) {
    std::fprintf(stderr,
                 "qbuild: error: the pipeline '%s' describes no artifacts (no configs under its 1-trans/, 2-quant/, "
                 "3-eval/); is --pipeline right?\n",
                 c.selection.pipeline_dir.c_str());
    return kExitConfig;
  }
  return l;
}

// The project's layout for commands that load no configs: project.yaml's `cache:` only.
std::variant<store::Layout, int> layout_only(const Common& c) {
  config::Diagnostics diags;
  auto p = config::load_project(c.root, diags, c.selection.pipeline_dir);
  if (diags.error_count() || diags.warning_count()) std::fputs(diags.render().c_str(), stderr);
  if (!p.is_ok()) {
    std::fprintf(stderr, "qbuild: %s\n", p.status().message().c_str());
    return kExitConfig;
  }
  return store::Layout(c.root, p->cache);
}

// The Slurm jobs of this invocation that Slurm still runs or queues after Ninja returned (an
// srun killed before it could cancel its job, or one still pending): cancelled, so nothing of
// an interrupted build keeps running.
void cancel_leftover_jobs(const std::string& invocation, const std::filesystem::path& root) {
  if (!runner::slurm_available()) return;
  auto jobs = runner::jobs_with_comment(runner::tag_comment_prefix(runner::job_tag(invocation, root)));
  if (!jobs.is_ok()) {
    std::fprintf(stderr, "qbuild: warning: could not list this build's Slurm jobs: %s\n", jobs.status().message().c_str());
    return;
  }
  std::vector<std::string> ids;
  for (const auto& j : *jobs)
    if (j.active()) ids.push_back(j.id);
  if (ids.empty()) return;
  std::fprintf(stderr, "qbuild: cancelling Slurm job(s) %s\n", join(ids, " ").c_str());
  if (Status s = runner::cancel_jobs(ids); !s.is_ok()) std::fprintf(stderr, "qbuild: warning: %s\n", s.message().c_str());
}

// What a build's command line selects, for the no-op memo's fingerprint (runner/noop_memo.h):
// everything that changes what a no-op would write or print, but -v.
std::vector<std::string> noop_parts(const Common& c, const BuildArgs& a) {
  std::vector<std::string> parts = {"build", "pipeline=" + c.selection.pipeline_dir, "jobs=" + std::to_string(a.jobs),
                                    "keep_going=" + std::to_string(a.keep_going)};
  for (const auto& [flag, names] : {std::pair{"trans=", &c.selection.trans}, std::pair{"quant=", &c.selection.quant},
                                    std::pair{"eval=", &c.selection.eval}})
    for (const auto& n : *names) parts.push_back(flag + n);
  for (const auto& t : a.targets) parts.push_back("target=" + t);
  const char* vega = std::getenv("QBUILD_VEGA_DIR");
  parts.push_back(std::string("QBUILD_VEGA_DIR=") + (vega ? vega : "(unset)"));
  return parts;
}

// The no-op memo's answer, under the invocation lock as the full path would take it (busy:
// none, and the full path waits or says so).
std::optional<runner::NoopOutput> noop_memo_answer(const Common& c, const Digest& fp) {
  const store::Layout layout(c.root);
  if (!std::filesystem::exists(layout.noop_memo())) return std::nullopt;
  auto lock = FileLock::try_acquire(layout.project_lock(), "qbuild (no-op)", LockMode::kExclusive);
  if (!lock.is_ok()) return std::nullopt;
  return runner::noop_memo_answer(layout, fp);
}

}  // namespace

int cmd_build(const Common& c, const BuildArgs& a, const runner::StepRegistry& reg) {
  Passes passes(c.verbose);
  // A no-op answered from the memo of the last one (runner/noop_memo.h); else the full path
  // notes what it reads, to record the next memo if it ends as a no-op too.
  std::optional<Digest> noop_fp;
  if (!a.dry_run) {
    noop_fp = runner::noop_fingerprint(c.root, noop_parts(c, a));
    if (auto printed = noop_memo_answer(c, *noop_fp)) {
      std::fputs(printed->err.c_str(), stderr);
      passes.done("memo");
      std::fputs(printed->out.c_str(), stdout);
      return kExitOk;
    }
    fs::DependencyLog::start();
  }
  auto r = load_and_plan(c, a.targets, reg, a.dry_run, a.no_wait, passes);
  if (auto* rc = std::get_if<int>(&r)) return *rc;
  auto& l = std::get<Loaded>(r);
  const auto& plan = l.planned.plan;
  if (a.dry_run) {
    std::fputs(graph::render_plan(l.planned.graph, plan, c.verbose).c_str(), stdout);
    return plan.unavailable ? kExitBuildFailed : kExitOk;
  }
  if (Status s = runner::write_build_files(*l.project, l.planned, l.pipeline.project, a.jobs); !s.is_ok()) return fail(s);
  passes.done("generate");
  int ninja_rc = 0;
  std::string invocation = timestamp_compact();
  const bool slurm = l.pipeline.project.executor == "slurm";
  if (plan.to_run > 0) {
    runner::NinjaOptions no;
    no.jobs = a.jobs > 0 ? a.jobs : l.pipeline.project.jobs;
    // Under Slurm, Ninja's -j also counts the edges waiting in srun: room for every job of the
    // `slurm` pool beside the local steps (which their own pool keeps at -j).
    if (slurm) no.jobs += l.pipeline.project.slurm_jobs;
    no.keep_going = a.keep_going;
    no.verbose = c.verbose;
    no.invocation = invocation;
    auto rc = runner::run_ninja(*l.project, no);
    if (!rc.is_ok()) return fail(rc.status());
    ninja_rc = *rc;
    if (slurm) {
      cancel_leftover_jobs(invocation, l.project->layout().root());
      auto n = runner::ingest_run_records(*l.project);
      if (!n.is_ok()) return fail(n.status().with_context("ingesting cache/runs/"));
      print_warnings(*l.project);
    }
  }
  passes.done("run");
  if (Status s = runner::collect(*l.project, l.planned); !s.is_ok()) return fail(s);
  passes.done("collect");
  // The HTML reports and model cards (src/report) follow the CSVs, failed steps or not (the
  // page then shows what finished, and the timeline what failed); a report that cannot be
  // written is a warning, never the build's failure. Not after Ctrl-C: the user wants out.
  std::vector<std::string> report_warnings;
  if (ninja_rc != kExitInterrupted) {
    report_warnings = reports_after_build(*l.project, l.planned);
    for (const auto& w : report_warnings) std::fprintf(stderr, "qbuild: warning: %s\n", w.c_str());
    passes.done("report");
  }
  if (ninja_rc == kExitInterrupted) {
    std::fprintf(stderr, "qbuild: interrupted; finished steps are kept, the rest reruns next time\n");
    return kExitInterrupted;
  }
  if (plan.unavailable) {
    std::set<std::string> kinds;
    for (const auto& it : plan.items)
      if (it.action == graph::Action::kUnavailable && l.planned.graph.node(it.node).kind != "") {
        const auto& n = l.planned.graph.node(it.node);
        if (!reg.find(n.kind)) kinds.insert(n.kind);
      }
    std::fprintf(stderr, "qbuild: %d step(s) cannot run: step kind(s) %s not available in this build\n",
                 plan.unavailable, join(std::vector<std::string>(kinds.begin(), kinds.end()), ", ").c_str());
    return kExitBuildFailed;
  }
  if (ninja_rc != 0) {
    std::fprintf(stderr, "qbuild: build failed; step logs are in logs/%s/\n", invocation.c_str());
    return kExitBuildFailed;
  }
  if (plan.to_run > 0) {
    std::printf("qbuild: done (%d built, %d cached)\n", plan.to_run, plan.cached);
    return kExitOk;
  }
  const std::string line = fmt::format("qbuild: nothing to do ({} cached)\n", plan.cached);
  std::fputs(line.c_str(), stdout);
  // The no-op is recorded for the next one, its config warnings with it (they follow from the
  // configs the memo watches); not when the project or the reports warned (an index rebuilt,
  // an artifact quarantined, a report not written: news to tell once, or until fixed).
  if (noop_fp && report_warnings.empty() && l.project->warnings().empty()) {
    std::fflush(stdout);
    l.project->close_index();
    const auto inputs = fs::DependencyLog::take();
    (void)runner::record_noop_memo(*l.project, l.planned, *noop_fp, {line, l.pipeline.diagnostics}, inputs,
                                   {report::vega_dir()});  // only saves work
    passes.done("record");
  }
  return kExitOk;
}

int cmd_step(const Common& c, const std::string& kind, const std::string& key, bool force,
             const runner::StepRegistry& reg) {
  if (const auto* k = reg.find(kind); k && !k->delegate.empty()) {  // a libtorch kind: qbuild-torch runs it
    std::fprintf(stderr, "qbuild step: %s\n", exec_with_own_args(k->delegate).message().c_str());
    return kExitBuildFailed;
  }
  store::Layout layout(c.root);
  Status s = runner::run_step(layout, reg, kind, key, runner::StepOptions{force});
  if (!s.is_ok()) {
    std::fprintf(stderr, "qbuild step: %s\n", s.to_string().c_str());
    return kExitBuildFailed;
  }
  return kExitOk;
}

int cmd_job(const Common& c, const std::string& key, const std::vector<std::string>& command) {
  auto rc = runner::run_job(store::Layout(c.root), key, command);
  if (!rc.is_ok()) {
    std::fprintf(stderr, "qbuild job: %s\n", rc.status().to_string().c_str());
    return kExitBuildFailed;
  }
  return *rc;
}

namespace {

// Where a node's step runs (not part of its key): "on this machine" or the srun options.
std::string where_it_runs(const spec::ProjectSpec& p, const graph::Node& n) {
  if (auto job = p.slurm_job(n.kind, n.gpu)) {
    auto opts = job->srun_options();
    return "as a Slurm job (executor: slurm): srun" + (opts.empty() ? std::string() : " " + join(opts, " "));
  }
  return std::string("on this machine (executor: ") + p.executor + (n.gpu && p.executor == "local" && !p.devices.empty() ? ", one GPU of its devices" : "") + ")";
}

}  // namespace

int cmd_explain(const Common& c, const std::string& target, const runner::StepRegistry& reg) {
  Passes passes(false);
  auto r = load_and_plan(c, {target}, reg, true, false, passes);
  if (auto* rc = std::get_if<int>(&r)) return *rc;
  auto& l = std::get<Loaded>(r);
  const auto& g = l.planned.graph;
  for (const auto& item : l.planned.plan.items) {
    const auto& n = g.node(item.node);
    const char* state = item.action == graph::Action::kRun ? "would run" : item.action == graph::Action::kCached ? "cached" : "cannot run";
    std::printf("%s %s  key %s  (%s)\n", n.kind.c_str(), n.name.c_str(), n.key.c_str(), state);
    if (!n.config_file.empty()) std::printf("  config: %s\n", n.config_file.c_str());
    for (const auto& reason : item.reasons) std::printf("  why: %s\n", reason.c_str());
    std::printf("  hashed:\n");
    for (const auto& line : graph::explain_key(g, item.node)) std::printf("    %s\n", line.c_str());
    for (const auto& in : n.inputs) std::printf("  input %s: %s %s\n", in.role.c_str(), g.node(in.node).kind.c_str(), g.node(in.node).name.c_str());
    std::printf("  runs: %s; not part of the key\n", where_it_runs(l.pipeline.project, n).c_str());
    if (l.project->layout().shared_store())
      std::printf("  artifact: %s (cache: %s)\n", l.project->layout().object_ref(n.key).c_str(),
                  l.project->layout().store().c_str());
    if (auto a = l.project->index().artifact(n.key); a.is_ok() && *a) {
      const auto& meta = (*a)->meta;
      if (meta.contains("equivalence")) std::printf("  equivalence check: %s\n", meta["equivalence"].dump().c_str());
      if (meta.contains("scores")) std::printf("  scores: %s\n", meta["scores"].dump().c_str());
    }
  }
  return kExitOk;
}

int cmd_status(const Common& c, bool json, const runner::StepRegistry& reg) {
  Passes passes(false);
  auto r = load_and_plan(c, {}, reg, true, false, passes);
  if (auto* rc = std::get_if<int>(&r)) return *rc;
  auto& l = std::get<Loaded>(r);
  const auto& g = l.planned.graph;
  // Each node's Slurm job: one Slurm still has (queued, running, or recently ended), else the
  // job of its last recorded run.
  std::map<std::string, store::RunRow> last;
  if (auto lr = l.project->index().last_runs(); lr.is_ok()) last = std::move(*lr);
  for (const auto& [path, rec] : runner::list_run_records(l.project->layout()))
    if (rec.is_ok()) last[rec->run.key] = rec->run;
  std::map<std::string, runner::SlurmJob> live;
  if (l.pipeline.project.executor == "slurm" && runner::slurm_available())
    if (auto jobs = runner::jobs_with_comment("qbuild:"); jobs.is_ok())
      for (const auto& j : *jobs) {
        std::string key = j.comment.substr(j.comment.rfind(':') + 1);
        auto it = live.find(key);
        if (it == live.end() || std::atoll(j.id.c_str()) > std::atoll(it->second.id.c_str())) live[key] = j;
      }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : l.planned.plan.items) {
    const auto& n = g.node(item.node);
    std::string state = item.action == graph::Action::kRun ? "missing" : item.action == graph::Action::kCached ? "cached" : "unavailable";
    nlohmann::json row = {{"kind", n.kind}, {"name", n.name}, {"key", n.key}, {"state", state}, {"reasons", item.reasons}};
    if (auto a = l.project->index().artifact(n.key); a.is_ok() && *a) {
      for (const char* k : {"equivalence", "scores", "duration_s", "device"})
        if ((*a)->meta.contains(k)) row[k] = (*a)->meta[k];
    }
    if (auto it = live.find(n.key); it != live.end()) {
      row["job"] = {{"id", it->second.id}, {"node", it->second.node}, {"state", it->second.state}};
    } else if (auto r = last.find(n.key); r != last.end() && !r->second.job_id.empty()) {
      row["job"] = {{"id", r->second.job_id}, {"node", r->second.host}, {"state", r->second.job_state}};
    }
    out.push_back(row);
  }
  if (json) {
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  for (const auto& row : out) {
    std::printf("%-11s %-12s %s\n", row["state"].get<std::string>().c_str(), row["kind"].get<std::string>().c_str(),
                row["name"].get<std::string>().c_str());
    if (row.contains("equivalence")) std::printf("            equivalence: %s\n", row["equivalence"].dump().c_str());
    if (row.contains("scores")) std::printf("            scores: %s\n", row["scores"].dump().c_str());
    if (row.contains("job"))
      std::printf("            Slurm job %s on %s: %s\n", row["job"]["id"].get<std::string>().c_str(),
                  row["job"]["node"].get<std::string>().empty() ? "(no node yet)" : row["job"]["node"].get<std::string>().c_str(),
                  row["job"]["state"].get<std::string>().c_str());
  }
  std::printf("%d cached, %d missing, %d unavailable\n", l.planned.plan.cached, l.planned.plan.to_run, l.planned.plan.unavailable);
  return kExitOk;
}

int cmd_runs(const Common& c, bool json, bool all) {
  auto layout = layout_only(c);
  if (auto* rc = std::get_if<int>(&layout)) return *rc;
  auto project = runner::Project::open(std::get<store::Layout>(layout), runner::OpenOptions{false, "", true});
  if (!project.is_ok()) return fail(project.status());
  auto& idx = (*project)->index();
  std::string inv;
  if (!all) {
    auto last = idx.last_invocation();
    if (!last.is_ok()) return fail(last.status());
    inv = *last;
  }
  auto runs = idx.runs(inv);
  if (!runs.is_ok()) return fail(runs.status());
  if (!all && inv.empty()) runs->clear();
  // Runs of Slurm jobs not ingested yet (a build in progress, or one that crashed): shown as
  // their records say, the next qbuild moves them into the index.
  for (const auto& [path, rec] : runner::list_run_records((*project)->layout())) {
    if (!rec.is_ok()) continue;
    if (all || inv.empty() || rec->run.invocation == inv || rec->run.invocation > inv) runs->push_back(rec->run);
  }
  // In the order they started: the runs of Slurm jobs enter the index when their invocation
  // ingests them, after the local steps that ran beside them.
  std::stable_sort(runs->begin(), runs->end(), [](const store::RunRow& a, const store::RunRow& b) {
    return a.invocation != b.invocation ? a.invocation < b.invocation : a.started < b.started;
  });
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : *runs)
    out.push_back({{"invocation", r.invocation}, {"kind", r.kind}, {"name", r.name}, {"key", r.key}, {"status", r.status},
                   {"started", r.started}, {"ended", r.ended}, {"duration_s", r.duration_s}, {"gpu", r.gpu},
                   {"host", r.host}, {"pid", r.pid}, {"log", r.log}, {"message", r.message}, {"job_id", r.job_id},
                   {"job_state", r.job_state}});
  if (json) {
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  for (const auto& r : *runs) {
    std::string where = r.gpu.empty() ? "" : "gpu " + r.gpu;
    if (!r.job_id.empty())
      where = fmt::format("job {} on {}{} {}", r.job_id, r.host.empty() ? "?" : r.host, r.gpu.empty() ? "" : " gpu " + r.gpu,
                          r.job_state);
    std::printf("%-15s %-11s %-9s %-40s %8.1fs %s\n", r.invocation.c_str(), r.status.c_str(), r.kind.c_str(),
                r.name.c_str(), r.duration_s, where.c_str());
    if (r.status == "failed" && !r.message.empty()) std::printf("%15s %s\n", "", r.message.c_str());
  }
  return kExitOk;
}

int cmd_graph(const Common& c, const runner::StepRegistry& reg) {
  Passes passes(false);
  auto r = load_and_plan(c, {}, reg, true, false, passes);
  if (auto* rc = std::get_if<int>(&r)) return *rc;
  auto& l = std::get<Loaded>(r);
  const auto& g = l.planned.graph;
  std::printf("digraph qbuild {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n");
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& n = g.nodes[i];
    bool cached = !n.is_source() && l.project->store().contains(n.key);
    std::string label = n.kind + "\\n" + n.name + "\\n" + n.key.substr(0, 12);
    std::string style = n.is_source() ? "shape=note" : cached ? "style=filled, fillcolor=\"#d8f0d8\"" : !n.available ? "style=dashed" : "";
    std::string esc;
    for (char ch : label) esc += ch == '"' ? std::string("\\\"") : std::string(1, ch);
    std::printf("  n%zu [label=\"%s\"%s%s];\n", i, esc.c_str(), style.empty() ? "" : ", ", style.c_str());
  }
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    for (const auto& in : g.nodes[i].inputs) std::printf("  n%d -> n%zu [label=\"%s\"];\n", in.node, i, in.role.c_str());
  std::printf("}\n");
  return kExitOk;
}

namespace {

// Config files of the pipeline that are links to nothing: the loader cannot see them, and gc
// must not take "no config" for "not needed".
std::vector<std::string> dangling_configs(const std::filesystem::path& root, const std::string& pipeline_dir) {
  std::vector<std::string> out;
  for (const char* stage : {"1-trans", "2-quant", "3-eval"}) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root / pipeline_dir / stage, ec)) {
      auto ext = e.path().extension().string();
      std::error_code ec2;
      if ((ext == ".yaml" || ext == ".yml") && e.is_symlink(ec2) && !std::filesystem::exists(e.path(), ec2))
        out.push_back(pipeline_dir + "/" + stage + "/" + e.path().filename().string());
    }
  }
  return out;
}

std::string mb(std::uint64_t bytes) { return fmt::format("{:.1f} MB", static_cast<double>(bytes) / 1e6); }

}  // namespace

int cmd_gc(const Common& c, const std::vector<std::string>& targets, const GcArgs& a, const runner::StepRegistry& reg) {
  // gc keeps what the configs need: "the configs" must be all of them.
  if (!c.selection.trans.empty() || !c.selection.quant.empty() || !c.selection.eval.empty() || !targets.empty()) {
    std::fprintf(stderr,
                 "qbuild: error: gc keeps what every config under %s/ needs and deletes the rest; it refuses "
                 "--trans-config, --quant-config, --eval-config and targets, which would make it delete the "
                 "other configs' artifacts. Run `qbuild gc` alone.\n",
                 c.selection.pipeline_dir.c_str());
    return kExitUsage;
  }
  if (auto dangling = dangling_configs(c.root, c.selection.pipeline_dir); !dangling.empty()) {
    for (const auto& d : dangling) std::fprintf(stderr, "%s: error: the config is a link to nothing\n", d.c_str());
    std::fprintf(stderr, "qbuild: gc refuses to run while a config cannot be read (its artifacts would look unneeded); nothing was deleted\n");
    return kExitConfig;
  }
  Passes passes(false);
  auto r = load_and_plan(c, {}, reg, a.dry_run, a.no_wait, passes, /*exclusive_store=*/true);
  if (auto* rc = std::get_if<int>(&r)) return *rc;
  auto& l = std::get<Loaded>(r);
  if (l.project->layout().shared_store()) {
    std::fprintf(stderr,
                 "qbuild: error: the cache is shared (cache: %s in %s/project.yaml): other checkouts' artifacts would "
                 "look unneeded here; gc refuses. Delete objects from %s/objects/ by hand, knowing who uses them.\n",
                 l.project->layout().store().c_str(), c.selection.pipeline_dir.c_str(), l.project->layout().store().c_str());
    return kExitConfig;
  }
  std::set<std::string> live;  // never empty: load_and_plan refuses a pipeline without configs
  for (const auto& n : l.planned.graph.nodes)
    if (!n.is_source()) live.insert(n.key);
  runner::GcOptions go;
  go.keep_days = a.keep_days;
  go.all = a.all;
  auto plan = runner::plan_gc(*l.project, live, go, unix_time_now());
  std::printf("gc: %s/ needs %zu artifact(s); %s %zu other object(s), %s\n", c.selection.pipeline_dir.c_str(),
              live.size(), a.dry_run ? "would delete" : "deleting", plan.remove.size(), mb(plan.remove_bytes).c_str());
  if (!plan.kept_recent.empty())
    std::printf("gc: keeping %zu unneeded object(s), %s, built in the last %d day(s) (--all or --keep-days deletes them)\n",
                plan.kept_recent.size(), mb(plan.kept_recent_bytes).c_str(), a.keep_days);
  for (const auto& it : plan.remove)
    std::printf("%s %s %s %s (%s)\n", a.dry_run ? "would delete" : "deleting", it.key.c_str(), it.kind.c_str(),
                it.name.c_str(), mb(it.bytes).c_str());
  if (a.dry_run) {
    std::printf("would free %zu object(s), %s\n", plan.remove.size(), mb(plan.remove_bytes).c_str());
    return kExitOk;
  }
  auto n = runner::apply_gc(*l.project, plan);
  if (!n.is_ok()) return fail(n.status());
  std::printf("freed %d object(s), %s\n", *n, mb(plan.remove_bytes).c_str());
  return kExitOk;
}

int cmd_verify(const Common& c, const std::vector<std::string>& targets, bool no_wait, const runner::StepRegistry& reg) {
  std::unique_ptr<runner::Project> project;
  std::vector<std::string> keys;
  bool selected = !targets.empty() || !c.selection.trans.empty() || !c.selection.quant.empty() || !c.selection.eval.empty();
  if (selected) {  // the artifacts those targets need
    Passes passes(false);
    auto r = load_and_plan(c, targets, reg, false, no_wait, passes);
    if (auto* rc = std::get_if<int>(&r)) return *rc;
    auto& l = std::get<Loaded>(r);
    for (int i : l.planned.selected) {
      const auto& n = l.planned.graph.node(i);
      if (!n.is_source() && l.project->store().contains(n.key)) keys.push_back(n.key);
    }
    project = std::move(l.project);
  } else {  // every object: no config needed, so a broken config does not stop a check
    runner::OpenOptions oo;
    oo.no_wait = no_wait;
    oo.note = "qbuild verify";
    auto layout = layout_only(c);
    if (auto* rc = std::get_if<int>(&layout)) return *rc;
    auto p = runner::Project::open(std::get<store::Layout>(layout), oo);
    if (!p.is_ok()) return fail(p.status());
    project = std::move(*p);
    print_warnings(*project);
  }
  std::size_t warned = project->warnings().size();
  const bool tty = ::isatty(2);
  auto r = runner::verify_objects(*project, keys, [&](const std::string& key, int i, int n) {
    if (tty) std::fprintf(stderr, "\rverifying %d/%d %s", i + 1, n, key.c_str());
  });
  if (tty) std::fprintf(stderr, "\r\033[K");
  for (std::size_t i = warned; i < project->warnings().size(); ++i)
    std::fprintf(stderr, "qbuild: damaged: %s\n", project->warnings()[i].c_str());
  if (!r.is_ok()) return fail(r.status());
  if (r->damaged.empty()) {
    std::printf("verified %d object(s), %s: all intact\n", r->checked, mb(r->bytes).c_str());
    return kExitOk;
  }
  std::printf("verified %d object(s), %s: %zu damaged, moved to cache/quarantine/; the next qbuild rebuilds them\n",
              r->checked, mb(r->bytes).c_str(), r->damaged.size());
  return kExitBuildFailed;
}

int cmd_report(const Common& c, const std::vector<std::string>& targets, const runner::StepRegistry& reg) {
  Passes passes(c.verbose);
  auto r = load_and_plan(c, {}, reg, /*read_only=*/true, false, passes);
  if (auto* rc = std::get_if<int>(&r)) return *rc;
  auto& l = std::get<Loaded>(r);
  auto datasets = report_datasets(l.planned.graph, *l.project, targets);
  if (!datasets.is_ok()) return fail(datasets.status());
  if (datasets->empty()) {
    std::fprintf(stderr, "qbuild: error: the pipeline '%s' has no eval config, so there is no report to write\n",
                 c.selection.pipeline_dir.c_str());
    return kExitUsage;
  }
  int rc = write_and_print_reports(*l.project, l.planned.graph, *datasets);
  passes.done("report");
  return rc;
}

}  // namespace qb::cli
