#include "util/progress.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

namespace qb {
namespace {

TEST(Progress, LogsEveryStepWithRateAndEtaAndAFinalLine) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  sink->set_pattern("%v");
  auto old = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("t", sink));
  {
    Progress p("layers", 3, 0.0);  // interval 0: every advance is reported
    p.advance();
    p.advance();
    p.advance();
  }
  spdlog::set_default_logger(old);
  std::string log = out.str();
  EXPECT_NE(log.find("layers: 1/3 ("), std::string::npos) << log;
  EXPECT_NE(log.find("layers: 3/3 ("), std::string::npos) << log;
  EXPECT_NE(log.find("eta "), std::string::npos) << log;
  EXPECT_NE(log.rfind("eta 0.0s)"), std::string::npos) << log;  // the final line has no time left
}

}  // namespace
}  // namespace qb
