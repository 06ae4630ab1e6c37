// What qbuild asks Slurm, through its commands (squeue, scontrol, sacct, scancel; no library:
// the submitting machine needs only the client tools, as for srun in rules/slurm.ninja).
//
// A job qbuild submits is named after its node (the step log's name) and carries the comment
// "qbuild:<invocation>@<checkout>:<node key>", which is how an invocation finds its own jobs — to
// cancel them when interrupted, to say which job ran a step, and for `qbuild status` — without
// touching another invocation's or another checkout's jobs. <checkout> (a hash of the checkout's
// path) is there because invocations are named by the second they start: two checkouts sharing
// a cache, started at once, build the same keys under the same invocation name (seen in
// tests/slurm: each took the other's job for its own).
//
// Finished jobs: scontrol knows them for MinJobAge seconds (300 by default); sacct, when the
// cluster keeps accounting, for ever. qbuild asks scontrol first, then sacct.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace qb::runner {

struct SlurmJob {
  std::string id, state, reason, node, exit_code, comment;
  // PENDING, RUNNING, COMPLETING, ... (the job is not finished).
  bool active() const;
  // "Slurm job 7 on vm: CANCELLED (reason: None, exit code 143:0)".
  std::string describe() const;
};

// "<invocation>@<checkout>": what build.ninja's srun lines find in $QBUILD_JOB_TAG.
std::string job_tag(const std::string& invocation, const std::filesystem::path& checkout_root);
// "qbuild:<tag>:<key>", and the prefix that finds every job of a tag (an invocation).
std::string job_comment(const std::string& tag, const std::string& key);
std::string tag_comment_prefix(const std::string& tag);

// True when the Slurm client commands are on PATH.
bool slurm_available();

// The jobs slurmctld knows (any state, every user's visible ones) whose comment starts with
// `prefix`.
Result<std::vector<SlurmJob>> jobs_with_comment(const std::string& prefix);
// One job: scontrol, else sacct; nullopt when neither knows it.
Result<std::optional<SlurmJob>> query_job(const std::string& id);
// Polls query_job until the job is no longer active or `timeout_s` passed; the last state seen.
Result<std::optional<SlurmJob>> wait_until_finished(const std::string& id, double timeout_s);
// scancel for each id (a job that already ended is not an error).
Status cancel_jobs(const std::vector<std::string>& ids);

}  // namespace qb::runner
