#include "runner/step_runner.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "runner/gpu_claim.h"
#include "runner/project.h"
#include "store/index.h"
#include "store/object_store.h"
#include "util/file_lock.h"
#include "util/fs.h"
#include "util/strings.h"
#include "util/subprocess.h"

namespace qb::runner {

namespace stdfs = std::filesystem;

namespace {

Result<nlohmann::json> read_json(const stdfs::path& p) {
  QB_ASSIGN_OR_RETURN(std::string text, fs::read_file(p));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return corrupt("'" + p.string() + "' is not valid JSON");
  return j;
}

// The log folder of this invocation (set by `qbuild` for the steps Ninja runs).
stdfs::path log_dir(const store::Layout& layout) {
  if (const char* d = std::getenv("QBUILD_LOG_DIR"); d && *d) return d;
  return layout.logs() / (timestamp_compact() + "_step");
}

std::string invocation_id() {
  if (const char* d = std::getenv("QBUILD_INVOCATION"); d && *d) return d;
  return "manual-" + timestamp_compact();
}

Status write_replay_script(const stdfs::path& path, const store::Layout& layout, const std::string& kind,
                           const std::string& key, const std::string& name) {
  std::string root = stdfs::absolute(layout.root()).string();
  std::string s = "#!/bin/sh\n";
  s += "# Replays the " + kind + " step of '" + name + "' (key " + key + ") exactly as qbuild ran it.\n";
  s += "# When the artifact exists this is a cache hit; pass --force to rebuild it.\n";
  s += "cd " + shell_quote(root) + " || exit 1\n";
  s += "exec " + shell_quote(self_executable().string()) + " --project " + shell_quote(root) + " step " + kind + " " +
       key + " \"$@\"\n";
  QB_TRY(fs::write_file_atomic(path, s));
  std::error_code ec;
  stdfs::permissions(path, stdfs::perms::owner_exec | stdfs::perms::group_exec | stdfs::perms::others_exec,
                     stdfs::perm_options::add, ec);
  return Status::ok();
}

struct Interrupt {
  stdfs::path index_path, tmp_dir;
  std::int64_t run_id = 0;
  double started = 0;
};
Interrupt g_interrupt;

// A thread that waits for SIGINT/SIGTERM (blocked in every other thread), records the run as
// interrupted and leaves without publishing. The half-written temporary folder is deleted here
// or, failing that, at the next qbuild start.
void start_signal_thread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set]() {
    int sig = 0;
    sigwait(&set, &sig);
    if (g_interrupt.run_id) {
      auto idx = store::Index::open(g_interrupt.index_path, store::IndexAccess::kReadWrite);
      if (idx.is_ok())
        (void)idx->end_run(g_interrupt.run_id, "interrupted", unix_time_now() - g_interrupt.started,
                           std::string("signal ") + strsignal(sig));
    }
    if (!g_interrupt.tmp_dir.empty()) {
      std::error_code ec;
      stdfs::remove_all(g_interrupt.tmp_dir, ec);
    }
    spdlog::error("interrupted by signal {}", strsignal(sig));
    spdlog::shutdown();
    ::_exit(130);
  }).detach();
}

}  // namespace

