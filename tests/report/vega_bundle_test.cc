// The inlined charting library: Debian's Vega modules, or a clear error naming the package.
#include <cstdlib>

#include <gtest/gtest.h>

#include "report/vega_bundle.h"
#include "report_fixture.h"

namespace qb::report {
namespace {

TEST(VegaBundle, MissingLibraryNamesTheFileAndTheDebianPackage) {
  auto b = load_vega_bundle("/nonexistent/vega");
  ASSERT_FALSE(b.is_ok());
  EXPECT_EQ(b.status().code(), Code::kNotFound);
  EXPECT_NE(b.status().message().find("the charting library Vega is not installed: '/nonexistent/vega/vega-util.min.js' "
                                      "does not exist (Debian/Ubuntu: apt-get install libjs-vega"),
            std::string::npos)
      << b.status().message();
}

TEST(VegaBundle, QbuildVegaDirOverridesTheDebianPath) {
  ::setenv("QBUILD_VEGA_DIR", "/opt/vega", 1);
  EXPECT_EQ(vega_dir(), "/opt/vega");
  ::unsetenv("QBUILD_VEGA_DIR");
  EXPECT_EQ(vega_dir(), kDebianVegaDir);
}

// A stand-in library: each module a line naming itself; one carries a "</script>" in a string.
TEST(VegaBundle, WrapsEveryModuleInOrderAndKeepsTheScriptElementClosed) {
  testing::Project p;
  const char* modules[] = {"vega-util",       "vega-canvas",         "vega-time",      "vega-format",
                           "vega-loader",     "vega-dataflow",       "vega-scale",     "vega-scenegraph",
                           "vega-expression", "vega-event-selector", "vega-selection", "vega-statistics",
                           "vega-functions",  "vega-parser",         "vega-runtime",   "vega-view",
                           "vega-transforms", "vega-encode",         "vega-view-transforms", "vega-label"};
  for (const char* m : modules)
    p.write(std::string("vega/") + m + ".min.js",
            std::string("var x = \"") + m + (std::string(m) == "vega-util" ? "</Script>" : "") +
                "\";\n//# sourceMappingURL=" + m + ".min.js.map\n");
  auto b = load_vega_bundle(p.root() / "vega");
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  std::size_t last = 0;
  for (const char* m : modules) {
    const auto at = b->find(std::string("qbVegaModule(\"") + m + "\"");
    ASSERT_NE(at, std::string::npos) << m;
    EXPECT_GT(at, last) << m;
    last = at;
  }
  EXPECT_EQ(b->find("</Script"), std::string::npos);
  EXPECT_NE(b->find("<\\/Script>"), std::string::npos);
  EXPECT_EQ(b->find("sourceMappingURL"), std::string::npos);
  EXPECT_NE(b->find("var qbVega = "), std::string::npos);
}

TEST(VegaBundle, DebiansLibraryLoadsWhenInstalled) {
  if (!std::filesystem::exists(std::string(kDebianVegaDir) + "/vega-util.min.js"))
    QB_SKIP_OR_FAIL_IN_CI("libjs-vega is not installed (Debian: apt-get install libjs-vega; scripts/setup.sh installs it)");
  auto b = load_vega_bundle(kDebianVegaDir);
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  EXPECT_GT(b->size(), 300000u);
  EXPECT_EQ(b->find("</script"), std::string::npos);
}

}  // namespace
}  // namespace qb::report
