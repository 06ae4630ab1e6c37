// Model sanity-check tools on the command line: tokenize, detokenize, generate, logits.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace qb::cli {

struct ToolArgs {
  std::string tokenizer, model, file, device = "cpu", dtype;
  std::vector<std::string> texts, ids;
  std::string out;
  bool json = false, chat = false, skip_special = false;
  int max_new_tokens = 64;
  CLI::App *tokenize = nullptr, *detokenize = nullptr, *generate = nullptr, *logits = nullptr;
};

void add_tool_commands(CLI::App& app, ToolArgs& a);
// The exit code of the tool subcommand that was given, or -1 when none was.
int run_tool_command(const CLI::App& app, const ToolArgs& a);

}  // namespace qb::cli
