// What a report test does when a tool it needs (chromium, libjs-vega) is missing: under CI
// (CI=true, as CI runs .ci/run) it fails, since `scripts/setup.sh --test` installs both there
// and a skip nobody reads would leave the report untested; elsewhere it skips, saying what to
// install.
#pragma once

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace qb::report::testing {

inline bool in_ci() {
  const char* c = std::getenv("CI");
  return c && *c && std::string(c) != "false" && std::string(c) != "0";
}

}  // namespace qb::report::testing

#define QB_SKIP_OR_FAIL_IN_CI(why)                                                                       \
  do {                                                                                                  \
    if (::qb::report::testing::in_ci()) GTEST_FAIL() << (why) << "; under CI this test must run";     \
    GTEST_SKIP() << (why);                                                                              \
  } while (0)
