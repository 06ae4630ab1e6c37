#include "runner/build.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <thread>

#include "ninja/build_file.h"
#include "util/fs.h"
#include "util/strings.h"
#include "util/subprocess.h"

namespace qb::runner {

namespace stdfs = std::filesystem;

Result<Planned> plan_build(Project& project, const graph::GraphInput& input, const graph::KindCatalog& kinds,
                           const std::vector<std::string>& targets) {
  Planned p;
  QB_ASSIGN_OR_RETURN(p.graph, graph::build_graph(input, project.layout().root(), kinds, project.index()));
  QB_ASSIGN_OR_RETURN(p.selected, graph::select_targets(p.graph, targets));
  // The cheap check (store/object_store.h): sizes, and the checksum of a file whose mtime is not
  // the one recorded at publish, through the index's memo so a copied cache is hashed once.
  std::map<std::string, std::string> damaged;
  auto memo = [&](const stdfs::path& f) { return project.index().file_hash(f); };
  for (int i : p.selected) {
    const auto& n = p.graph.node(i);
    if (n.is_source() || !project.store().contains(n.key)) continue;
    Status s = project.store().verify(n.key, store::VerifyLevel::kChanged, memo);
    if (s.is_ok()) continue;
    if (s.code() != Code::kCorrupt) return s;
    damaged[n.key] = s.message();
    if (project.read_only()) project.warn(s.message() + "; the next qbuild moves it to cache/quarantine/ and rebuilds it");
    else QB_TRY(project.quarantine(n.key, s.message()));
  }
  QB_ASSIGN_OR_RETURN(p.plan, graph::make_plan(p.graph, p.selected, project.store(), project.index(), damaged));
  return p;
}

Status write_build_files(Project& project, const Planned& planned, spec::ProjectSpec res, int jobs) {
  const auto& L = project.layout();
  QB_TRY(fs::make_dirs(L.nodes()));
  for (int i : planned.selected) {
    const auto& n = planned.graph.node(i);
    if (n.is_source() || !n.available) continue;
    std::string text = ninja::node_spec(planned.graph, i, L).dump(2) + "\n";
    auto path = L.node_file(n.key);
    auto old = fs::read_file(path);
    if (!old.is_ok() || *old != text) QB_TRY(fs::write_file_atomic(path, text));
  }
  const int parallel = std::max(1, jobs > 0 ? jobs : res.jobs);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  res.cpu_threads = std::max(1, cores / parallel);
  QB_TRY(fs::write_file_atomic(L.project_json(), res.to_json().dump(2) + "\n"));
  ninja::BuildFileOptions bo;
  std::string root = stdfs::absolute(L.root()).lexically_normal().string();
  if (!root.empty() && root.back() == '/') root.pop_back();
  bo.qbuild_command = shell_quote(self_executable().string()) + " --project " + shell_quote(root);
  // On a GPU project, one step per device; on the CPU, as many steps as run in parallel. Under
  // Slurm, GPU steps are jobs (the `slurm` pool); the gpu pool then holds only cache hits.
  bo.gpu_pool_depth = res.devices.empty() || res.executor == "slurm" ? parallel : static_cast<int>(res.devices.size());
  bo.project = &res;
  bo.local_pool_depth = parallel;
  for (const auto& item : planned.plan.items)
    if (item.action == graph::Action::kCached) bo.cached.insert(planned.graph.node(item.node).key);
  QB_ASSIGN_OR_RETURN(std::string text, ninja::generate_build_file(planned.graph, planned.selected, L, bo));
  auto old = fs::read_file(L.build_ninja());
  if (!old.is_ok() || *old != text) QB_TRY(fs::write_file_atomic(L.build_ninja(), text));
  return Status::ok();
}

Result<int> run_ninja(Project& project, const NinjaOptions& opts) {
  auto ninja = find_on_path("ninja");
  if (ninja.empty()) ninja = find_on_path("ninja-build");
  if (ninja.empty()) return unavailable("'ninja' is not on PATH (Debian: apt-get install ninja-build)");
  const auto& L = project.layout();
  std::vector<std::string> argv = {ninja.string(), "-C", L.root().string(), "-f", "cache/build.ninja"};
  if (opts.jobs > 0) argv.insert(argv.end(), {"-j", std::to_string(opts.jobs)});
  argv.insert(argv.end(), {"-k", std::to_string(opts.keep_going)});
  if (opts.verbose) argv.push_back("-v");
  auto log_dir = stdfs::absolute(L.logs() / opts.invocation);
  QB_TRY(fs::make_dirs(log_dir));
  std::map<std::string, std::string> env = {{"QBUILD_LOG_DIR", log_dir.string()},
                                            {"QBUILD_INVOCATION", opts.invocation},
                                            {"NINJA_STATUS", "[%f/%t %es] "}};
  if (::isatty(1)) env["QBUILD_TTY_PROGRESS"] = "1";  // steps draw their progress line on the terminal
  // Ninja and its steps hold the project locks with us, and Ninja dies with us (project.h).
  ProcessOptions po;
  po.env = std::move(env);
  po.inherit_fds = project.lock_fds();
  po.env[kStoreLockFdEnv] = std::to_string(project.store_lock_fd());
  po.die_with_parent = true;
  QB_ASSIGN_OR_RETURN(ProcessResult r, run_process(argv, po));
  if (r.interrupted) return 130;
  if (r.signaled) return 128 + r.signal;
  return r.exit_code;
}

namespace {

// Points `link` (relative to root) at `target` (absolute), replacing what was there atomically.
Status relink(const stdfs::path& root, const std::string& link, const stdfs::path& target) {
  stdfs::path l = root / link;
  QB_TRY(fs::make_dirs(l.parent_path()));
  stdfs::path rel = stdfs::relative(target, l.parent_path());
  std::error_code ec;
  if (stdfs::is_symlink(l, ec) && stdfs::read_symlink(l, ec) == rel) return Status::ok();
  if (stdfs::exists(l, ec) && !stdfs::is_symlink(l, ec))
    return invalid_argument("'" + link + "' exists and is not a link qbuild made; move it away");
  stdfs::path tmp = l.parent_path() / ("." + l.filename().string() + ".tmp-" + std::to_string(::getpid()));
  stdfs::remove(tmp, ec);
  stdfs::create_directory_symlink(rel, tmp, ec);
  if (ec) return io_error("link '" + link + "': " + ec.message());
  stdfs::rename(tmp, l, ec);
  if (ec) return io_error("link '" + link + "': " + ec.message());
  return Status::ok();
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += "\"\"";
    else out.push_back(c);
  }
  return out + "\"";
}

std::string scalar(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v.get<double>());
    return buf;
  }
  return v.dump();
}

