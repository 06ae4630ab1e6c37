// Without libtorch (QBUILD_WITH_TORCH=OFF) there are no model tools.
#ifndef QBUILD_WITH_TORCH
#include "cli/tool_commands.h"

namespace qb::cli {
void add_model_tool_commands(CLI::App&, ToolArgs&) {}
int run_model_tool_command(const ToolArgs&) { return -1; }
}  // namespace qb::cli
#endif
