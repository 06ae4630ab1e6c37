// End-to-end scenarios of `executor: slurm` against a real Slurm on this machine (the single node
// with two fake GPUs that scripts/slurm/start.sh starts; scripts/test.sh starts it before the
// tests). The steps are the testkit's (tests/e2e/qbuild_testkit.cc); srun, slurmctld and slurmd
// are real. What the tests read from Slurm: squeue (active jobs) and `scontrol show job` (jobs
// ended less than MinJobAge ago) — sacct needs slurmdbd, which the CI node does not run.
//
// They skip, saying why, only where no Slurm answers here with a node offering gpu:2.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/e2e_fixture.h"

namespace {

namespace fs = std::filesystem;
using qb::e2e::E2E;
using qb::e2e::Out;
using nlohmann::json;

std::string sh(const std::string& cmd) { return qb::testing::run_command(cmd).text; }

// Why the Slurm tests cannot run here ("" when they can).
std::string slurm_unavailable() {
  auto o = qb::testing::run_command("sinfo -h -o '%t %G'");
  while (!o.text.empty() && o.text.back() == '\n') o.text.pop_back();
  if (o.code != 0) return "no Slurm answers on this machine (sinfo: " + o.text + ")";
  std::istringstream in(o.text);
  std::string state, gres;
  while (in >> state >> gres)
    if ((state == "idle" || state == "mix" || state == "alloc") && gres.find("gpu:2") != std::string::npos) return "";
  return "Slurm's node is not ready with gpu:2 (sinfo: " + o.text + ")";
}

// One line of `scontrol show job -o <id>` as Key=Value pairs.
std::map<std::string, std::string> scontrol_job(const std::string& id) {
  std::map<std::string, std::string> kv;
  std::istringstream in(sh("scontrol show job -o " + id));
  std::string tok;
  while (in >> tok)
    if (auto eq = tok.find('='); eq != std::string::npos) kv[tok.substr(0, eq)] = tok.substr(eq + 1);
  return kv;
}

struct ActiveJob {
  std::string id, state, name;
};

class Slurm : public E2E {
 protected:
  void SetUp() override {
    E2E::SetUp();
    if (std::string why = slurm_unavailable(); !why.empty())
      GTEST_SKIP() << "Slurm tests skipped: " << why << ". scripts/test.sh starts one (scripts/slurm/start.sh).";
    write("pipline/project.yaml", "executor: slurm\nslurm:\n  jobs: 4\n  default: {time: '10'}\n");
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    // No job of this test outlives it.
    std::vector<std::string> ids;
    for (const auto& j : active_jobs()) ids.push_back(j.id);
    if (!ids.empty()) sh("scancel " + [&] { std::string s; for (auto& i : ids) s += i + " "; return s; }());
  }

