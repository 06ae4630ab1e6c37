// The no-op memo (cache/noop.memo): a build with nothing to do answers in the time of one stat
// per file it depends on, instead of loading the configs, building the graph, planning,
// generating build.ninja, collecting the CSVs and checking the reports (issue 14 part 7: at
// 2,523 edges, 23 ms instead of that work's 105 ms; Ninja's own no-op: 12 ms; bench/RESULTS.md).
//
// A build that ends as a no-op (every selected step cached, none unavailable, no warning)
// records
//   - the invocation's fingerprint: qbuild's version, the executable's path and stat (a rebuilt
//     qbuild has new code versions), the project root, the selection, targets and -j, the core
//     count (cache/project.json's cpu_threads) and the environment the outputs depend on;
//   - every input it read, with its stat when read (util/dep_log.h): the pipeline folder, its
//     stage folders and configs, project.yaml (or that there is none), the rule templates, the
//     source models, datasets and calibration files, each of their files and folders;
//   - the store as the plan saw it: the index file (and that it has no -wal, -shm or journal),
//     objects/ and each of its shard folders (publishing or deleting an artifact moves one),
//     tmp/ and cache/runs/, and every file of every selected artifact with the stat the cheap
//     check passed it with (cache/checked.memo);
//   - every output it keeps (cache/outputs.memo: node files, build.ninja, project.json, eval
//     sets, eval outputs, CSVs, reports, model cards) and the data/models links;
//   - what it printed: its line, and the config warnings (a function of the configs recorded).
// The next build with the same fingerprint, all of whose recorded paths still have their stats
// (absent ones still absent), prints that line and exits 0: everything the full path computes
// comes from those files, so it would find the same nothing to do and write nothing. Any
// difference (an edited or added config, a new dataset file, a touched artifact file, a deleted
// CSV, a rebuilt qbuild, another -j) takes the full path, which records again when it ends in a
// no-op. Like the other memos (util/memo_file.h) it can only save work: a missing, torn or
// foreign memo reads as none. (The limit of every stat-keyed cache: a same-size edit within the
// file system's timestamp granularity of the recorded stat goes unseen.)
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "runner/build.h"
#include "runner/project.h"
#include "util/dep_log.h"
#include "util/hash.h"

namespace qb::runner {

// The fingerprint of an invocation in `root`: `parts` say what its command line selected.
Digest noop_fingerprint(const std::filesystem::path& root, const std::vector<std::string>& parts);

// What a no-op printed: on stdout, on stderr.
struct NoopOutput {
  std::string out, err;
};

// What the recorded no-op printed, when the memo in `layout` answers `fingerprint`.
std::optional<NoopOutput> noop_memo_answer(const store::Layout& layout, const Digest& fingerprint);

// Records a no-op of `planned` (see above): `inputs` from the dependency log, `extra` further
// paths whose stat the outputs depend on (the report's Vega folder). Call with the index closed
// (Project::close_index) and the locks still held. Not recorded (ok) when a selected artifact has
// no check record.
Status record_noop_memo(const Project& project, const Planned& planned, const Digest& fingerprint,
                        const NoopOutput& printed, const std::vector<fs::DependencyLog::Entry>& inputs,
                        const std::vector<std::filesystem::path>& extra);

}  // namespace qb::runner
