#include "runner/build.h"

#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <cstdio>
#include <map>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "ninja/build_file.h"
#include "runner/output_memo.h"
#include "runner/slurm.h"
#include "store/check_memo.h"
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
  // the one recorded at publish, through the index's memo so a copied cache is hashed once; an
  // artifact whose files all have the stats of its last check passes through the check memo.
  std::map<std::string, std::string> damaged;
  std::unordered_set<std::string> present;
  auto memo = [&](const stdfs::path& f) { return project.index().file_hash(f); };
  auto checked = store::CheckMemo::load(project.layout());
  for (int i : p.selected) {
    const auto& n = p.graph.node(i);
    if (n.is_source()) continue;
    auto ok = checked.check(project.store(), n.key, memo);
    if (ok.is_ok()) {
      if (*ok) present.insert(n.key);
      continue;
    }
    const Status& s = ok.status();
    if (s.code() != Code::kCorrupt) return s;
    damaged[n.key] = s.message();
    if (project.read_only()) project.warn(s.message() + "; the next qbuild moves it to cache/quarantine/ and rebuilds it");
    else QB_TRY(project.quarantine(n.key, s.message()));
  }
  // The memo only saves work: a cache it cannot be written to (full disk) costs the next plan
  // time, nothing else. Read-only commands change nothing.
  if (!project.read_only()) (void)checked.save(project.layout());
  QB_ASSIGN_OR_RETURN(p.plan, graph::make_plan(
                                  p.graph, p.selected, [&](const std::string& key) { return present.count(key) > 0; },
                                  project.index(), damaged));
  return p;
}

