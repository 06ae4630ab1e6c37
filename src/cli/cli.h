// The command-line front end: a table of subcommands (cli.cc). Only this layer prints errors and
// chooses exit codes. `run_main` takes the registry of step kinds so that tests can run the same
// front end with test-only kinds (tests/e2e/qbuild_testkit.cc).
#pragma once

#include "runner/step_registry.h"

namespace qb::cli {

// Exit codes (documented in `qbuild --help` and the README).
inline constexpr int kExitOk = 0;
inline constexpr int kExitBuildFailed = 1;    // a step failed, or a step kind is not built in
inline constexpr int kExitUsage = 2;          // bad command line or unknown target
inline constexpr int kExitConfig = 3;         // config errors (all printed)
inline constexpr int kExitBusy = 4;           // another qbuild holds the project lock (--no-wait)
inline constexpr int kExitInterrupted = 130;  // Ctrl-C / SIGTERM

int run_main(int argc, char** argv, const runner::StepRegistry& registry);

}  // namespace qb::cli
