#include "runner/slurm.h"

#include <chrono>
#include <map>
#include <sstream>
#include <thread>

#include "util/hash.h"
#include "util/strings.h"
#include "util/subprocess.h"

namespace qb::runner {

namespace {

// squeue's fields joined by the unit separator: no job name, reason or comment qbuild writes
// can contain it (names and keys have no control characters).
constexpr char kSep = '\x1f';

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\n') {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

Result<std::string> run_ok(const std::vector<std::string>& argv) {
  QB_ASSIGN_OR_RETURN(CapturedOutput r, run_capture(argv));
  if (r.exit_code != 0) {
    std::string err = r.err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return unavailable("'" + join(argv, " ") + "' failed (exit " + std::to_string(r.exit_code) + "): " + err);
  }
  return r.out;
}

// `scontrol show job -o <id>`: one line of Key=Value tokens. A job name with spaces splits into
// tokens too; the fields read here all come after JobName, so the last occurrence of each wins.
std::optional<SlurmJob> parse_scontrol(const std::string& line) {
  std::map<std::string, std::string> kv;
  std::istringstream in(line);
  std::string tok;
  while (in >> tok) {
    auto eq = tok.find('=');
    if (eq != std::string::npos) kv[tok.substr(0, eq)] = tok.substr(eq + 1);
  }
  if (!kv.count("JobId") || !kv.count("JobState")) return std::nullopt;
  SlurmJob j;
  j.id = kv["JobId"];
  j.state = kv["JobState"];
  j.reason = kv["Reason"];
  j.node = kv["NodeList"] == "(null)" ? "" : kv["NodeList"];
  j.exit_code = kv["ExitCode"];
  j.comment = kv["Comment"] == "(null)" ? "" : kv["Comment"];
  return j;
}

}  // namespace

bool SlurmJob::active() const {
  for (const char* s : {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD",
                        "REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "RESV_DEL_HOLD", "STOPPED"})
    if (state == s) return true;
  return false;
}

std::string SlurmJob::describe() const {
  std::string s = "Slurm job " + id + (node.empty() ? "" : " on " + node) + ": " + state;
  std::vector<std::string> more;
  if (!reason.empty() && reason != "None") more.push_back("reason: " + reason);
  if (!exit_code.empty() && exit_code != "0:0") more.push_back("exit code " + exit_code);
  if (!more.empty()) s += " (" + join(more, ", ") + ")";
  return s;
}

std::string job_tag(const std::string& invocation, const std::filesystem::path& checkout_root) {
  const std::string root = std::filesystem::absolute(checkout_root).lexically_normal().string();
  return invocation + "@" + hash_bytes(root.data(), root.size()).hex().substr(0, 8);
}

std::string job_comment(const std::string& tag, const std::string& key) { return tag_comment_prefix(tag) + key; }

std::string tag_comment_prefix(const std::string& tag) { return "qbuild:" + tag + ":"; }

bool slurm_available() { return !find_on_path("squeue").empty() && !find_on_path("scontrol").empty(); }

Result<std::vector<SlurmJob>> jobs_with_comment(const std::string& prefix) {
  const std::string fmt = std::string("%i") + kSep + "%T" + kSep + "%r" + kSep + "%N" + kSep + "%k";
  QB_ASSIGN_OR_RETURN(std::string out, run_ok({"squeue", "-h", "--states=all", "-o", fmt}));
  std::vector<SlurmJob> jobs;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    auto f = split(line, kSep);
    if (f.size() != 5 || !starts_with(f[4], prefix)) continue;
    jobs.push_back({f[0], f[1], f[2], f[3], "", f[4]});
  }
  return jobs;
}

Result<std::optional<SlurmJob>> query_job(const std::string& id) {
  auto sc = run_capture({"scontrol", "show", "job", "-o", id});
  if (sc.is_ok() && sc->exit_code == 0)
    if (auto j = parse_scontrol(sc->out)) return j;
  // Forgotten by slurmctld (older than MinJobAge): accounting, when the cluster keeps it.
  auto sa = run_capture({"sacct", "-n", "-P", "-X", "-j", id, "-o", "JobID,State,ExitCode,NodeList,Comment"});
  if (sa.is_ok() && sa->exit_code == 0) {
    std::istringstream in(sa->out);
    std::string line;
    while (std::getline(in, line)) {
      auto f = split(line, '|');
      if (f.size() < 5 || f[0] != id) continue;
      SlurmJob j;
      j.id = f[0];
      auto space = f[1].find(' ');  // "CANCELLED by 0"
      j.state = f[1].substr(0, space);
      if (space != std::string::npos) j.reason = f[1].substr(space + 1);
      j.exit_code = f[2];
      j.node = f[3] == "None assigned" ? "" : f[3];
      j.comment = f[4];
      return std::optional<SlurmJob>(j);
    }
  }
  if (!sc.is_ok()) return sc.status();
  return std::optional<SlurmJob>();
}

Result<std::optional<SlurmJob>> wait_until_finished(const std::string& id, double timeout_s) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    QB_ASSIGN_OR_RETURN(auto j, query_job(id));
    if (!j || !j->active() || std::chrono::steady_clock::now() >= until) return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

Status cancel_jobs(const std::vector<std::string>& ids) {
  if (ids.empty()) return Status::ok();
  std::vector<std::string> argv = {"scancel"};
  argv.insert(argv.end(), ids.begin(), ids.end());
  QB_ASSIGN_OR_RETURN(CapturedOutput r, run_capture(argv));
  // scancel exits non-zero for a job that already finished ("Job/step already completing or
  // completed"): that job needs no cancelling.
  if (r.exit_code != 0 && r.err.find("already") == std::string::npos && r.err.find("Invalid job id") == std::string::npos)
    return unavailable("scancel " + join(ids, " ") + ": " + r.err);
  return Status::ok();
}

}  // namespace qb::runner
