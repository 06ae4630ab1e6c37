// <pipeline>/project.yaml: defaults, resolution of auto values, and its rules.
#include <gtest/gtest.h>

#include "test_project.h"

namespace qb::config::testing {
namespace {

class ProjectFileTest : public ProjectTest {
 protected:
  std::string check(const std::string& yaml) {
    write("pipline/project.yaml", yaml);
    return diagnostics();
  }
  ProjectSpec project(const std::string& yaml) {
    write("pipline/project.yaml", yaml);
    auto p = load();
    EXPECT_TRUE(p.is_ok()) << diags_.render();
    return p.is_ok() ? p->project : ProjectSpec{};
  }
};

TEST_F(ProjectFileTest, MissingFileMeansCpu) {
  auto p = load();
  ASSERT_TRUE(p.is_ok()) << diags_.render();
  EXPECT_TRUE(p->project.devices.empty());
  EXPECT_EQ(p->project.device, "cpu");
  EXPECT_EQ(p->project.compute_dtype, "float32");
  EXPECT_GE(p->project.jobs, 1);
}

TEST_F(ProjectFileTest, DevicesMeanCudaAndBfloat16) {
  ProjectSpec p = project("resources:\n  devices: [0, 1]\n  jobs: 3\n");
  EXPECT_EQ(p.devices, (std::vector<int>{0, 1}));
  EXPECT_EQ(p.device, "cuda");
  EXPECT_EQ(p.compute_dtype, "bfloat16");
  EXPECT_EQ(p.jobs, 3);
}

TEST_F(ProjectFileTest, ExplicitDtype) {
  EXPECT_EQ(project("resources: {devices: [0], compute_dtype: float32}\n").compute_dtype,
            "float32");
  EXPECT_EQ(project("resources: {compute_dtype: bfloat16}\n").compute_dtype, "bfloat16");
}

TEST_F(ProjectFileTest, CudaWithoutDevices) {
  EXPECT_EQ(check("resources:\n  device: cuda\n"),
            "pipline/project.yaml:2:11: error: device 'cuda' needs at least one GPU id in "
            "'devices'\n"
            "    2 |   device: cuda\n"
            "      |           ^~~~\n");
}

TEST_F(ProjectFileTest, CpuIgnoresDevices) {
  std::string yaml = "resources:\n  devices: [0]\n  device: cpu\n";
  EXPECT_EQ(check(yaml),
            "pipline/project.yaml:2:3: warning: 'devices' is ignored with device 'cpu'\n"
            "    2 |   devices: [0]\n"
            "      |   ^~~~~~~\n");
  EXPECT_TRUE(project(yaml).devices.empty());
}

TEST_F(ProjectFileTest, BadDeviceIds) {
  EXPECT_EQ(check("resources:\n  devices: [0, 0, -1]\n"),
            "pipline/project.yaml:2:16: error: duplicate GPU id 0\n"
            "    2 |   devices: [0, 0, -1]\n"
            "      |                ^\n"
            "pipline/project.yaml:2:19: error: GPU id must not be negative, got -1\n"
            "    2 |   devices: [0, 0, -1]\n"
            "      |                   ^~\n");
}

TEST_F(ProjectFileTest, HugeNumbersAreErrorsNotTruncations) {
  EXPECT_EQ(check("resources:\n  devices: [4294967296]\n  jobs: 100000\n"),
            "pipline/project.yaml:2:13: error: GPU id 4294967296 is out of range (at most 1023)\n"
            "    2 |   devices: [4294967296]\n"
            "      |             ^~~~~~~~~~\n"
            "pipline/project.yaml:3:9: error: 'jobs' must be at most 4096, got 100000\n"
            "    3 |   jobs: 100000\n"
            "      |         ^~~~~~\n");
  EXPECT_EQ(check("resources:\n  jobs: 99999999999999999999\n"),
            "pipline/project.yaml:2:9: error: expected an integer for 'jobs', got "
            "'99999999999999999999'\n"
            "    2 |   jobs: 99999999999999999999\n"
            "      |         ^~~~~~~~~~~~~~~~~~~~\n");
}

TEST_F(ProjectFileTest, UnknownKey) {
  EXPECT_EQ(check("resource:\n  devices: [0]\n"),
            "pipline/project.yaml:1:1: error: unknown top-level key 'resource'; did you mean "
            "'resources'?\n"
            "    1 | resource:\n"
            "      | ^~~~~~~~\n");
}

}  // namespace
}  // namespace qb::config::testing