  // The jobs Slurm runs or queues whose working directory is this test's project.
  std::vector<ActiveJob> active_jobs() {
    std::vector<ActiveJob> out;
    std::istringstream in(sh("squeue -h -o '%i|%T|%Z|%j'"));
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::stringstream ls(line);
      for (std::string x; std::getline(ls, x, '|');) f.push_back(x);
      if (f.size() == 4 && fs::path(f[2]) == root_) out.push_back({f[0], f[1], f[3]});
    }
    return out;
  }
  // Waits until `n` jobs of this project run (not just queue); false after 60 s.
  bool wait_running(std::size_t n, const std::string& name_part = "") {
    for (int i = 0; i < 600; ++i) {
      std::size_t running = 0;
      for (const auto& j : active_jobs()) running += j.state == "RUNNING" && j.name.find(name_part) != std::string::npos;
      if (running >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  bool wait_no_active_jobs(double seconds) {
    for (int i = 0; i < seconds * 10; ++i) {
      if (active_jobs().empty()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  // qbuild in the background, in its own process group (a terminal's Ctrl-C reaches all of it).
  void spawn(const std::string& env, const std::string& args) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      std::string cmd = "cd '" + root_.string() + "' && exec env " + env + " '" QB_TESTKIT "' " + args + " >bg.log 2>&1";
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::setpgid(pid_, pid_);
  }
  // Its exit status (-1 when it did not exit within `seconds`).
  int wait_exit(double seconds) {
    for (int i = 0; i < seconds * 10; ++i) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return -1;
  }
  std::string bg_log() {
    std::ifstream in(root_ / "bg.log");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  std::string read(const fs::path& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  // `qbuild status --json`: its standard output only (config warnings go to stderr).
  json status_json() {
    auto o = qb::testing::run_command_split("cd '" + root_.string() + "' && '" QB_TESTKIT "' status --json");
    auto j = json::parse(o.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << o.out << o.err;
    return j.is_discarded() ? json::array() : j;
  }
  std::string key_of(const std::string& kind, const std::string& name) {
    auto st = status_json();
    if (st.is_discarded()) return "";
    for (const auto& row : st)
      if (row["kind"] == kind && row["name"] == name) return row["key"];
    return "";
  }
  json manifest(const std::string& key) {
    auto j = json::parse(read(root_ / "cache/objects" / key.substr(0, 2) / key / "qbuild-artifact.json"), nullptr, false);
    return j.is_discarded() ? json::object() : j;
  }
  static bool gpu_kind(const std::string& kind) { return kind == "trans" || kind == "quant" || kind == "generate"; }

  pid_t pid_ = -1;
};

TEST_F(Slurm, EveryGpuStepRunsAsAJobTwoAtOnceOnDifferentGpus) {
  auto out = qbuild("-j 2", "QBUILD_TESTKIT_SLEEP=quant:3");
  ASSERT_EQ(out.code, 0) << out.text;
  json runs = all_runs();
  int jobs = 0;
  std::vector<json> quants;
  for (const auto& r : runs) {
    ASSERT_EQ(r["status"], "ok") << r.dump();
    const std::string kind = r["kind"];
    if (!gpu_kind(kind)) {
      EXPECT_EQ(r["job_id"], "") << kind << " steps stay on this machine: " << r.dump();
      continue;
    }
    ++jobs;
    ASSERT_NE(r["job_id"], "") << r.dump();
    EXPECT_EQ(r["job_state"], "COMPLETED") << r.dump();
    EXPECT_TRUE(r["gpu"] == "0" || r["gpu"] == "1") << "CUDA_VISIBLE_DEVICES from Slurm's GRES: " << r.dump();
    // Slurm's own word on the job: it ran here, under the node's name, and completed.
    auto job = scontrol_job(r["job_id"]);
    EXPECT_EQ(job["JobState"], "COMPLETED") << r.dump();
    EXPECT_EQ(fs::path(job["WorkDir"]), root_);
    EXPECT_EQ(job["TresPerNode"], "gres:gpu:1");
    // The step saw the GPU Slurm gave it, and its log names the job.
    EXPECT_EQ(manifest(r["key"])["meta"]["gpu_env"], r["gpu"]);
    EXPECT_NE(read(root_ / r["log"].get<std::string>()).find("Slurm job " + r["job_id"].get<std::string>() + " on node"),
              std::string::npos);
    if (kind == "quant") quants.push_back(r);
  }
  int gpu_nodes = 0;
  for (const auto& row : status_json()) gpu_nodes += gpu_kind(row["kind"]);
  EXPECT_GT(gpu_nodes, 4);
  EXPECT_EQ(jobs, gpu_nodes) << "every GPU-kind step ran once, as a job";
  // Two quantize jobs overlapped in time, on different (fake) GPUs.
  bool overlapped = false;
  for (std::size_t i = 0; i < quants.size(); ++i)
    for (std::size_t j = i + 1; j < quants.size(); ++j) {
      const auto &a = quants[i], &b = quants[j];
      if (a["started"].get<double>() < b["ended"].get<double>() && b["started"].get<double>() < a["ended"].get<double>()) {
        overlapped = true;
        EXPECT_NE(a["gpu"], b["gpu"]) << a.dump() << "\n" << b.dump();
      }
    }
  EXPECT_TRUE(overlapped) << runs.dump(1);
  // The index was written by this qbuild alone: every run record was ingested.
  EXPECT_TRUE(!fs::exists(root_ / "cache/runs") || fs::is_empty(root_ / "cache/runs"));
  // status shows each step's job.
  auto st = qbuild("status");
  EXPECT_NE(st.text.find("Slurm job " + quants[0]["job_id"].get<std::string>() + " on "), std::string::npos) << st.text;
}

TEST_F(Slurm, SecondInvocationSubmitsNothing) {
  ASSERT_EQ(qbuild("-j 2").code, 0);
  const std::size_t before = all_runs().size();
  const std::string last_job = sh("squeue -h --states=all -o '%i' | sort -n | tail -n1");
  auto again = qbuild("-j 2");
  ASSERT_EQ(again.code, 0) << again.text;
  EXPECT_NE(again.text.find("nothing to do"), std::string::npos) << again.text;
  EXPECT_EQ(all_runs().size(), before);
  EXPECT_EQ(sh("squeue -h --states=all -o '%i' | sort -n | tail -n1"), last_job) << "a job was submitted";
}

TEST_F(Slurm, CtrlCCancelsTheRunningJobsAndPublishesNothing) {
  spawn("QBUILD_TESTKIT_SLEEP=quant:120", "-j 2");
  ASSERT_TRUE(wait_running(2, "quant")) << bg_log();
  const auto jobs = active_jobs();
  ::kill(-pid_, SIGINT);  // what a terminal does on Ctrl-C: the whole foreground group
  const int code = wait_exit(60);
  EXPECT_EQ(code, 130) << bg_log();
  EXPECT_TRUE(wait_no_active_jobs(30)) << "jobs still in Slurm after Ctrl-C";
  for (const auto& j : jobs) {
    if (j.name.find("quant") != std::string::npos) EXPECT_EQ(scontrol_job(j.id)["JobState"], "CANCELLED") << j.id;
  }
  // Nothing half-published: no quantized model (a killed writer's tmp/ folder is not visible;
  // the next qbuild deletes it).
  for (const char* q : {"tiny-rtn-w8", "tiny-rtn-dyn", "tiny-r1r2-rtn-w8", "tiny-r1r2-rtn-dyn"}) {
    const std::string key = key_of("quant", q);
    ASSERT_FALSE(key.empty()) << q;
    // (Ninja makes each output's folder before running its edge; the manifest is what publishes.)
    EXPECT_FALSE(fs::exists(root_ / "cache/objects" / key.substr(0, 2) / key / "qbuild-artifact.json")) << q;
  }
  EXPECT_EQ(count(all_runs(), "ok", "quant"), 0);
  EXPECT_GE(count(all_runs(), "interrupted", "quant"), 2) << all_runs().dump(1);
  // The next run builds everything.
  auto again = qbuild("-j 2");
  EXPECT_EQ(again.code, 0) << again.text;
  EXPECT_EQ(count(all_runs(), "ok", "quant"), 4);
  EXPECT_TRUE(!fs::exists(root_ / "cache/tmp") || fs::is_empty(root_ / "cache/tmp"));
}

TEST_F(Slurm, ScancelOfAJobFailsItsStepWithSlurmsReasonAndTheRerunCompletes) {
  spawn("QBUILD_TESTKIT_SLEEP=tiny-rtn-w8:120", "-j 2 -k 0");
  ASSERT_TRUE(wait_running(1, "tiny-rtn-w8_quant")) << bg_log();
  std::string id;
  for (const auto& j : active_jobs())
    if (j.name == "tiny-rtn-w8_quant") id = j.id;
  ASSERT_FALSE(id.empty());
  sh("scancel " + id);
  const int code = wait_exit(90);
  EXPECT_EQ(code, 1) << bg_log();
  EXPECT_NE(bg_log().find("Slurm job " + id), std::string::npos) << bg_log();
  EXPECT_NE(bg_log().find("CANCELLED"), std::string::npos) << bg_log();
  json failed;
  for (const auto& r : all_runs())
    if (r["name"] == "tiny-rtn-w8" && r["kind"] == "quant") failed = r;
  ASSERT_FALSE(failed.is_null());
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_EQ(failed["job_id"], id);
  EXPECT_EQ(failed["job_state"], "CANCELLED");
  EXPECT_NE(failed["message"].get<std::string>().find("Slurm job " + id), std::string::npos) << failed.dump();
  // The step's log names the job and Slurm's state.
  const std::string log = read(root_ / failed["log"].get<std::string>());
  EXPECT_NE(log.find("Slurm job " + id), std::string::npos) << log;
  EXPECT_NE(log.find("CANCELLED"), std::string::npos) << log;
  // It published nothing.
  const std::string key = failed["key"];
  EXPECT_FALSE(fs::exists(root_ / "cache/objects" / key.substr(0, 2) / key / "qbuild-artifact.json"));
  // Everything else was built (-k 0); the rerun builds that step and what needs it.
  EXPECT_EQ(count(all_runs(), "ok", "quant"), 3);
  auto again = qbuild("-j 2");
  ASSERT_EQ(again.code, 0) << again.text;
  EXPECT_EQ(count(all_runs(), "ok", "quant"), 4);
  auto v = qbuild("verify");
  EXPECT_EQ(v.code, 0) << v.text;
}

// Two checkouts (two users, say) share one cache and build the same keys at once through Slurm:
// every key is built by one job, the other checkout finds it cached, and both verify.
TEST_F(Slurm, TwoCheckoutsSharingOneCacheBuildEachKeyOnce) {
  const fs::path shared = root_.parent_path() / (root_.filename().string() + "-cache");
  const fs::path other = root_.parent_path() / (root_.filename().string() + "-b");
  fs::remove_all(shared);
  fs::remove_all(other);
  const std::string yaml = "cache: " + shared.string() + "\nexecutor: slurm\nslurm:\n  jobs: 4\n  default: {time: '10'}\n";
  write("pipline/project.yaml", yaml);
  for (const char* sub : {"rules", "pipline", "data/models/tiny", "data/datasets", "data/calib.txt"}) {
    fs::create_directories((other / sub).parent_path());
    fs::copy(root_ / sub, other / sub, fs::copy_options::recursive);
  }
  auto in_other = [&](const std::string& args, const std::string& env = "") {
    return qb::testing::run_command("cd '" + other.string() + "' && " + env + " '" QB_TESTKIT "' " + args);
  };
  Out a, b;
  std::thread ta([&] { a = qbuild("-j 2", "QBUILD_TESTKIT_SLEEP=quant:2"); });
  std::thread tb([&] { b = in_other("-j 2", "QBUILD_TESTKIT_SLEEP=quant:2"); });
  ta.join();
  tb.join();
  ASSERT_EQ(a.code, 0) << a.text;
  ASSERT_EQ(b.code, 0) << b.text;
  std::map<std::string, int> built;
  int hits = 0;
  auto other_runs = json::parse(in_other("runs --all --json 2>/dev/null").text, nullptr, false);
  ASSERT_FALSE(other_runs.is_discarded());
  for (const auto& runs : {all_runs(), other_runs})
    for (const auto& r : runs) {
      if (r["status"] == "ok") ++built[r["key"]];
      hits += r["status"] == "hit";
    }
  int nodes = 0;
  for (const auto& row : status_json()) nodes += row["state"] == "cached";
  EXPECT_EQ(static_cast<int>(built.size()), nodes);
  for (const auto& [key, n] : built) EXPECT_EQ(n, 1) << key << " was built " << n << " times";
  EXPECT_GT(hits, 0) << "the two builds never met on a key";
  EXPECT_FALSE(fs::exists(root_ / "cache/objects"));
  for (const auto& dir : {root_, other}) {
    auto v = qb::testing::run_command("cd '" + dir.string() + "' && '" QB_TESTKIT "' verify");
    EXPECT_EQ(v.code, 0) << v.text;
  }
  EXPECT_EQ(read(root_ / "results/mini.csv"), read(other / "results/mini.csv"));
}

// A quantize job killed mid-way (scancel here; a preemption or time limit is the same SIGTERM
// then SIGKILL): its finished layers stay in the store's partial/<key>/ and the rerun — another
// job, maybe on another node — computes only the rest (the real quantize step's layer
// checkpoints are tested on the CPU in tests/quant/layer_resume_test.cc).
TEST_F(Slurm, KilledQuantJobResumesFromItsFinishedLayers) {
  spawn("QBUILD_TESTKIT_LAYERS=6 QBUILD_TESTKIT_SLEEP=tiny-rtn-w8:12", "-j 2 -k 0");
  ASSERT_TRUE(wait_running(1, "tiny-rtn-w8_quant")) << bg_log();
  // Wait for some layers, not all, to be finished.
  const std::string key = [&] {
    for (int i = 0; i < 100; ++i)
      if (auto k = key_of("quant", "tiny-rtn-w8"); !k.empty()) return k;
    return std::string();
  }();
  ASSERT_FALSE(key.empty());
  const fs::path partial = root_ / "cache/partial" / key;
  auto done = [&] {
    int n = 0;
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(partial, ec)) n += f.path().extension() == ".done";
    return n;
  };
  for (int i = 0; i < 300 && done() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::string id;
  for (const auto& j : active_jobs())
    if (j.name == "tiny-rtn-w8_quant") id = j.id;
  ASSERT_FALSE(id.empty());
  sh("scancel " + id);
  EXPECT_EQ(wait_exit(90), 1) << bg_log();
  const int finished = done();
  ASSERT_GE(finished, 2);
  ASSERT_LT(finished, 6);
  // Nothing half-written is visible: the killed step published nothing.
  EXPECT_FALSE(fs::exists(root_ / "cache/objects" / key.substr(0, 2) / key / "qbuild-artifact.json"));

  auto again = qbuild("-j 2", "QBUILD_TESTKIT_LAYERS=6");
  ASSERT_EQ(again.code, 0) << again.text;
  json expected = json::array();
  for (int l = finished; l < 6; ++l) expected.push_back(l);
  EXPECT_EQ(manifest(key)["meta"]["layers_computed"], expected) << "only the unfinished layers are recomputed";
  EXPECT_FALSE(fs::exists(partial)) << "the partial work is deleted once the artifact is published";
}

}  // namespace
