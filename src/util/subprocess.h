// Running a child process (qbuild runs `ninja`; tests run `qbuild`). The child inherits stdio.
// While it runs, SIGINT and SIGTERM reaching the parent are forwarded to the child (a terminal's
// Ctrl-C reaches both; the child decides how to stop) and reported in ProcessResult::interrupted.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "util/status.h"

namespace qb {

struct ProcessResult {
  int exit_code = -1;  // valid when !signaled
  bool signaled = false;
  int signal = 0;
  bool interrupted = false;  // the parent got SIGINT/SIGTERM while waiting
};

struct ProcessOptions {
  std::map<std::string, std::string> env;  // set in the child's environment
  std::filesystem::path cwd;               // empty = the parent's
  // Descriptors the child inherits although they are O_CLOEXEC here (qbuild passes its project
  // locks to Ninja this way: see util/file_lock.h).
  std::vector<int> inherit_fds;
  // The child gets SIGTERM when this process dies, however it dies (PR_SET_PDEATHSIG): Ninja
  // must not outlive a killed qbuild (it then stops its own steps the same way).
  bool die_with_parent = false;
};

Result<ProcessResult> run_process(const std::vector<std::string>& argv, const ProcessOptions& opts);
Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const std::map<std::string, std::string>& env_overrides = {},
                                  const std::filesystem::path& cwd = {});

// Runs `argv` to completion with its standard output and error captured (stdin: /dev/null) —
// for short queries of other programs (squeue, scontrol). Code::kNotFound when the program is
// not on PATH.
struct CapturedOutput {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out, err;
};
Result<CapturedOutput> run_capture(const std::vector<std::string>& argv);

// Absolute path of the running executable (/proc/self/exe).
std::filesystem::path self_executable();

// The command line this process was started with (main() saves it), for exec_with_own_args.
void save_command_line(int argc, char** argv);
// Replaces this process with `exe`, given this process's own arguments (argv[0] becomes `exe`):
// how the torch-free qbuild hands a step or a model tool to qbuild-torch. Returns only on
// failure, with the reason.
Status exec_with_own_args(const std::filesystem::path& exe);

// Finds `name` on PATH; empty when absent.
std::filesystem::path find_on_path(const std::string& name);

}  // namespace qb
