// The model tools a qbuild binary offers on the command line (`qbuild generate`, `logits`,
// `random-model`), registered with the step kinds (StepRegistry::tools): the libtorch build's
// register_all() fills them in; a torch-free build or the test kit leaves them empty, and the
// commands then say the model runtime is not built in. Argument structs are torch-free so the
// CLI can fill them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "util/status.h"

namespace qb::runner {

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

struct ModelTools {
  std::function<Result<std::string>(const GenerateToolArgs&)> generate;  // the continuation text
  std::function<Status(const LogitsToolArgs&)> logits;                   // writes args.out
  std::function<Status(const RandomModelToolArgs&)> random_model;        // writes the folder args.out
};

}  // namespace qb::runner
