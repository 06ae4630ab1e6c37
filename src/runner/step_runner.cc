#include "runner/step_runner.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <memory>
#include <optional>
#include <thread>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "runner/gpu_claim.h"
#include "runner/project.h"
#include "runner/run_record.h"
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

// Where this run is recorded: the index (a step on this machine, beside the qbuild that owns
// it), or a run record file in cache/runs/ (a step inside a Slurm job: run_record.h).
class RunSink {
 public:
  virtual ~RunSink() = default;
  virtual Status begin(const store::RunRow& r) = 0;
  virtual Status end(const std::string& status, double duration_s, const std::string& message) = 0;
  virtual Status published(const store::Manifest& m) = 0;
  virtual Status quarantined(const std::string& key) = 0;
  virtual Status end_from_signal(const std::string& status, double duration_s, const std::string& message) {
    return end(status, duration_s, message);
  }
};

class IndexSink : public RunSink {
 public:
  IndexSink(store::Index index, stdfs::path path) : index_(std::move(index)), path_(std::move(path)) {}
  Status begin(const store::RunRow& r) override {
    QB_ASSIGN_OR_RETURN(id_, index_.begin_run(r));
    return Status::ok();
  }
  Status end(const std::string& status, double duration_s, const std::string& message) override {
    return index_.end_run(id_, status, duration_s, message);
  }
  Status published(const store::Manifest& m) override { return index_.upsert_artifact(m); }
  Status quarantined(const std::string& key) override { return index_.remove_artifact(key); }
  // From the signal thread: its own connection, not the one the step's thread may be using.
  Status end_from_signal(const std::string& status, double duration_s, const std::string& message) override {
    QB_ASSIGN_OR_RETURN(store::Index idx, store::Index::open(path_, store::IndexAccess::kReadWrite));
    return idx.end_run(id_, status, duration_s, message);
  }

 private:
  store::Index index_;
  stdfs::path path_;
  std::int64_t id_ = 0;
};

class FileSink : public RunSink {
 public:
  explicit FileSink(stdfs::path path) : path_(std::move(path)) {}
  Status begin(const store::RunRow& r) override {
    rec_.run = r;
    return write_run_record(path_, rec_);
  }
  Status end(const std::string& status, double duration_s, const std::string& message) override {
    rec_.run.status = status;
    rec_.run.duration_s = duration_s;
    rec_.run.ended = rec_.run.started + duration_s;
    rec_.run.message = message;
    return write_run_record(path_, rec_);
  }
  Status published(const store::Manifest&) override { return Status::ok(); }  // ingested from the store
  Status quarantined(const std::string& key) override {
    rec_.quarantined.push_back(key);
    return Status::ok();  // written with the end
  }

 private:
  stdfs::path path_;
  RunRecord rec_;
};

struct Interrupt {
  RunSink* sink = nullptr;  // set once the run has begun
  stdfs::path tmp_dir;
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
    if (g_interrupt.sink)
      (void)g_interrupt.sink->end_from_signal("interrupted", unix_time_now() - g_interrupt.started,
                                  std::string("signal ") + strsignal(sig));
    if (!g_interrupt.tmp_dir.empty()) {
      std::error_code ec;
      stdfs::remove_all(g_interrupt.tmp_dir, ec);
    }
    spdlog::error("interrupted by signal {}", strsignal(sig));
    spdlog::shutdown();
    ::_exit(130);
  }).detach();
}

// The Slurm job this step runs in: set when the kind runs as a job under executor: slurm and
// the step is inside one (SLURM_JOB_ID). A step replayed by hand from logs/ runs locally.
struct InJob {
  std::string id, node, partition, gpus;
  int cpus = 0;  // SLURM_CPUS_PER_TASK, else the CPUs Slurm gave the job on this node
};
std::optional<InJob> in_slurm_job(const spec::ProjectSpec& project, const std::string& kind, bool gpu) {
  const char* id = std::getenv("SLURM_JOB_ID");
  if (!id || !*id || !project.slurm_job(kind, gpu)) return std::nullopt;
  auto env = [](const char* k) { const char* v = std::getenv(k); return std::string(v ? v : ""); };
  InJob j;
  j.id = id;
  j.node = env("SLURMD_NODENAME").empty() ? hostname() : env("SLURMD_NODENAME");
  j.partition = env("SLURM_JOB_PARTITION");
  j.gpus = env("CUDA_VISIBLE_DEVICES");
  j.cpus = std::atoi(env("SLURM_CPUS_PER_TASK").c_str());
  if (j.cpus <= 0) j.cpus = std::atoi(env("SLURM_CPUS_ON_NODE").c_str());
  return j;
}

}  // namespace

