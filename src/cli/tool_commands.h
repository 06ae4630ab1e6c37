// Model sanity-check tools on the command line: tokenize, detokenize, generate, logits, and
// random-model (a deterministic random checkpoint: the demo model, benchmark models).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

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

// The model tools live on the libtorch side; main() hands them in (none in a torch-free build
// or in the test kit, where `generate`/`logits` say they are unavailable).
struct ModelToolHooks {
  std::function<Result<std::string>(const ToolArgs&)> generate;  // the continuation
  std::function<Status(const ToolArgs&)> logits;                 // writes ToolArgs::out
  std::function<Status(const ToolArgs&)> random_model;           // writes ToolArgs::out
};
void set_model_tools(ModelToolHooks hooks);

void add_tool_commands(CLI::App& app, ToolArgs& a);
// The exit code of the tool subcommand that was given, or -1 when none was.
int run_tool_command(const CLI::App& app, const ToolArgs& a);

}  // namespace qb::cli
