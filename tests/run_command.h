// Runs a shell command line for the tests that drive the qbuild binary (tests/cli, tests/e2e,
// tests/pipeline): stdout and stderr together, and the exit code (-1 when it did not exit);
// run_command_split() keeps them apart, for tests of what goes to which stream.
#pragma once

#include <sys/wait.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
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

struct SplitOutput {
  int code = -1;
  std::string out;  // standard output
  std::string err;  // standard error
};

inline SplitOutput run_command_split(const std::string& command_line) {
  SplitOutput o;
  char err_path[] = "/tmp/qb_stderr_XXXXXX";
  const int fd = ::mkstemp(err_path);
  if (fd < 0) return o;
  ::close(fd);
  FILE* p = ::popen((command_line + " 2>'" + err_path + "'").c_str(), "r");
  if (p) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) o.out.append(buf, n);
    const int st = ::pclose(p);
    o.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  std::ifstream in(err_path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  o.err = ss.str();
  ::unlink(err_path);
  return o;
}

}  // namespace qb::testing
