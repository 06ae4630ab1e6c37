// Run records of steps that ran as Slurm jobs: a step on a compute node never writes the SQLite
// index (SQLite on a network file system corrupts), so it writes its run as a small JSON file
// in the checkout's cache/runs/, and the invoking qbuild — which owns the index — ingests the
// files after Ninja returns and when it starts (the files of a crashed invocation).
//
// cache/runs/<key>.<job id>.json, format 1 (written atomically: temp file + rename):
//   {"format": 1,
//    "run": {"invocation", "key", "kind", "name", "status", "started", "ended", "duration_s",
//            "host", "gpu", "pid", "log", "message", "job_id", "job_state"},
//    "quarantined": [keys of inputs the step found damaged and moved to quarantine/]}
// The step writes it when it starts (status "running") and when it ends (ok, hit, failed,
// interrupted); `qbuild job`, which waited for the job on the submitting machine, adds Slurm's
// final state, and writes the failure itself when the job died without a word (node failure,
// SIGKILL after a time limit, cancelled before the step started).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/project.h"
#include "store/index.h"
#include "store/layout.h"

namespace qb::runner {

inline constexpr int kRunRecordFormat = 1;

struct RunRecord {
  store::RunRow run;
  std::vector<std::string> quarantined;

  nlohmann::json to_json() const;
  static Result<RunRecord> from_json(const nlohmann::json& j, const std::string& where);
};

std::filesystem::path run_record_path(const store::Layout& layout, const std::string& key, const std::string& job_id);
Status write_run_record(const std::filesystem::path& path, const RunRecord& rec);
Result<RunRecord> read_run_record(const std::filesystem::path& path);
// The records under cache/runs/, sorted by file name; a file that does not parse is returned as
// its error.
std::vector<std::pair<std::filesystem::path, Result<RunRecord>>> list_run_records(const store::Layout& layout);

// Moves every finished record into the index (with the artifact its step published, and
// dropping the rows of inputs it quarantined) and deletes the file. A "running" record whose
// Slurm job has ended — the step died without writing its end — is recorded as failed with
// Slurm's state, which is also appended to the step's log; one whose job still runs stays.
// An unreadable file is moved aside (<name>.bad) with a warning. Returns how many were ingested.
Result<int> ingest_run_records(Project& project);

}  // namespace qb::runner
