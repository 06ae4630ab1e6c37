// `qbuild generate` and `qbuild logits`, implemented on the libtorch model runtime. Declared
// torch-free so the CLI (which cannot see libtorch's headers) can call them; a build without
// libtorch has no model tools (available() is false).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/status.h"

namespace qb::steps {

struct GenerateToolArgs {
  std::string model_dir, tokenizer, device = "cpu", dtype, prompt;
  bool chat = false;
  std::int64_t max_new_tokens = 64;
};
struct LogitsToolArgs {
  std::string model_dir, device = "cpu", dtype, out;
  std::vector<std::vector<std::int64_t>> ids;
};

struct RandomModelToolArgs {
  std::string shape = "demo", dtype, device = "cpu", tokenizer, out;
  unsigned long long seed = 0;
  long long layers = 0;
};

bool model_tools_available();
Status tool_random_model(const RandomModelToolArgs& a);        // writes the folder a.out
Result<std::string> tool_generate(const GenerateToolArgs& a);  // the continuation text
Status tool_logits(const LogitsToolArgs& a);                    // writes a.out
}  // namespace qb::steps
