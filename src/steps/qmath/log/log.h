// qmath's logging, behind a torch-free seam: system spdlog does not compile inside libtorch
// translation units (torch/include ships a newer fmt that shadows the system one), so the
// spdlog calls live in log.cc, built as a separate library without libtorch's include path.
// steps/quant uses it too.
#pragma once

#include <string_view>

namespace qb::qmath::log {

void debug(std::string_view message);
void info(std::string_view message);
void warn(std::string_view message);

}  // namespace qb::qmath::log
