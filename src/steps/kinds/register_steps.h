// The step kinds built into qbuild: one table of every kind (name, code version, GPU or not, the
// line `qbuild --help` shows), and the ways a binary registers them.
//
// Two executables share it when libtorch is found. `qbuild` is the torch-free front end: it
// loads, plans, generates build.ninja, collects and reports without loading libtorch (whose
// start alone took ~180 ms, ten times a no-op's own work), runs the torch-free kinds (sample,
// score) itself and hands `qbuild step <torch kind>`, the model tools and the data-parallel
// generate workers to `qbuild-torch` beside it, the full binary, by exec with the same command
// line. A torch-free build has only `qbuild`, where the torch kinds are "not available in this
// build". A kind not registered at all shows up at graph time the same way.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "runner/step_registry.h"

namespace qb::steps {

// Registers each kind of the table that `functions` has a function for.
void register_kinds(runner::StepRegistry& registry, const std::map<std::string, runner::StepFn>& functions);

// The kinds that need no libtorch (sample, score), with their functions.
void register_torch_free(runner::StepRegistry& registry);

// The front end: the torch-free kinds, and the libtorch kinds and model tools handed to
// `torch_exe` (qbuild-torch).
void register_front_end(runner::StepRegistry& registry, const std::filesystem::path& torch_exe);

// Every kind and the model tools with their functions (qbuild-torch; defined in
// kinds/torch/register_torch.cc).
void register_all(runner::StepRegistry& registry);

}  // namespace qb::steps
