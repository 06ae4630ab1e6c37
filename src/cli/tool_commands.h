// Model sanity-check tools on the command line: tokenize, detokenize, generate, logits, and
// random-model (a deterministic random checkpoint: the demo model, benchmark models). Results go
// to standard output, every log line to standard error.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "runner/model_tools.h"
#include "util/status.h"

namespace qb::cli {

struct ToolArgs {
  std::string tokenizer, model, file, device = "cpu", dtype;
  std::vector<std::string> texts, ids;
  std::string out;
  bool json = false, chat = false, skip_special = false;
  int max_new_tokens = 64;
  std::string shape = "demo";
  unsigned long long seed = 0;
  long long layers = 0;
  CLI::App *tokenize = nullptr, *detokenize = nullptr, *generate = nullptr, *logits = nullptr,
           *random_model = nullptr;
};

void add_tool_commands(CLI::App& app, ToolArgs& a);
// The exit code of the tool subcommand that was given, or -1 when none was. The model tools
// come from the registry (empty in a torch-free build or the test kit: "not built in").
int run_tool_command(const CLI::App& app, const ToolArgs& a, const runner::ModelTools& tools);

}  // namespace qb::cli
