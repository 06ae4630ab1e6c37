// `cache:` in project.yaml: several checkouts build into one store (a shared file system, here
// a folder beside them). Two invocations from two checkouts building the same keys at once end
// with one valid artifact per key, built once; a third checkout finds everything cached.
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e_fixture.h"

namespace {

namespace fs = std::filesystem;
using qb::e2e::E2E;
using qb::e2e::Out;

constexpr int kAllSteps = 15;  // as in e2e_test.cc

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class SharedCache : public E2E {
 protected:
  void SetUp() override {
    E2E::SetUp();
    shared_ = root_.parent_path() / (root_.filename().string() + "-shared");
    fs::remove_all(shared_);
    write("pipline/project.yaml", "cache: " + shared_.string() + "\n");
  }
  // Another checkout of the same project (same configs and sources), using the same cache.
  fs::path checkout(const std::string& suffix) {
    fs::path dir = root_.parent_path() / (root_.filename().string() + suffix);
    fs::remove_all(dir);
    fs::create_directories(dir);
    // What a clone holds: the sources, not what a build made (friendly links, eval sets).
    for (const char* sub : {"rules", "pipline", "data/models/tiny", "data/datasets", "data/calib.txt"}) {
      fs::create_directories((dir / sub).parent_path());
      fs::copy(root_ / sub, dir / sub, fs::copy_options::recursive);
    }
    return dir;
  }
  Out qbuild_in(const fs::path& dir, const std::string& args, const std::string& env = "") {
    return qb::testing::run_command("cd '" + dir.string() + "' && " + env + " '" QB_TESTKIT "' " + args);
  }
  nlohmann::json runs_in(const fs::path& dir) {
    auto j = nlohmann::json::parse(qbuild_in(dir, "runs --all --json").text, nullptr, false);
    return j.is_discarded() ? nlohmann::json::array() : j;
  }
  fs::path shared_;
};

TEST_F(SharedCache, TwoCheckoutsBuildingTheSameKeysAtOnceBuildEachOnce) {
  fs::path other = checkout("-b");
  Out a, b;
  // The quantize steps take a second: the two builds meet on them (the node lock in the store).
  std::thread ta([&] { a = qbuild("-j 2", "QBUILD_TESTKIT_SLEEP=quant:1"); });
  std::thread tb([&] { b = qbuild_in(other, "-j 2", "QBUILD_TESTKIT_SLEEP=quant:1"); });
  ta.join();
  tb.join();
  ASSERT_EQ(a.code, 0) << a.text;
  ASSERT_EQ(b.code, 0) << b.text;

  // Every key was built exactly once, by one checkout or the other; the other found it cached.
  std::map<std::string, int> built, hits;
  for (const auto& runs : {all_runs(), runs_in(other)})
    for (const auto& r : runs) {
      if (r["status"] == "ok") ++built[r["key"]];
      if (r["status"] == "hit") ++hits[r["key"]];
    }
  EXPECT_EQ(built.size(), static_cast<size_t>(kAllSteps));
  for (const auto& [key, n] : built) EXPECT_EQ(n, 1) << key << " was built " << n << " times";
  EXPECT_GT(hits.size(), 0u) << "the two builds never met on a key";

  // One store, outside both checkouts; every artifact intact; nothing left half-written.
  EXPECT_FALSE(fs::exists(root_ / "cache/objects"));
  EXPECT_FALSE(fs::exists(other / "cache/objects"));
  EXPECT_TRUE(fs::exists(shared_ / "objects"));
  EXPECT_TRUE(fs::is_empty(shared_ / "tmp"));
  for (const auto& dir : {root_, other}) {
    auto v = qbuild_in(dir, "verify");
    EXPECT_EQ(v.code, 0) << v.text;
    EXPECT_NE(v.text.find("verified 15 object(s)"), std::string::npos) << v.text;
  }
  EXPECT_EQ(slurp(root_ / "results/mini.csv"), slurp(other / "results/mini.csv"));
  EXPECT_TRUE(fs::exists(root_ / "data/models/tiny-rtn-w8/qbuild-artifact.json"));

  // A third checkout builds nothing: everything is in the shared cache.
  fs::path third = checkout("-c");
  auto c = qbuild_in(third, "");
  ASSERT_EQ(c.code, 0) << c.text;
  EXPECT_NE(c.text.find("nothing to do (15 cached)"), std::string::npos) << c.text;
  EXPECT_EQ(c.text.find("index"), std::string::npos) << c.text;  // a fresh index of a shared store is normal: no warning
  EXPECT_EQ(slurp(third / "results/mini.csv"), slurp(root_ / "results/mini.csv"));
}

TEST_F(SharedCache, ExplainNamesTheSharedCacheAndGcRefusesIt) {
  ASSERT_EQ(qbuild("").code, 0);
  auto e = qbuild("explain data/models/tiny-rtn-w8");
  ASSERT_EQ(e.code, 0) << e.text;
  EXPECT_NE(e.text.find("artifact: " + shared_.string() + "/objects/"), std::string::npos) << e.text;
  EXPECT_NE(e.text.find("runs: on this machine (executor: local)"), std::string::npos) << e.text;
  auto gc = qbuild("gc --all");
  EXPECT_EQ(gc.code, 3) << gc.text;
  EXPECT_NE(gc.text.find("the cache is shared"), std::string::npos) << gc.text;
  EXPECT_TRUE(fs::exists(shared_ / "objects"));
}

}  // namespace
