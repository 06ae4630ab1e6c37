#include "util/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

namespace qb::log {

void debug(std::string_view msg) { spdlog::debug("{}", msg); }
void info(std::string_view msg) { spdlog::info("{}", msg); }
void warn(std::string_view msg) { spdlog::warn("{}", msg); }
void error(std::string_view msg) { spdlog::error("{}", msg); }

bool to_file(const std::string& name, const std::string& path) {
  try {
    spdlog::set_default_logger(spdlog::basic_logger_mt(name, path, true));
    spdlog::default_logger()->flush_on(spdlog::level::info);
    return true;
  } catch (const spdlog::spdlog_ex&) {
    return false;
  }
}

}  // namespace qb::log