// meta.scores flattened: {"datasets": {"mmlu": {"acc": .8}}, "fidelity": {"kl": .1}} ->
// {"mmlu_acc": .8, "fidelity_kl": .1}.
void flatten(const nlohmann::json& j, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::string k = prefix.empty() ? it.key() : prefix + "_" + it.key();
      if (prefix.empty() && it.key() == "datasets") k = "";
      flatten(it.value(), k, out);
    }
  } else if (!j.is_array()) {
    out[prefix] = scalar(j);
  }
}

// Rows come from the index, which Project::open completed from the manifests (every object in
// the store has its row), so a CSV never loses a row because the index had lost it.
Status write_results(Project& project, const graph::Graph& g, const std::string& dataset_name) {
  struct Row {
    std::map<std::string, std::string> cols;
  };
  std::vector<Row> rows;
  std::set<std::string> current_identities;
  auto add = [&](const store::ArtifactRow& a, const std::string& variant, const std::string& trans,
                 const std::string& quant, const std::string& status) {
    Row r;
    r.cols["variant"] = variant;
    r.cols["trans"] = trans;
    r.cols["quant"] = quant;
    r.cols["status"] = status;
    r.cols["eval_key"] = a.key;  // the score node
    r.cols["generate_key"] = a.inputs.value("generation", "");
    r.cols["model_key"] = a.meta.value("model_key", "");  // the score step records its generation's model
    r.cols["eval_set_key"] = a.inputs.value("eval_set", "");
    r.cols["qbuild_version"] = a.meta.value("qbuild_version", QBUILD_VERSION_STRING);
    flatten(a.meta.value("scores", nlohmann::json::object()), "", r.cols);
    rows.push_back(std::move(r));
  };
  // The base model first: the row every variant is compared with.
  for (const auto& n : g.nodes) {
    if (n.kind != "score" || !n.settings.value("base", false) || n.settings.value("dataset_name", "") != dataset_name)
      continue;
    QB_ASSIGN_OR_RETURN(auto a, project.index().artifact(n.key));
    if (a) add(*a, n.settings.value("variant", n.name), "(source)", "(none)", "base model");
  }
  for (const auto& e : g.evals) {
    if (e.dataset_name != dataset_name) continue;
    const auto& n = g.node(e.node);
    current_identities.insert(n.identity);
    QB_ASSIGN_OR_RETURN(auto a, project.index().artifact(n.key));
    if (!a) continue;
    auto v = std::find_if(g.variants.begin(), g.variants.end(), [&](const graph::Variant& x) { return x.name == e.variant; });
    add(*a, e.variant, v->trans_name, v->quant_name, "current");
  }
  // Variants no longer configured keep their last row, marked stale (`qbuild gc` drops them).
  QB_ASSIGN_OR_RETURN(auto all, project.index().artifacts_of_kind("score"));
  std::map<std::string, store::ArtifactRow> latest;
  const std::string prefix = "score:" + dataset_name + "/";
  for (auto& a : all) {
    if (!starts_with(a.identity, prefix) || starts_with(a.identity, prefix + "base/") ||
        current_identities.count(a.identity))
      continue;
    if (!project.store().contains(a.key)) continue;
    latest[a.identity] = a;  // ordered by created_unix: the last wins
  }
  for (const auto& [id, a] : latest) {
    auto rest = id.substr(prefix.size());  // "<trans>/<quant>"
    auto slash = rest.find('/');
    add(a, a.name, rest.substr(0, slash), slash == std::string::npos ? "" : rest.substr(slash + 1),
        "stale (not in the current configs)");
  }
  // Columns: identity first, scores in sorted order, provenance last.
  std::vector<std::string> head = {"variant", "trans", "quant"};
  std::vector<std::string> tail = {"status", "model_key", "eval_set_key", "eval_key", "generate_key",
                                   "qbuild_version"};
  std::set<std::string> mid;
  for (const auto& r : rows)
    for (const auto& [k, v] : r.cols)
      if (std::find(head.begin(), head.end(), k) == head.end() && std::find(tail.begin(), tail.end(), k) == tail.end())
        mid.insert(k);
  std::vector<std::string> cols = head;
  cols.insert(cols.end(), mid.begin(), mid.end());
  cols.insert(cols.end(), tail.begin(), tail.end());
  // Score columns: per dataset first, then overall, then fidelity (alphabetical within each).
  auto rank = [](const std::string& c) { return starts_with(c, "fidelity_") ? 2 : starts_with(c, "overall_") ? 1 : 0; };
  std::stable_sort(cols.begin() + static_cast<std::ptrdiff_t>(head.size()), cols.end() - static_cast<std::ptrdiff_t>(tail.size()),
                   [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
  // Rows: the base model first, then variants by name.
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    bool ab = a.cols.at("status") == "base model", bb = b.cols.at("status") == "base model";
    if (ab != bb) return ab;
    return a.cols.at("variant") < b.cols.at("variant");
  });
  std::string out;
  for (std::size_t i = 0; i < cols.size(); ++i) out += (i ? "," : "") + csv_field(cols[i]);
  out += "\n";
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < cols.size(); ++i) {
      auto it = r.cols.find(cols[i]);
      out += (i ? "," : "") + csv_field(it == r.cols.end() ? "" : it->second);
    }
    out += "\n";
  }
  return fs::write_file_atomic(project.layout().results_csv(dataset_name), out);
}

