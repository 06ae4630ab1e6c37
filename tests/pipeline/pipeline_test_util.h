// Helpers shared by the pipeline suite's tests: run the real qbuild binary in a project folder
// and read what it wrote.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "run_command.h"

namespace qb::pipeline_test {

using Out = qb::testing::CommandOutput;

// `qbuild ARGS` (shell words) run in `root`.
inline Out run_qbuild(const std::filesystem::path& root, const std::string& args) {
  return qb::testing::run_command("cd '" + root.string() + "' && '" QB_QBUILD "' " + args);
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