Status run_step(const store::Layout& layout, const StepRegistry& registry, const std::string& kind,
                const std::string& key, const StepOptions& opts) {
  QB_ASSIGN_OR_RETURN_CTX(nlohmann::json spec, read_json(layout.node_file(key)),
                          "node " + key + " (run `qbuild` to regenerate the graph)");
  if (spec.value("kind", "") != kind)
    return invalid_argument("node " + key + " is a '" + spec.value("kind", "") + "' step, not '" + kind + "'");
  const StepKind* sk = registry.find(kind);
  if (!sk) return unavailable("step kind '" + kind + "' is not available in this build of qbuild");
  spec::ProjectSpec project;  // a step run before any build (by hand) gets the defaults
  if (auto p = read_json(layout.cache() / "project.json"); p.is_ok()) {
    QB_ASSIGN_OR_RETURN_CTX(project, spec::ProjectSpec::from_json(*p), "cache/project.json (run `qbuild` to regenerate it)");
  }

  start_signal_thread();
  std::string name = spec.value("name", key);
  std::string log_name = spec.value("log_name", kind + "_" + key.substr(0, 12));

  // Logging: the step's own file, plus warnings and errors on stderr (Ninja shows them).
  stdfs::path ldir = log_dir(layout);
  QB_TRY(fs::make_dirs(ldir));
  stdfs::path log_path = ldir / (log_name + ".log");
  auto file_sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_path.string(), false);
  auto err_sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  err_sink->set_level(spdlog::level::warn);
  auto logger = std::make_shared<spdlog::logger>(log_name, spdlog::sinks_init_list{file_sink, err_sink});
  logger->set_level(spdlog::level::debug);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  QB_TRY(write_replay_script(ldir / (log_name + ".sh"), layout, kind, key, name));
  spdlog::info("qbuild step {} {} ({})", kind, key, name);

  store::ObjectStore store(layout);
  QB_ASSIGN_OR_RETURN(FileLock store_lock,
                      lock_store_for_step(layout, opts.force, "qbuild step " + kind + " " + key + (opts.force ? " --force" : "")));
  QB_ASSIGN_OR_RETURN(FileLock node_lock, FileLock::acquire(layout.node_lock(key), "step " + key));
  QB_ASSIGN_OR_RETURN_CTX(store::Index index, store::Index::open(layout.index_db(), store::IndexAccess::kReadWrite),
                          "the index (run qbuild to rebuild it)");

  store::RunRow run;
  run.invocation = invocation_id();
  run.key = key;
  run.kind = kind;
  run.name = name;
  run.started = unix_time_now();
  run.host = hostname();
  run.pid = ::getpid();
  run.log = stdfs::relative(log_path, layout.root()).string();

  if (store.contains(key) && !opts.force) {
    run.status = "hit";
    QB_ASSIGN_OR_RETURN(std::int64_t id, index.begin_run(run));
    QB_TRY(index.end_run(id, "hit", 0, "artifact already in the store"));
    spdlog::info("cache hit: artifact already in the store");
    return Status::ok();
  }

  StepContext ctx;
  ctx.kind = kind;
  ctx.key = key;
  ctx.name = name;
  ctx.params = spec.value("params", nlohmann::json::object());
  ctx.settings = spec.value("settings", nlohmann::json::object());
  ctx.project_root = stdfs::absolute(layout.root());
  ctx.project = project;
  ctx.cpu_threads = project.cpu_threads;
  ctx.partial_dir = layout.partial(key);
  const auto verify_start = std::chrono::steady_clock::now();
  for (const auto& in : spec.value("inputs", nlohmann::json::array())) {
    std::string role = in.value("role", "");
    std::string ikey = in.value("key", "");
    if (!in.value("source", false)) {
      std::string what = "input '" + role + "' (" + in.value("name", "") + ", key " + ikey + ")";
      if (!store.contains(ikey)) return not_found(what + " is not in the store; run qbuild to build it");
      if (Status v = store.verify(ikey, store::VerifyLevel::kChecksum); !v.is_ok()) {
        if (v.code() != Code::kCorrupt) return v.with_context(what);
        // Building on damaged bytes would publish a wrong artifact under a right key.
        QB_ASSIGN_OR_RETURN(stdfs::path dest, store.quarantine(ikey, v.message()));
        (void)index.remove_artifact(ikey);
        std::string msg = what + " is damaged: " + v.message() + "; moved it to " +
                          stdfs::relative(dest, layout.root()).string() + "; run qbuild to rebuild it";
        spdlog::error("{}", msg);
        run.status = "failed";
        if (auto id = index.begin_run(run); id.is_ok()) (void)index.end_run(*id, "failed", 0, msg);
        std::fprintf(stderr, "qbuild: %s '%s' failed; log: %s\n", kind.c_str(), name.c_str(), log_path.c_str());
        return corrupt(msg);
      }
    }
    ctx.inputs[role] = ctx.project_root / in.value("path", "");
    ctx.input_keys[role] = ikey;
    ctx.input_names[role] = in.value("name", "");
  }
  spdlog::info("inputs verified against their checksums in {:.2f}s",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - verify_start).count());

  GpuClaim gpu_claim;
  if (sk->gpu) {
    std::vector<int> devices = project.devices;
    if (ctx.settings.contains("devices") && !devices.empty()) devices = ctx.settings["devices"].get<std::vector<int>>();
    if (!devices.empty()) {
      const int count = ctx.settings.value("data_parallel", 1);  // a data-parallel generate node's workers
      QB_ASSIGN_OR_RETURN(gpu_claim, claim_gpus(layout, devices, count, "step " + kind + " " + name));
      run.gpu = gpu_claim.visible();
      ctx.gpus = gpu_claim.ids;
      ::setenv("CUDA_VISIBLE_DEVICES", run.gpu.c_str(), 1);
      ctx.device = "cuda";
      // The run starts when it holds its device: the index's [started, ended] of the runs on one
      // GPU never overlap, and a step's duration excludes the wait.
      const double now = unix_time_now();
      const double waited = now - run.started;
      run.started = now;
      std::string after;
      if (waited >= 0.5) {  // shorter is the lock's own cost, not a wait for another step
        ctx.meta["gpu_wait_s"] = waited;
        after = fmt::format(" after waiting {:.1f}s for it", waited);
      }
      spdlog::info("running on GPU {} (CUDA_VISIBLE_DEVICES={}){}", run.gpu, run.gpu, after);
    } else {
      ctx.device = project.device == "cuda" ? "cuda" : "cpu";
    }
  }

  run.status = "running";
  QB_ASSIGN_OR_RETURN(std::int64_t run_id, index.begin_run(run));
  QB_ASSIGN_OR_RETURN(fs::TempDir tmp, store.begin(key));
  g_interrupt = {layout.index_db(), tmp.path(), run_id, run.started};
  ctx.out_dir = tmp.path();

  Status st;
  try {
    st = sk->run(ctx);
  } catch (const std::exception& e) {  // libtorch's c10::Error lands here: the one place it is caught
    st = internal_error(std::string("exception: ") + e.what());
  }
  double duration = unix_time_now() - run.started;
  if (!st.is_ok()) {
    spdlog::error("{} failed after {:.1f}s: {}", kind, duration, st.to_string());
    (void)index.end_run(run_id, "failed", duration, st.to_string());
    std::fprintf(stderr, "qbuild: %s '%s' failed; log: %s\n", kind.c_str(), name.c_str(), log_path.c_str());
    return st;
  }

  store::Manifest m;
  m.key = key;
  m.kind = kind;
  m.name = name;
  m.identity = spec.value("identity", "");
  m.qbuild_version = QBUILD_VERSION_STRING;
  m.params = ctx.params;
  for (const auto& [role, k] : ctx.input_keys) m.inputs[role] = k;
  m.meta = ctx.meta;
  m.meta["code_version"] = sk->code_version;
  m.meta["device"] = ctx.device == "cuda" ? "cuda:" + run.gpu : "cpu";
  m.meta["host"] = run.host;
  m.meta["duration_s"] = duration;
  struct rusage ru {};
  if (::getrusage(RUSAGE_SELF, &ru) == 0) m.meta["peak_rss_gib"] = static_cast<double>(ru.ru_maxrss) / (1024.0 * 1024.0);
  if (opts.force && store.contains(key)) QB_TRY(store.remove(key));
  QB_ASSIGN_OR_RETURN(store::Manifest published, store.commit(std::move(tmp), m));
  g_interrupt.tmp_dir.clear();
  QB_TRY(index.upsert_artifact(published));
  QB_TRY(index.end_run(run_id, "ok", duration, ""));
  std::error_code ec;
  stdfs::remove_all(ctx.partial_dir, ec);
  spdlog::info("{} done in {:.1f}s: {}", kind, duration, stdfs::relative(layout.object_dir(key), layout.root()).string());
  return Status::ok();
}

}  // namespace qb::runner
