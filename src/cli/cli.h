// The command-line front end: a table of subcommands (see cli.cc). Only this layer prints
// errors and chooses exit codes.
#pragma once

namespace qb::cli {

// Exit codes (documented in `qbuild --help` and the README).
inline constexpr int kExitOk = 0;
inline constexpr int kExitBuildFailed = 1;   // a step failed
inline constexpr int kExitUsage = 2;         // bad command line
inline constexpr int kExitConfig = 3;        // config errors (all printed)
inline constexpr int kExitBusy = 4;          // another qbuild holds the project lock (--no-wait)
inline constexpr int kExitInterrupted = 130; // Ctrl-C

int run_main(int argc, char** argv);

}  // namespace qb::cli