Status copy_if_changed(const stdfs::path& from, const stdfs::path& to) {
  QB_ASSIGN_OR_RETURN(std::string text, fs::read_file(from));
  auto old = fs::read_file(to);
  if (old.is_ok() && *old == text) return Status::ok();
  std::error_code ec;
  stdfs::create_directories(to.parent_path(), ec);
  if (ec) return io_error("creating '" + to.parent_path().string() + "': " + ec.message());
  return fs::write_file_atomic(to, text);
}

Status copy_eval_outputs(const stdfs::path& root, const stdfs::path& obj, const std::string& work_dir,
                         const std::string& variant) {
  const stdfs::path out = root / work_dir;
  std::error_code ec;
  std::set<stdfs::path> have;
  for (const auto& e : stdfs::directory_iterator(obj / "predictions", ec)) {
    if (!e.is_regular_file()) continue;
    have.insert(e.path().filename());
    QB_TRY(copy_if_changed(e.path(), out / "predictions" / variant / e.path().filename()));
  }
  // A dataset dropped from the config leaves no stale predictions beside the fresh ones.
  for (const auto& e : stdfs::directory_iterator(out / "predictions" / variant, ec))
    if (e.is_regular_file() && e.path().extension() == ".jsonl" && !have.count(e.path().filename()))
      stdfs::remove(e.path(), ec);
  if (stdfs::exists(obj / "report.json", ec)) QB_TRY(copy_if_changed(obj / "report.json", out / "reports" / (variant + ".json")));
  if (stdfs::exists(obj / "config.json", ec)) QB_TRY(copy_if_changed(obj / "config.json", out / "configs" / (variant + ".json")));
  return Status::ok();
}

}  // namespace

Status collect(Project& project, const Planned& planned) {
  const auto& g = planned.graph;
  const auto& L = project.layout();
  for (int i : planned.selected) {
    const auto& n = g.node(i);
    if (n.is_source() || !project.store().contains(n.key)) continue;
    for (const auto& link : n.links) {
      if (starts_with(link, "data/models/")) {
        QB_TRY(relink(L.root(), link, stdfs::absolute(L.object_dir(n.key))));
      } else if (ends_with(link, ".jsonl")) {
        QB_TRY(copy_if_changed(L.object_dir(n.key) / "eval_set.jsonl", L.root() / link));
      }
    }
  }
  // Eval outputs in the seed's layout: <work_dir>/{predictions/<variant>/<dataset>.jsonl,
  // reports/<variant>.json, configs/<variant>.json}, copied from the artifacts.
  for (int i : planned.selected) {
    const auto& n = g.node(i);
    if (n.kind != "score" || !project.store().contains(n.key)) continue;
    QB_TRY(copy_eval_outputs(L.root(), L.object_dir(n.key), n.settings.value("work_dir", "outputs"),
                             n.settings.value("variant", n.name)));
  }
  std::set<std::string> datasets;
  for (const auto& e : g.evals)
    if (planned.selected.count(e.node)) datasets.insert(e.dataset_name);
  for (const auto& d : datasets) QB_TRY(write_results(project, g, d));
  return Status::ok();
}

}  // namespace qb::runner
