// qbuild's entry point: the torch-free front end (qbuild_cli) with the step kinds' table. In a
// libtorch build the libtorch kinds, the model tools (`generate`, `logits`, `random-model`) and
// the internal `generate-worker` are handed to qbuild-torch beside this binary, with the same
// command line (steps/kinds/register_steps.h); everything else — loading, planning, build.ninja,
// the CSVs, the reports, the sample and score steps — runs here without loading libtorch.
#include <cstdio>
#include <string_view>

#include "cli/cli.h"
#include "steps/kinds/register_steps.h"
#include "util/subprocess.h"

int main(int argc, char** argv) {
  qb::save_command_line(argc, argv);
  qb::runner::StepRegistry registry;
#ifdef QBUILD_TORCH_EXE
  const auto torch = qb::self_executable().parent_path() / QBUILD_TORCH_EXE;
  if (argc == 3 && std::string_view(argv[1]) == "generate-worker") {
    std::fprintf(stderr, "qbuild: error: %s\n", qb::exec_with_own_args(torch).message().c_str());
    return 1;
  }
  qb::steps::register_front_end(registry, torch);
#else
  qb::steps::register_torch_free(registry);
#endif
  return qb::cli::run_main(argc, argv, registry);
}
