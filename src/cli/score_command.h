// `qbuild score --dataset gsm8k|mmlu FILE.jsonl`: score raw model outputs the way the eval step
// does (evalscope 1.12.0's rules, eval::score_output) and show, per line, what was scored, which
// extraction rule fired and why the answer counts or not. Torch-free.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace qb::cli {

struct ScoreArgs {
  std::string dataset;
  std::string file;
  std::string remove_until;
  bool json = false;
  CLI::App* command = nullptr;
};

void add_score_command(CLI::App& app, ScoreArgs& a);
// The exit code when `score` was given, or -1.
int run_score_command(const ScoreArgs& a);

}  // namespace qb::cli