Status write_build_files(Project& project, const Planned& planned, spec::ProjectSpec res, int jobs) {
  const auto& L = project.layout();
  QB_TRY(fs::make_dirs(L.nodes()));
  // Each node file is written from its spec; the outputs memo knows one that is up to date by
  // the spec's fingerprint and the file's stat, without building the JSON or reading the file.
  auto memo = OutputMemo::load(L);
  for (int i : planned.selected) {
    const auto& n = planned.graph.node(i);
    if (n.is_source() || !n.available) continue;
    auto path = L.node_file(n.key);
    const Digest fp = ninja::node_spec_fingerprint(planned.graph, i);
    if (memo.fresh(path.string(), fp)) continue;
    std::string text = ninja::node_spec(planned.graph, i, L).dump(2) + "\n";
    auto old = fs::read_file(path);
    if (!old.is_ok() || *old != text) QB_TRY(fs::write_file_atomic(path, text));
    memo.record(path.string(), fp, {path});
  }
  const int parallel = std::max(1, jobs > 0 ? jobs : res.jobs);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  res.cpu_threads = std::max(1, cores / parallel);
  QB_TRY(write_if_changed(memo, L.project_json(), res.to_json().dump(2) + "\n"));
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
  QB_TRY(write_if_changed(memo, L.build_ninja(), text));
  // Like the check memo, this one only saves work.
  (void)memo.save(L);
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
                                            {"QBUILD_JOB_TAG", job_tag(opts.invocation, L.root())},
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

// Points friendly links (data/models/<variant>) at artifacts. A link holds the artifact's path
// relative to the link's folder, computed between canonical paths (as stdfs::relative would: a
// data/models/ that is itself a link elsewhere still gets a working link), with each folder
// canonicalized once per build rather than once per link.
class Linker {
 public:
  explicit Linker(const store::Layout& layout) : layout_(layout) {}

  // Points `link` (relative to root) at the artifact `key`, replacing what was there atomically;
  // a link that already says so costs one readlink.
  Status relink(const std::string& link, const std::string& key) {
    stdfs::path l = layout_.root() / link;
    QB_ASSIGN_OR_RETURN(const stdfs::path* parent, canonical_folder(l.parent_path()));
    if (objects_.empty()) objects_ = stdfs::weakly_canonical(stdfs::absolute(layout_.objects()));
    const std::string rel = (objects_ / key.substr(0, 2) / key).lexically_relative(*parent).string();
    char buf[4096];
    ssize_t n = ::readlink(l.c_str(), buf, sizeof buf);
    if (n >= 0 && std::string_view(buf, static_cast<std::size_t>(n)) == rel) return Status::ok();
    if (n < 0 && errno == EINVAL)  // there, and not a link
      return invalid_argument("'" + link + "' exists and is not a link qbuild made; move it away");
    std::error_code ec;
    stdfs::path tmp = l.parent_path() / ("." + l.filename().string() + ".tmp-" + std::to_string(::getpid()));
    stdfs::remove(tmp, ec);
    stdfs::create_directory_symlink(rel, tmp, ec);
    if (ec) return io_error("link '" + link + "': " + ec.message());
    stdfs::rename(tmp, l, ec);
    if (ec) return io_error("link '" + link + "': " + ec.message());
    return Status::ok();
  }

 private:
  // The folder, created if needed, canonicalized once.
  Result<const stdfs::path*> canonical_folder(const stdfs::path& dir) {
    auto it = folders_.find(dir.string());
    if (it != folders_.end()) return &it->second;
    QB_TRY(fs::make_dirs(dir));
    std::error_code ec;
    stdfs::path c = stdfs::weakly_canonical(stdfs::absolute(dir), ec);
    if (ec) return io_error("'" + dir.string() + "': " + ec.message());
    return &folders_.emplace(dir.string(), std::move(c)).first->second;
  }

  const store::Layout& layout_;
  stdfs::path objects_;
  std::map<std::string, stdfs::path> folders_;
};

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
// the store has its row), so a CSV never loses a row because the index had lost it. The rows are
// chosen from the rows' stamps; the CSV is rebuilt (rows read, JSON parsed, text compared)
// only when the outputs memo does not know that choice, or the file changed since.
Status write_results(Project& project, OutputMemo& memo, const graph::Graph& g, const std::string& dataset_name) {
  struct Pick {
    std::string key, variant, trans, quant, status;
    double created_unix = 0;
  };
  std::vector<Pick> picks;
  QB_ASSIGN_OR_RETURN(auto stamps, project.index().artifact_stamps("score"));
  std::unordered_map<std::string, const store::ArtifactStamp*> by_key;
  for (const auto& a : stamps) by_key[a.key] = &a;
  auto pick = [&](const store::ArtifactStamp& a, std::string variant, std::string trans, std::string quant,
                  std::string status) {
    picks.push_back({a.key, std::move(variant), std::move(trans), std::move(quant), std::move(status), a.created_unix});
  };
  // The base model first: the row every variant is compared with.
  for (const auto& n : g.nodes) {
    if (n.kind != "score" || !n.settings.value("base", false) || n.settings.value("dataset_name", "") != dataset_name)
      continue;
    if (auto a = by_key.find(n.key); a != by_key.end())
      pick(*a->second, n.settings.value("variant", n.name), "(source)", "(none)", "base model");
  }
  std::set<std::string> current_identities;
  std::unordered_map<std::string, const graph::Variant*> variants;
  for (const auto& v : g.variants) variants.emplace(v.name, &v);
  for (const auto& e : g.evals) {
    if (e.dataset_name != dataset_name) continue;
    const auto& n = g.node(e.node);
    current_identities.insert(n.identity);
    auto a = by_key.find(n.key);
    if (a == by_key.end()) continue;
    const graph::Variant* v = variants.at(e.variant);
    pick(*a->second, e.variant, v->trans_name, v->quant_name, "current");
  }
  // Variants no longer configured keep their last row, marked stale (`qbuild gc` drops them).
  std::map<std::string, const store::ArtifactStamp*> latest;
  const std::string prefix = "score:" + dataset_name + "/";
  for (const auto& a : stamps) {
    if (!starts_with(a.identity, prefix) || starts_with(a.identity, prefix + "base/") ||
        current_identities.count(a.identity))
      continue;
    if (!project.store().contains(a.key)) continue;
    latest[a.identity] = &a;  // ordered by created_unix: the last wins
  }
  for (const auto& [id, a] : latest) {
    auto rest = id.substr(prefix.size());  // "<trans>/<quant>"
    auto slash = rest.find('/');
    pick(*a, a->name, rest.substr(0, slash), slash == std::string::npos ? "" : rest.substr(slash + 1),
         "stale (not in the current configs)");
  }

  const auto csv = project.layout().results_csv(dataset_name);
  Hasher fp(Hasher::Explain::kSkip);
  // v2: the speed and memory columns (a CSV written by v1 lacks them).
  fp.salt("qbuild-results-csv-v2").str("qbuild_version", QBUILD_VERSION_STRING).str("dataset", dataset_name);
  for (const auto& p : picks) {
    fp.str("key", p.key).str("variant", p.variant).str("trans", p.trans).str("quant", p.quant).str("status", p.status);
    fp.bytes("created_unix", &p.created_unix, sizeof p.created_unix);
  }
  if (memo.fresh(csv.string(), fp.digest())) return Status::ok();

  std::vector<std::string> keys;
  for (const auto& p : picks) keys.push_back(p.key);
  QB_ASSIGN_OR_RETURN(auto full, project.index().artifacts(keys));
  struct Row {
    std::map<std::string, std::string> cols;
  };
  std::vector<Row> rows;
  for (const auto& p : picks) {
    auto it = full.find(p.key);
    if (it == full.end()) continue;  // removed since the stamps were read
    const store::ArtifactRow& a = it->second;
    Row r;
    r.cols["variant"] = p.variant;
    r.cols["trans"] = p.trans;
    r.cols["quant"] = p.quant;
    r.cols["status"] = p.status;
    r.cols["eval_key"] = a.key;  // the score node
    r.cols["generate_key"] = a.inputs.value("generation", "");
    r.cols["model_key"] = a.meta.value("model_key", "");  // the score step records its generation's model
    r.cols["eval_set_key"] = a.inputs.value("eval_set", "");
    r.cols["qbuild_version"] = a.meta.value("qbuild_version", QBUILD_VERSION_STRING);
    flatten(a.meta.value("scores", nlohmann::json::object()), "", r.cols);
    // Speed and memory of the generation this row scored: its rates from the score's meta, its
    // peak memory and device from the generate artifact's (the runner measures those).
    const auto gen = a.meta.value("generation", nlohmann::json::object());
    // A rate of 0 means that phase did not run (an eval of log-likelihood items only): no value.
    for (const char* k : {"prefill_tokens_per_s", "decode_tokens_per_s"})
      if (gen.contains(k) && gen[k].is_number() && gen[k].get<double>() > 0) r.cols[k] = scalar(gen[k]);
    rows.push_back(std::move(r));
  }
  std::vector<std::string> gen_keys;
  for (const auto& r : rows) gen_keys.push_back(r.cols.at("generate_key"));
  QB_ASSIGN_OR_RETURN(auto gens, project.index().artifacts(gen_keys));
  for (auto& r : rows) {
    auto g = gens.find(r.cols.at("generate_key"));
    if (g == gens.end()) continue;  // (deleted by gc: the row keeps its scores)
    for (const char* k : {"peak_gpu_gib", "peak_rss_gib"})
      if (g->second.meta.contains(k)) r.cols[k] = scalar(g->second.meta[k]);
    if (g->second.meta.contains("device")) r.cols["generate_device"] = scalar(g->second.meta["device"]);
  }
  // Columns: identity first, scores in sorted order, provenance last.
  std::vector<std::string> head = {"variant", "trans", "quant"};
  std::vector<std::string> tail = {"status", "model_key", "eval_set_key", "eval_key", "generate_key",
                                   "qbuild_version"};
  // Added after the provenance columns, so that every older column keeps its position.
  const std::vector<std::string> speed = {"prefill_tokens_per_s", "decode_tokens_per_s", "peak_gpu_gib",
                                          "peak_rss_gib", "generate_device"};
  auto in = [](const std::vector<std::string>& v, const std::string& k) { return std::find(v.begin(), v.end(), k) != v.end(); };
  std::set<std::string> mid;
  for (const auto& r : rows)
    for (const auto& [k, v] : r.cols)
      if (!in(head, k) && !in(tail, k) && !in(speed, k)) mid.insert(k);
  std::vector<std::string> cols = head;
  cols.insert(cols.end(), mid.begin(), mid.end());
  cols.insert(cols.end(), tail.begin(), tail.end());
  const std::size_t tail_end = cols.size();
  cols.insert(cols.end(), speed.begin(), speed.end());
  // Score columns: per dataset first, then overall, then fidelity (alphabetical within each).
  auto rank = [](const std::string& c) { return starts_with(c, "fidelity_") ? 2 : starts_with(c, "overall_") ? 1 : 0; };
  std::stable_sort(cols.begin() + static_cast<std::ptrdiff_t>(head.size()),
                   cols.begin() + static_cast<std::ptrdiff_t>(tail_end - tail.size()),
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
  auto old = fs::read_file(csv);
  if (!old.is_ok() || *old != out) QB_TRY(fs::write_file_atomic(csv, out));
  memo.record(csv.string(), fp.digest(), {csv});
  return Status::ok();
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

// What a copy out of an artifact is made from: the source file as it is now (an artifact
// replaced by a forced step has new files, hence new stats).
Digest copy_fingerprint(const char* what, const stdfs::path& from) {
  Hasher h(Hasher::Explain::kSkip);
  h.salt(what).str("from", from.string()).path_stat(from);
  return h.digest();
}

// copy_if_changed, skipped when the outputs memo knows the copy is up to date.
Status copy_if_changed(OutputMemo& memo, const stdfs::path& from, const stdfs::path& to) {
  const Digest fp = copy_fingerprint("qbuild-copy-v1", from);
  if (memo.fresh(to.string(), fp)) return Status::ok();
  QB_TRY(copy_if_changed(from, to));
  memo.record(to.string(), fp, {to});
  return Status::ok();
}

// An eval's outputs in the seed's layout, copied from its score artifact `obj`. One memo unit
// per artifact: its files as copied, and the variant's predictions folder (whose mtime moves
// when a file is added to or removed from it).
Status copy_eval_outputs(OutputMemo& memo, const stdfs::path& root, const stdfs::path& obj, const std::string& work_dir,
                         const std::string& variant) {
  const stdfs::path out = root / work_dir;
  const stdfs::path predictions = out / "predictions" / variant;
  const std::string unit = "eval outputs of " + obj.string();
  Hasher fph(Hasher::Explain::kSkip);
  fph.salt("qbuild-eval-outputs-v1").str("work_dir", out.string()).str("variant", variant);
  fph.digest_field("manifest", copy_fingerprint("", obj / store::Layout::kManifestName));
  const Digest fp = fph.digest();
  if (memo.fresh(unit, fp)) return Status::ok();
  std::vector<stdfs::path> wrote;
  std::error_code ec;
  std::set<stdfs::path> have;
  for (const auto& e : stdfs::directory_iterator(obj / "predictions", ec)) {
    if (!e.is_regular_file()) continue;
    have.insert(e.path().filename());
    QB_TRY(copy_if_changed(e.path(), predictions / e.path().filename()));
    wrote.push_back(predictions / e.path().filename());
  }
  // A dataset dropped from the config leaves no stale predictions beside the fresh ones.
  for (const auto& e : stdfs::directory_iterator(predictions, ec))
    if (e.is_regular_file() && e.path().extension() == ".jsonl" && !have.count(e.path().filename()))
      stdfs::remove(e.path(), ec);
  for (const auto& [from, to] : {std::pair{obj / "report.json", out / "reports" / (variant + ".json")},
                                 std::pair{obj / "config.json", out / "configs" / (variant + ".json")}}) {
    if (!stdfs::exists(from, ec)) continue;
    QB_TRY(copy_if_changed(from, to));
    wrote.push_back(to);
  }
  wrote.push_back(predictions);
  memo.record(unit, fp, wrote);
  return Status::ok();
}

}  // namespace

Status collect(Project& project, const Planned& planned) {
  const auto& g = planned.graph;
  const auto& L = project.layout();
  auto memo = OutputMemo::load(L);
  // What the plan found cached is still in the store: nothing deletes artifacts while a build
  // holds the project (runner/project.h). What was to run is looked up.
  std::unordered_set<int> cached;
  for (const auto& it : planned.plan.items)
    if (it.action == graph::Action::kCached) cached.insert(it.node);
  auto in_store = [&](int i) { return cached.count(i) || project.store().contains(g.node(i).key); };
  Linker linker(L);
  for (int i : planned.selected) {
    const auto& n = g.node(i);
    if (n.is_source() || n.links.empty() || !in_store(i)) continue;
    for (const auto& link : n.links) {
      if (starts_with(link, "data/models/")) {
        QB_TRY(linker.relink(link, n.key));
      } else if (ends_with(link, ".jsonl")) {
        QB_TRY(copy_if_changed(memo, L.object_dir(n.key) / "eval_set.jsonl", L.root() / link));
      }
    }
  }
  // Eval outputs in the seed's layout: <work_dir>/{predictions/<variant>/<dataset>.jsonl,
  // reports/<variant>.json, configs/<variant>.json}, copied from the artifacts.
  for (int i : planned.selected) {
    const auto& n = g.node(i);
    if (n.kind != "score" || !in_store(i)) continue;
    QB_TRY(copy_eval_outputs(memo, L.root(), L.object_dir(n.key), n.settings.value("work_dir", "outputs"),
                             n.settings.value("variant", n.name)));
  }
  std::set<std::string> datasets;
  for (const auto& e : g.evals)
    if (planned.selected.count(e.node)) datasets.insert(e.dataset_name);
  for (const auto& d : datasets) QB_TRY(write_results(project, memo, g, d));
  // The memo only saves work (see write_build_files).
  (void)memo.save(L);
  return Status::ok();
}

}  // namespace qb::runner
