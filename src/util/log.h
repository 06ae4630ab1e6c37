// qbuild's one logging header for code that cannot include spdlog: libtorch ships its own
// (newer) {fmt} headers, which clash with the system spdlog's {fmt} inside a libtorch
// translation unit. Those files log through these functions (implemented with spdlog in a
// torch-free file); format the message yourself. Torch-free code may use spdlog directly.
// Everything goes to spdlog's default logger: standard error for the command-line tools
// (cli.cc), the step's log file (+ warnings on standard error) inside `qbuild step`.
#pragma once

#include <string>
#include <string_view>

namespace qb::log {

void debug(std::string_view msg);
void info(std::string_view msg);
void warn(std::string_view msg);
void error(std::string_view msg);

// Sends everything to the file `path` (appended, flushed at each info line) as the default
// logger named `name`; false when the file cannot be opened (the logger stays as it was).
bool to_file(const std::string& name, const std::string& path);

}  // namespace qb::log
