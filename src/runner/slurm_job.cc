#include "runner/slurm_job.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>

#include "runner/run_record.h"
#include "runner/slurm.h"
#include "util/fs.h"
#include "util/strings.h"
#include "util/subprocess.h"

namespace qb::runner {

namespace stdfs = std::filesystem;

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

// The newest job of this edge (highest id: a retried srun submits a new one).
std::optional<SlurmJob> find_job(const std::string& comment) {
  auto jobs = jobs_with_comment(comment);
  if (!jobs.is_ok()) return std::nullopt;
  std::optional<SlurmJob> best;
  for (const auto& j : *jobs)
    if (j.comment == comment && (!best || std::atoll(j.id.c_str()) > std::atoll(best->id.c_str()))) best = j;
  return best;
}

}  // namespace

Result<int> run_job(const store::Layout& checkout, const std::string& key, const std::vector<std::string>& srun_argv) {
  if (srun_argv.empty()) return invalid_argument("qbuild job: no command after '--'");
  const std::string invocation = env_or("QBUILD_INVOCATION", "manual-" + timestamp_compact());
  const std::string comment = job_comment(env_or("QBUILD_JOB_TAG", job_tag(invocation, checkout.root())), key);

  QB_ASSIGN_OR_RETURN(ProcessResult pr, run_process(srun_argv));
  const bool interrupted = pr.interrupted;
  bool ok = !interrupted && !pr.signaled && pr.exit_code == 0;

  // Which job ran this edge, and how it ended.
  std::optional<SlurmJob> job = find_job(comment);
  if (job && interrupted && job->active()) {
    if (Status s = cancel_jobs({job->id}); !s.is_ok()) std::fprintf(stderr, "qbuild: %s\n", s.message().c_str());
  }
  if (job) {
    // A finished job leaves COMPLETING within KillWait; a cancelled one too. Wait a little for
    // the final word, no longer than a user waits after Ctrl-C.
    if (auto fin = wait_until_finished(job->id, interrupted ? 5.0 : 30.0); fin.is_ok() && *fin) job = **fin;
  }

  // The step's own record, when the step got as far as writing one.
  RunRecord rec;
  stdfs::path rec_path;
  bool have_record = false;
  if (job) {
    rec_path = run_record_path(checkout, key, job->id);
    if (auto r = read_run_record(rec_path); r.is_ok()) {
      rec = *r;
      have_record = true;
    }
  }
  // srun may exit 0 for a job Slurm killed (seen: NODE_FAIL): success is the step's own word.
  if (ok && job && !(have_record && (rec.run.status == "ok" || rec.run.status == "hit"))) ok = false;
  if (ok) {
    if (have_record) {
      rec.run.job_state = job->state;
      QB_TRY(write_run_record(rec_path, rec));
    }
    return 0;
  }

  // Failed or interrupted: say why, in the log and the record.
  auto node = fs::read_file(checkout.node_file(key));
  nlohmann::json spec = node.is_ok() ? nlohmann::json::parse(*node, nullptr, false) : nlohmann::json::object();
  if (spec.is_discarded()) spec = nlohmann::json::object();
  const std::string kind = spec.value("kind", "");
  const std::string name = spec.value("name", key);
  const std::string log_name = spec.value("log_name", kind + "_" + key.substr(0, 12));
  stdfs::path log_dir = env_or("QBUILD_LOG_DIR", (checkout.logs() / invocation).string());
  std::string why;
  if (job) {
    why = job->describe();
  } else {
    why = "srun " + std::string(pr.signaled ? "was killed by signal " + std::to_string(pr.signal)
                                            : "exited with status " + std::to_string(pr.exit_code)) +
          " and Slurm has no job of this step (comment " + comment + "): it was not submitted or is forgotten";
  }
  if (!have_record) {
    store::RunRow& r = rec.run;
    r.invocation = invocation;
    r.key = key;
    r.kind = kind;
    r.name = name;
    r.started = unix_time_now();
    r.ended = r.started;
    r.log = (log_dir / (log_name + ".log")).lexically_proximate(checkout.root()).string();
    r.host = job ? job->node : "";
    r.pid = 0;
    r.job_id = job ? job->id : "";
    rec_path = run_record_path(checkout, key, job ? job->id : "nojob-" + std::to_string(::getpid()));
  }
  store::RunRow& r = rec.run;
  const std::string step_said = r.status == "failed" ? r.message : "";
  r.status = interrupted ? "interrupted" : "failed";
  if (r.ended <= r.started) {
    r.ended = unix_time_now();
    r.duration_s = r.ended - r.started;
  }
  r.job_state = job ? job->state : "";
  r.message = step_said.empty() ? why : step_said + "; " + why;
  QB_TRY(write_run_record(rec_path, rec));
  {
    std::error_code ec;
    stdfs::create_directories((checkout.root() / r.log).parent_path(), ec);
    std::ofstream out(checkout.root() / r.log, std::ios::app);
    out << "[" << timestamp_iso_utc() << "] [qbuild job] " << (interrupted ? "interrupted: " : "failed: ") << why << "\n";
  }
  if (!interrupted)
    std::fprintf(stderr, "qbuild: %s '%s' failed: %s; log: %s\n", kind.c_str(), name.c_str(), why.c_str(), r.log.c_str());
  return interrupted ? 130 : 1;
}

}  // namespace qb::runner
