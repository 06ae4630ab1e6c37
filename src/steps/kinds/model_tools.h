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

bool model_tools_available();
Result<std::string> tool_generate(const GenerateToolArgs& a);  // the continuation text
Status tool_logits(const LogitsToolArgs& a);                    // writes a.out
}  // namespace qb::steps
