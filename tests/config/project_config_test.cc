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

// --- executor: slurm (issue 16) ---

TEST_F(ProjectFileTest, ExecutorDefaultsToLocal) {
  ProjectSpec p = project("resources: {jobs: 2}\n");
  EXPECT_EQ(p.executor, "local");
  EXPECT_EQ(p.cache, "");
  EXPECT_FALSE(p.slurm_job("quant", /*gpu=*/true));
}

TEST_F(ProjectFileTest, SlurmSettingsPerKindOverTheDefault) {
  ProjectSpec p = project(
      "executor: slurm\n"
      "slurm:\n"
      "  jobs: 3\n"
      "  default: {partition: gpu, account: lab, time: '2:00:00', mem: 32G, extra_args: [--constraint=h100]}\n"
      "  quant: {time: '1-00:00', cpus_per_task: 8, qos: high}\n"
      "  score: {partition: cpu}\n");
  EXPECT_EQ(p.executor, "slurm");
  EXPECT_EQ(p.slurm_jobs, 3);
  EXPECT_EQ(p.device, "cpu");  // auto: no local devices listed
  auto quant = p.slurm_job("quant", true);
  ASSERT_TRUE(quant);
  EXPECT_EQ(quant->srun_options(),
            (std::vector<std::string>{"--partition=gpu", "--account=lab", "--qos=high", "--time=1-00:00", "--gres=gpu:1",
                                      "--cpus-per-task=8", "--mem=32G", "--constraint=h100"}));
  // A GPU kind not listed still runs as a job, with the default and gres gpu:1.
  auto gen = p.slurm_job("generate", true);
  ASSERT_TRUE(gen);
  EXPECT_EQ(gen->gres, "gpu:1");
  EXPECT_EQ(gen->time, "2:00:00");
  // A CPU kind runs as a job only when listed, with no GPU.
  EXPECT_FALSE(p.slurm_job("sample", false));
  auto score = p.slurm_job("score", false);
  ASSERT_TRUE(score);
  EXPECT_EQ(score->partition, "cpu");
  EXPECT_EQ(score->gres, "");
}

TEST_F(ProjectFileTest, CudaUnderSlurmNeedsNoLocalDevices) {
  // Slurm hands out the GPUs: `device: cuda` needs no ids here (it does with executor: local).
  EXPECT_EQ(check("executor: slurm\nresources: {device: cuda}\n"), "");
  EXPECT_EQ(project("executor: slurm\nresources: {device: cuda}\n").device, "cuda");
  EXPECT_EQ(project("executor: slurm\nresources: {device: cuda}\n").compute_dtype, "bfloat16");
}

TEST_F(ProjectFileTest, GresNoneRunsAGpuKindWithoutAGpu) {
  ProjectSpec p = project("executor: slurm\nslurm:\n  trans: {gres: none}\n");
  auto trans = p.slurm_job("trans", true);
  ASSERT_TRUE(trans);
  for (const auto& o : trans->srun_options()) EXPECT_EQ(o.find("--gres"), std::string::npos) << o;
}

TEST_F(ProjectFileTest, CacheIsMadeAbsolute) {
  ProjectSpec p = project("cache: ../shared-cache/\n");
  EXPECT_EQ(p.cache, std::filesystem::absolute(root().parent_path() / "shared-cache").lexically_normal().string());
  EXPECT_EQ(project("cache: cache\n").cache, "");  // the default written out stays the default
}

TEST_F(ProjectFileTest, BadSlurmSettingsAreErrorsAtTheirLines) {
  EXPECT_EQ(check("executor: slurm\n"
                  "slurm:\n"
                  "  jobs: 0\n"
                  "  default: {time: 2 hours, gres: 'gpu:h100:x', mem: 4 GB}\n"
                  "  quant:\n"
                  "    cpus_per_task: -2\n"
                  "    partition: 'gpu a100'\n"
                  "    extra_args: [--job-name=x, constraint=h100]\n"
                  "  eval: {time: 5}\n"),
            "pipline/project.yaml:3:9: error: 'jobs' must be positive, got 0\n"
            "    3 |   jobs: 0\n"
            "      |         ^\n"
            "pipline/project.yaml:4:19: error: time '2 hours' is not a Slurm time limit (minutes, M:S, H:M:S, D-H, D-H:M or D-H:M:S)\n"
            "    4 |   default: {time: 2 hours, gres: 'gpu:h100:x', mem: 4 GB}\n"
            "      |                   ^~~~~~~\n"
            "pipline/project.yaml:4:34: error: gres 'gpu:h100:x' is not Slurm's name[:type][:count] (e.g. gpu:1), or none\n"
            "    4 |   default: {time: 2 hours, gres: 'gpu:h100:x', mem: 4 GB}\n"
            "      |                                  ^~~~~~~~~~~~\n"
            "pipline/project.yaml:4:53: error: mem '4 GB' is not a Slurm memory size (a number with K, M, G or T; M when none)\n"
            "    4 |   default: {time: 2 hours, gres: 'gpu:h100:x', mem: 4 GB}\n"
            "      |                                                     ^~~~\n"
            "pipline/project.yaml:6:20: error: 'cpus_per_task' must be positive, got -2\n"
            "    6 |     cpus_per_task: -2\n"
            "      |                    ^~\n"
            "pipline/project.yaml:7:16: error: 'partition' may not contain spaces or control characters\n"
            "    7 |     partition: 'gpu a100'\n"
            "      |                ^~~~~~~~~~\n"
            "pipline/project.yaml:8:18: error: qbuild sets --job-name itself (the job is named after the step; rules/slurm.ninja)\n"
            "    8 |     extra_args: [--job-name=x, constraint=h100]\n"
            "      |                  ^~~~~~~~~~~~\n"
            "pipline/project.yaml:8:32: error: 'constraint=h100' is not an srun option (each item is one option, e.g. --constraint=h100)\n"
            "    8 |     extra_args: [--job-name=x, constraint=h100]\n"
            "      |                                ^~~~~~~~~~~~~~~\n"
            "pipline/project.yaml:9:3: error: unknown key 'eval' in 'slurm'\n"
            "    9 |   eval: {time: 5}\n"
            "      |   ^~~~\n");
}

TEST_F(ProjectFileTest, UnknownExecutorAndSlurmKey) {
  EXPECT_EQ(check("executor: kubernetes\nslurm:\n  default: {partion: gpu}\n"),
            "pipline/project.yaml:1:11: error: invalid value 'kubernetes' for 'executor' (allowed: local, slurm)\n"
            "    1 | executor: kubernetes\n"
            "      |           ^~~~~~~~~~\n"
            "pipline/project.yaml:3:13: error: unknown key 'partion' in 'slurm.default'; did you mean 'partition'?\n"
            "    3 |   default: {partion: gpu}\n"
            "      |             ^~~~~~~\n");
}

TEST_F(ProjectFileTest, SlurmBlockWithLocalExecutorIsAWarning) {
  EXPECT_EQ(check("slurm:\n  jobs: 4\n"),
            "pipline/project.yaml:1:1: warning: 'slurm' is ignored: the executor is local (write 'executor: slurm')\n"
            "    1 | slurm:\n"
            "      | ^~~~~\n");
}

TEST_F(ProjectFileTest, EmptyCacheIsAnError) {
  EXPECT_EQ(check("cache: ''\n"),
            "pipline/project.yaml:1:8: error: 'cache' is empty; leave it out for the default (cache/ in the project)\n"
            "    1 | cache: ''\n"
            "      |        ^~\n");
}

}  // namespace
}  // namespace qb::config::testing
