#include "util/log.h"

#include <spdlog/spdlog.h>

namespace qb::log {

void debug(std::string_view msg) { spdlog::debug("{}", msg); }
void info(std::string_view msg) { spdlog::info("{}", msg); }
void warn(std::string_view msg) { spdlog::warn("{}", msg); }
void error(std::string_view msg) { spdlog::error("{}", msg); }

}  // namespace qb::log
