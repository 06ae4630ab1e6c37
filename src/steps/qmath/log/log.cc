#include "steps/qmath/log/log.h"

#include <spdlog/spdlog.h>

namespace qb::qmath::log {

void debug(std::string_view message) { spdlog::debug("{}", message); }
void info(std::string_view message) { spdlog::info("{}", message); }
void warn(std::string_view message) { spdlog::warn("{}", message); }

}  // namespace qb::qmath::log
