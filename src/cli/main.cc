// qbuild's entry point: the real step kinds and model tools, and the front end in qbuild_cli.
// `qbuild generate-worker REQUEST.json` is internal (not in --help): the worker process a
// data-parallel generate step starts, one per GPU (steps/kinds/torch/generate_step.cc). It logs
// to worker.log beside its request file (the step's own log stays readable; a failed worker's
// message also reaches the step's error).
#include <filesystem>
#include <string_view>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include "cli/cli.h"
#include "steps/kinds/register_steps.h"
#include "steps/kinds/step_kinds.h"

int main(int argc, char** argv) {
#ifdef QBUILD_WITH_TORCH
  if (argc == 3 && std::string_view(argv[1]) == "generate-worker") {
    const auto log = std::filesystem::path(argv[2]).parent_path() / "worker.log";
    try {
      spdlog::set_default_logger(spdlog::basic_logger_mt("generate-worker", log.string(), true));
      spdlog::default_logger()->flush_on(spdlog::level::info);
    } catch (const spdlog::spdlog_ex&) {  // no folder: the worker fails reading its request, on stderr
    }
    return qb::steps::generate_worker(argv[2]);
  }
#endif
  qb::runner::StepRegistry registry;
  qb::steps::register_all(registry);
  return qb::cli::run_main(argc, argv, registry);
}
