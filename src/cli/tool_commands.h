// Model sanity-check tools on the command line: tokenize, detokenize, generate, logits, and
// random-model (a deterministic random checkpoint: the demo model, benchmark models). Results go
// to standard output, every log line to standard error.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "runner/model_tools.h"
#include "util/status.h"

namespace qb::cli {

struct ToolArgs {
  // tokenize / detokenize (torch-free, here)
  std::string tokenizer, file;
  std::vector<std::string> texts, ids;
  bool json = false, skip_special = false;
  // the model tools: their options fill the registry's argument structs directly
  runner::GenerateToolArgs generate_args;
  std::vector<std::string> prompt_words;  // joined with spaces into generate_args.prompt
  runner::LogitsToolArgs logits_args;
  std::vector<std::string> id_lists;      // parsed into logits_args.ids
  runner::RandomModelToolArgs random_args;
  CLI::App *tokenize = nullptr, *detokenize = nullptr, *generate = nullptr, *logits = nullptr,
           *random_model = nullptr;
};

void add_tool_commands(CLI::App& app, ToolArgs& a);
// The exit code of the tool subcommand that was given, or -1 when none was. The model tools
// come from the registry (empty in a torch-free build or the test kit: "not built in").
// `torch_exe`: where the model tools are when this binary is the torch-free front end (the
// command is handed to it), else empty.
int run_tool_command(const CLI::App& app, const ToolArgs& a, const runner::ModelTools& tools,
                     const std::filesystem::path& torch_exe = {});

}  // namespace qb::cli