Status run_step(const store::Layout& checkout, const StepRegistry& registry, const std::string& kind,
                const std::string& key, const StepOptions& opts) {
  QB_ASSIGN_OR_RETURN_CTX(nlohmann::json spec, read_json(checkout.node_file(key)),
                          "node " + key + " (run `qbuild` to regenerate the graph)");
  if (spec.value("kind", "") != kind)
    return invalid_argument("node " + key + " is a '" + spec.value("kind", "") + "' step, not '" + kind + "'");
  const StepKind* sk = registry.find(kind);
  if (!sk) return unavailable("step kind '" + kind + "' is not available in this build of qbuild");
  spec::ProjectSpec project;  // a step run before any build (by hand) gets the defaults
  if (auto p = read_json(checkout.project_json()); p.is_ok()) {
    QB_ASSIGN_OR_RETURN_CTX(project, spec::ProjectSpec::from_json(*p), "cache/project.json (run `qbuild` to regenerate it)");
  }
  const store::Layout layout(checkout.root(), project.cache);  // the store may be elsewhere (`cache:`)
  const std::optional<InJob> job = in_slurm_job(project, kind, sk->gpu);

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
  if (job)
    spdlog::info("Slurm job {} on node {}{}{}", job->id, job->node,
                 job->partition.empty() ? "" : ", partition " + job->partition,
                 job->gpus.empty() ? "" : ", CUDA_VISIBLE_DEVICES=" + job->gpus);

  store::ObjectStore store(layout);
  QB_ASSIGN_OR_RETURN(FileLock store_lock,
                      lock_store_for_step(layout, opts.force, "qbuild step " + kind + " " + key + (opts.force ? " --force" : "")));
  QB_ASSIGN_OR_RETURN(FileLock node_lock, FileLock::acquire(layout.node_lock(key), "step " + key));
  // A step in a Slurm job writes a run record file; only the invoking qbuild writes the index.
  std::unique_ptr<RunSink> sink;
  FileLock index_lock;
  if (job) {
    sink = std::make_unique<FileSink>(run_record_path(layout, key, job->id));
  } else {
    // With a shared store the store lock guards the objects of every checkout; this checkout's
    // index has its own lock, which its rebuild takes exclusively (runner/project.h).
    if (layout.shared_store()) {
      QB_ASSIGN_OR_RETURN(index_lock, FileLock::acquire(layout.index_lock(), "step " + key, LockMode::kShared));
    }
    QB_ASSIGN_OR_RETURN_CTX(store::Index index, store::Index::open(layout.index_db(), store::IndexAccess::kReadWrite),
                            "the index (run qbuild to rebuild it)");
    sink = std::make_unique<IndexSink>(std::move(index), layout.index_db());
  }

  store::RunRow run;
  run.invocation = invocation_id();
  run.key = key;
  run.kind = kind;
  run.name = name;
  run.started = unix_time_now();
  run.host = job ? job->node : hostname();
  run.pid = ::getpid();
  run.log = stdfs::relative(log_path, layout.root()).string();
  if (job) {
    run.job_id = job->id;
    run.job_state = "RUNNING";
    run.gpu = job->gpus;
  }

  if (store.contains(key) && !opts.force) {
    run.status = "hit";
    QB_TRY(sink->begin(run));
    // Built by someone else (another checkout sharing the store, or a run this index missed):
    // this checkout's index learns the artifact, as the results CSVs are chosen from it.
    if (auto m = store.read_manifest(key); m.is_ok()) QB_TRY(sink->published(*m));
    QB_TRY(sink->end("hit", 0, "artifact already in the store"));
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
  ctx.cpu_threads = job && job->cpus > 0 ? job->cpus : project.cpu_threads;
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
        (void)sink->quarantined(ikey);
        std::string msg = what + " is damaged: " + v.message() + "; moved it to " +
                          dest.lexically_proximate(layout.root()).string() + "; run qbuild to rebuild it";
        spdlog::error("{}", msg);
        run.status = "failed";
        if (sink->begin(run).is_ok()) (void)sink->end("failed", 0, msg);
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
  if (sk->gpu && job) {
    // Slurm gave this job its GPUs (GRES) and set CUDA_VISIBLE_DEVICES: no local device locks.
    ctx.device = project.device == "cuda" ? "cuda" : "cpu";
    if (const char* v = std::getenv("CUDA_VISIBLE_DEVICES"); v && ctx.device == "cuda") {
      run.gpu = v;
      std::stringstream ids(v);
      for (std::string id; std::getline(ids, id, ',');) ctx.gpus.push_back(std::atoi(id.c_str()));
    }
  } else if (sk->gpu) {
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
  QB_TRY(sink->begin(run));
  QB_ASSIGN_OR_RETURN(fs::TempDir tmp, store.begin(key));
  g_interrupt = {sink.get(), tmp.path(), run.started};
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
    (void)sink->end("failed", duration, st.to_string());
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
  if (job) m.meta["slurm_job"] = {{"id", job->id}, {"node", job->node}, {"gpus", job->gpus}};
  struct rusage ru {};
  if (::getrusage(RUSAGE_SELF, &ru) == 0) m.meta["peak_rss_gib"] = static_cast<double>(ru.ru_maxrss) / (1024.0 * 1024.0);
  if (opts.force && store.contains(key)) QB_TRY(store.remove(key));
  QB_ASSIGN_OR_RETURN(store::Manifest published, store.commit(std::move(tmp), m));
  g_interrupt.tmp_dir.clear();
  QB_TRY(sink->published(published));
  QB_TRY(sink->end("ok", duration, ""));
  std::error_code ec;
  stdfs::remove_all(ctx.partial_dir, ec);
  spdlog::info("{} done in {:.1f}s: {}", kind, duration, layout.object_dir(key).lexically_proximate(layout.root()).string());
  return Status::ok();
}

}  // namespace qb::runner
