#include "cli/tool_commands.h"

namespace qb::cli {

void add_tool_commands(CLI::App& app, ToolArgs& a) {}

int run_tool_command(const CLI::App& app, const ToolArgs& a) { return -1; }

}  // namespace qb::cli
