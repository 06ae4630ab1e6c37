// Runs a shell command line for the tests that drive the qbuild binary (tests/cli, tests/e2e,
// tests/pipeline): stdout and stderr together, and the exit code (-1 when it did not exit).
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace qb::testing {

struct CommandOutput {
  int code = -1;
  std::string text;  // stdout + stderr
};

inline CommandOutput run_command(const std::string& command_line) {
  const std::string cmd = command_line + " 2>&1";
  CommandOutput o;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return o;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) o.text.append(buf, n);
  const int st = ::pclose(p);
  o.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return o;
}

}  // namespace qb::testing
