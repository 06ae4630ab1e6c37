// `executor:` in project.yaml through the real front end, without a Slurm (tests/slurm has the
// scenarios that need one): where a step runs is part of no key, `explain` shows it, and bad
// Slurm settings stop the build with compiler-style errors at their line.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "e2e_fixture.h"

namespace {

namespace fs = std::filesystem;
using qb::e2e::E2E;

class Executor : public E2E {};

TEST_F(Executor, SwitchingToSlurmChangesNoKeyAndExplainShowsTheJob) {
  auto first = qbuild("");
  ASSERT_EQ(first.code, 0) << first.text;
  auto local = qbuild("explain data/models/tiny-rtn-w8");
  EXPECT_NE(local.text.find("  runs: on this machine (executor: local); not part of the key\n"), std::string::npos)
      << local.text;

  write("pipline/project.yaml",
        "executor: slurm\nslurm:\n  jobs: 3\n  default: {partition: gpu, time: '10'}\n  quant: {mem: 8G, extra_args: [--constraint=h100]}\n");
  auto plan = qbuild("--dry-run");
  ASSERT_EQ(plan.code, 0) << plan.text;
  EXPECT_NE(plan.text.find("0 to run"), std::string::npos) << "a key changed:\n" << plan.text;
  auto e = qbuild("explain data/models/tiny-rtn-w8");
  ASSERT_EQ(e.code, 0) << e.text;
  EXPECT_NE(e.text.find("  runs: as a Slurm job (executor: slurm): srun --partition=gpu --time=10 --gres=gpu:1 "
                        "--mem=8G --constraint=h100; not part of the key\n"),
            std::string::npos)
      << e.text;
  auto s = qbuild("explain data/mini.jsonl");
  EXPECT_NE(s.text.find("  runs: on this machine (executor: slurm); not part of the key\n"), std::string::npos) << s.text;
  // Nothing to build: no job is submitted (no srun is needed on this machine).
  auto again = qbuild("", "PATH=/usr/bin/nonexistent:$PATH");
  EXPECT_EQ(again.code, 0) << again.text;
  EXPECT_NE(again.text.find("nothing to do"), std::string::npos) << again.text;
}

TEST_F(Executor, BadSlurmSettingsStopTheBuildWithErrorsAtTheirLines) {
  write("pipline/project.yaml", "executor: slurm\nslurm:\n  quant:\n    time: two hours\n    gres: 'gpu::1'\n");
  auto o = qbuild("");
  EXPECT_EQ(o.code, 3) << o.text;
  EXPECT_NE(o.text.find("pipline/project.yaml:4:11: error: time 'two hours' is not a Slurm time limit"), std::string::npos)
      << o.text;
  EXPECT_NE(o.text.find("pipline/project.yaml:5:11: error: gres 'gpu::1' is not Slurm's name[:type][:count]"),
            std::string::npos)
      << o.text;
  EXPECT_FALSE(fs::exists(root_ / "cache/objects")) << "nothing may be built";
}

}  // namespace
