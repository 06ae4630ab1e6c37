// model_io's logging, behind a torch-free seam: system spdlog does not compile inside libtorch
// translation units (torch/include ships its own, newer fmt that shadows the system one), so
// the spdlog calls live in log.cc, built as a separate library without libtorch's include path.
#pragma once

#include <string_view>

namespace qb::model_io::log {

void debug(std::string_view message);
void info(std::string_view message);
void warn(std::string_view message);

}  // namespace qb::model_io::log
