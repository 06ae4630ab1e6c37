// `qbuild job <key> -- srun ... <qbuild> step <kind> <key>`: what a Ninja edge runs for a step
// that is a Slurm job (rules/slurm.ninja; build.ninja spells out the srun line per edge). It runs
// srun, which submits the job and waits for it, and stays on the submitting machine to say what
// happened to the job, which the step inside cannot always say itself:
//  - the step recorded success (ok, or a cache hit): the run record gets Slurm's final state
//    (COMPLETED). srun's exit status alone is not trusted: it is 0 for a job lost to a node
//    failure;
//  - the job failed or was killed by Slurm (time limit, scancel, node failure, preemption): the
//    step fails, its log and run record name the job id and Slurm's state and reason, and the
//    next qbuild redoes it (nothing was published: publication is an atomic rename);
//  - qbuild was interrupted (Ctrl-C reaches srun through Ninja; --quit-on-interrupt stops the
//    job step): the job is scancel'ed if Slurm still has it, and the run is recorded as
//    interrupted.
// Exit status: srun's (0 on success), 1 for a failed job, 130 when interrupted.
#pragma once

#include <string>
#include <vector>

#include "store/layout.h"
#include "util/status.h"

namespace qb::runner {

Result<int> run_job(const store::Layout& checkout, const std::string& key, const std::vector<std::string>& srun_argv);

}  // namespace qb::runner
