// Helpers shared by the pipeline suite's tests: run the real qbuild binary in a project folder
// and read what it wrote.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace qb::pipeline_test {

struct Out {
  int code = -1;
  std::string text;  // stdout + stderr
};

// `qbuild ARGS` (shell words) run in `root`.
inline Out run_qbuild(const std::filesystem::path& root, const std::string& args) {
  std::string cmd = "cd '" + root.string() + "' && '" QB_QBUILD "' " + args + " 2>&1";
  Out o;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) o.text.append(buf, n);
  int st = ::pclose(p);
  o.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return o;
}

inline std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Non-empty lines.
inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  for (std::string l; std::getline(s, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

}  // namespace qb::pipeline_test
