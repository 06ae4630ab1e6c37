// `qbuild report [TARGET...]` and the reports a build writes (src/report): target resolution,
// the command's output, and the build's hook, whose failure is a warning and never fails the build.
// The hook goes through the outputs memo (runner/output_memo.h), so a no-op build reads none of
// the report's inputs and writes nothing.
#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"
#include "runner/build.h"
#include "runner/project.h"

namespace qb::cli {

// The help text under `qbuild report --help`.
extern const char* const kReportFooter;

// Dataset names of the report targets: results/<name>.csv, results/<name>.html or <name>, each an
// eval config's dataset_name or a results CSV on disk. Empty targets: every eval config.
// Code::kInvalidArgument names an unknown target and the known ones.
Result<std::vector<std::string>> report_datasets(const graph::Graph& g, const runner::Project& p,
                                                 const std::vector<std::string>& targets);

// Writes the reports of `datasets` (cards included) and prints what was written; errors on
// stderr. Returns the exit code.
int write_and_print_reports(runner::Project& p, const graph::Graph& g, const std::vector<std::string>& datasets);

// After a build (failed steps or not): the reports of the evals it selected, unless the memo
// knows they are up to date. Problems come back as warning lines (they never change the build's
// exit code); what was written is printed on stdout.
std::vector<std::string> reports_after_build(runner::Project& p, const runner::Planned& planned);

}  // namespace qb::cli
