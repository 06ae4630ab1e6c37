// Logging for code that cannot include spdlog: libtorch ships its own (newer) {fmt} headers,
// which clash with the system spdlog's {fmt} inside a libtorch translation unit. Those files
// log through these functions (implemented with spdlog in a torch-free file); format the
// message yourself. Torch-free code may use spdlog directly.
#pragma once

#include <string>

namespace qb::log {

void debug(const std::string& msg);
void info(const std::string& msg);
void warn(const std::string& msg);
void error(const std::string& msg);

}  // namespace qb::log
