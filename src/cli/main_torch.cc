// qbuild-torch: the full binary (every step kind with its function, the model tools, the front
// end in qbuild_cli). The torch-free `qbuild` (main.cc) hands it `qbuild step <torch kind>`, the
// model tools and the generate workers with the same command line (register_steps.h says why);
// run directly, it does everything `qbuild` does.
// `generate-worker REQUEST.json` is internal (not in --help): the worker process a data-parallel
// generate step starts, one per GPU (steps/kinds/torch/generate_step.cc). It logs to worker.log
// beside its request file (the step's own log stays readable; a failed worker's message also
// reaches the step's error).
#include <filesystem>
#include <string_view>

#include "cli/cli.h"
#include "steps/kinds/register_steps.h"
#include "steps/kinds/step_kinds.h"
#include "util/log.h"
#include "util/subprocess.h"

int main(int argc, char** argv) {
  qb::save_command_line(argc, argv);
  if (argc == 3 && std::string_view(argv[1]) == "generate-worker") {
    // No folder: the worker fails reading its request, on stderr.
    (void)qb::log::to_file("generate-worker", (std::filesystem::path(argv[2]).parent_path() / "worker.log").string());
    return qb::steps::generate_worker(argv[2]);
  }
  qb::runner::StepRegistry registry;
  qb::steps::register_all(registry);
  return qb::cli::run_main(argc, argv, registry);
}
