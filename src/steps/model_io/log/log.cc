#include "steps/model_io/log/log.h"

#include <spdlog/spdlog.h>

namespace qb::model_io::log {

void debug(std::string_view message) { spdlog::debug("{}", message); }
void info(std::string_view message) { spdlog::info("{}", message); }
void warn(std::string_view message) { spdlog::warn("{}", message); }

}  // namespace qb::model_io::log
