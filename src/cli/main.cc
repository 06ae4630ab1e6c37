// qbuild's entry point: the real step kinds and model tools, and the front end in qbuild_cli.
#include "cli/cli.h"
#include "steps/kinds/register_steps.h"

int main(int argc, char** argv) {
  qb::runner::StepRegistry registry;
  qb::steps::register_all(registry);
  return qb::cli::run_main(argc, argv, registry);
}
