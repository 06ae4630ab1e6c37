// End-to-end scenarios for the store's robustness (issue 15): nothing built is lost and nothing
// is written outside the project, whatever is killed, full, read-only, damaged or concurrent.
// Each test names the finding it covers; each failed on the code before the fix.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e_fixture.h"
#include "store/object_store.h"
#include "store/sqlite_db.h"
#include "util/hash.h"

namespace {

namespace fs = std::filesystem;
using qb::e2e::spawn;
using qb::e2e::wait_for_tmp;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool alive(pid_t pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  return text.find(") Z ") == std::string::npos;  // a zombie is dead
}

template <typename F>
bool eventually(F f, int ms = 10000) {
  for (int i = 0; i < ms / 10; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return f();
}

// Processes whose argv or working directory names `root` (a test's project): its qbuild
// invocations, Ninja, and the steps (`qbuild --project <root> step …`).
std::vector<pid_t> processes_of(const fs::path& root, bool steps_only) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> argv;
    for (std::size_t a = 0, b; a < text.size(); a = b + 1) {
      b = text.find('\0', a);
      if (b == std::string::npos) b = text.size();
      argv.push_back(text.substr(a, b - a));
    }
    bool mine = std::find(argv.begin(), argv.end(), root.string()) != argv.end();
    std::error_code ec;
    if (!mine) mine = fs::read_symlink(e.path() / "cwd", ec) == root;
    bool step = argv.size() > 1 && argv[0] != "/bin/sh" && std::find(argv.begin(), argv.end(), "step") != argv.end();
    if (mine && (!steps_only || step) && std::stoi(name) != ::getpid()) out.push_back(std::stoi(name));
  }
  return out;
}

// The children of `pid` whose command name is `comm`.
std::vector<pid_t> children_named(pid_t pid, const std::string& comm) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream in(e.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto open = text.find('('), close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::string c = text.substr(open + 1, close - open - 1);
    int ppid = 0;
    char state = 0;
    std::sscanf(text.c_str() + close + 1, " %c %d", &state, &ppid);
    if (ppid == pid && c == comm) out.push_back(std::stoi(name));
  }
  return out;
}

class StoreE2E : public qb::e2e::E2E {
 protected:
  // Whatever a failed assertion left running in this project (a background qbuild, an
  // orphaned step) is stopped, so it cannot hold files or locks of the next test.
  void TearDown() override {
    for (pid_t pid : processes_of(root_, false)) ::kill(pid, SIGKILL);
    for (pid_t pid : spawned_) ::waitpid(pid, nullptr, WNOHANG);
  }
  pid_t background(const std::string& env_kv, const std::string& args) {
    pid_t pid = spawn(root_, env_kv, args);
    spawned_.push_back(pid);
    return pid;
  }
  std::vector<pid_t> spawned_;
  std::string csv() { return slurp(root_ / "results/mini.csv"); }
  // The object folder a data/models link points at.
  fs::path model_dir(const std::string& variant) {
    return (root_ / "data/models" / fs::read_symlink(root_ / "data/models" / variant)).lexically_normal();
  }
  fs::path object_dir(const std::string& key) { return root_ / "cache/objects" / key.substr(0, 2) / key; }
  std::string key_of(const std::string& kind, const std::string& name) {
    for (const auto& r : all_runs())
      if (r["kind"] == kind && r["name"] == name && r["status"] == "ok") return r["key"];
    return "";
  }
  // Entries under cache/ (recursively, relative), leaving out SQLite's -wal/-shm companions
  // (empty ones may appear when a command merely tries to open the index).
  std::set<std::string> cache_tree() {
    std::set<std::string> out;
    for (auto it = fs::recursive_directory_iterator(root_ / "cache"); it != fs::recursive_directory_iterator(); ++it) {
      std::string rel = fs::relative(it->path(), root_).string();
      if (rel.ends_with("-wal") || rel.ends_with("-shm")) continue;
      out.insert(rel);
    }
    return out;
  }
  void remove_index() {
    for (const char* sfx : {"", "-wal", "-shm"}) fs::remove(root_ / ("cache/index.sqlite" + std::string(sfx)));
  }
  // Rewrites a file of an artifact with other bytes of the same size; with keep_mtime, puts the
  // old mtime back (bit rot, or a careful hand: invisible to any cheap check).
  void damage(const fs::path& file, bool keep_mtime) {
    auto before = fs::last_write_time(file);
    std::string bytes = slurp(file);
    ASSERT_FALSE(bytes.empty());
    bytes[bytes.size() / 2] ^= 0x20;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
    if (keep_mtime) fs::last_write_time(file, before);
  }
  int count_objects() {
    int n = 0;
    for (const auto& shard : fs::directory_iterator(root_ / "cache/objects"))
      for ([[maybe_unused]] const auto& obj : fs::directory_iterator(shard)) ++n;
    return n;
  }
  // Runs a shell command line in the project in the background, in its own process group.
  pid_t spawn_sh(const std::string& line, const std::string& log = "bg2.log") {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::setpgid(0, 0);
      if (::chdir(root_.c_str()) != 0) ::_exit(127);
      std::freopen((root_ / log).c_str(), "w", stdout);
      std::freopen((root_ / log).c_str(), "a", stderr);
      ::execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::setpgid(pid, pid);
    spawned_.push_back(pid);
    return pid;
  }
  int wait_exit(pid_t pid) {
    int st = 0;
    ::waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  // The replay script of the last run of `kind` for `name`.
  fs::path replay_script(const std::string& kind, const std::string& name) {
    std::string log;
    for (const auto& r : all_runs())
      if (r["kind"] == kind && r["name"] == name) log = r["log"];
    return root_ / fs::path(log).replace_extension(".sh");
  }
  // The pid of a running step of this project (0 when none).
  pid_t running_step_pid() {
    auto steps = processes_of(root_, true);
    return steps.empty() ? 0 : steps.front();
  }
};

constexpr int kAllSteps = 15;  // as in e2e_test.cc: check, trans, 4 quant, sample, 4 generate, 4 score

// --- Finding 1: a lost or half-rebuilt index is never trusted; a CSV never loses rows to it ---

TEST_F(StoreE2E, IndexWithoutArtifactRowsIsRepairedAndTheCsvKeepsEveryRow) {
  ASSERT_EQ(qbuild("").code, 0);
  std::string before = csv();
  {  // what a rebuild killed half-way left behind: the tables, no artifact rows
    auto db = qb::store::Db::open(root_ / "cache/index.sqlite");
    ASSERT_TRUE(db.is_ok());
    ASSERT_TRUE(db->exec("DELETE FROM artifacts").is_ok());
  }
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("the index had no row for 15 artifact(s) in cache/objects/"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("nothing to do (15 cached)"), std::string::npos) << o.text;
  EXPECT_EQ(csv(), before);
}

TEST_F(StoreE2E, AZeroByteIndexIsNotAnEmptyIndex) {
  ASSERT_EQ(qbuild("").code, 0);
  std::string before = csv();
  remove_index();
  write("cache/index.sqlite", "");
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("is not a qbuild index (empty)"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("nothing to do (15 cached)"), std::string::npos) << o.text;
  EXPECT_EQ(csv(), before);
}

TEST_F(StoreE2E, AnIndexRebuildKilledAnywhereIsRedoneAndLosesNoRow) {
  ASSERT_EQ(qbuild("").code, 0);
  std::string before = csv();
  // Many more objects (not in the graph) so that the rebuild takes long enough to be killed in.
  for (int i = 0; i < 1500; ++i) {
    char key[33];
    std::snprintf(key, sizeof key, "%032x", 0xf00000 + i);
    qb::store::Manifest m;
    m.key = key;
    m.kind = "quant";
    m.name = "filler" + std::to_string(i);
    m.created_unix = 1;
    write("cache/objects/" + std::string(key, 2) + "/" + key + "/qbuild-artifact.json", m.to_json().dump());
  }
  for (int delay_ms : {0, 30, 120}) {
    remove_index();
    pid_t pid = background("", "-j1");
    ASSERT_TRUE(eventually([&] {
      for (const auto& e : fs::directory_iterator(root_ / "cache"))
        if (e.path().filename().string().starts_with("index.sqlite")) return true;
      return false;
    }, 20000));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(-pid, SIGKILL);
    wait_exit(pid);
    auto o = qbuild("");
    ASSERT_EQ(o.code, 0) << "kill after " << delay_ms << " ms: " << o.text;
    EXPECT_NE(o.text.find("nothing to do (15 cached)"), std::string::npos) << "kill after " << delay_ms << " ms: " << o.text;
    EXPECT_EQ(csv(), before) << "kill after " << delay_ms << " ms";
  }
}

// --- Finding 2: a full disk (or another machine fault) is not corruption; read-only commands
// change nothing ---

// Runs the testkit with every file limited to `limit` bytes (SIGXFSZ ignored: writes fail with
// EFBIG, which SQLite sees as a full disk).
qb::e2e::Out run_with_file_size_limit(const fs::path& root, const std::string& args, int limit = 0) {
  return qb::testing::run_command("cd '" + root.string() + "' && trap '' XFSZ && prlimit --fsize=" + std::to_string(limit) +
                                  " '" QB_TESTKIT "' " + args);
}

TEST_F(StoreE2E, AFullDiskMovesNothingAndLosesNoHistory) {
  if (std::system("prlimit --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "prlimit (util-linux) is not installed";
  ASSERT_EQ(qbuild("").code, 0);
  auto tree = cache_tree();
  std::string index = slurp(root_ / "cache/index.sqlite");
  auto status = run_with_file_size_limit(root_, "status");
  EXPECT_EQ(status.code, 0) << status.text;  // read-only: it still answers
  EXPECT_NE(status.text.find("File too large"), std::string::npos) << status.text;
  EXPECT_NE(status.text.find("15 cached, 0 missing"), std::string::npos) << status.text;
  auto build = run_with_file_size_limit(root_, "");
  EXPECT_EQ(build.code, 1) << build.text;
  EXPECT_NE(build.text.find("File too large"), std::string::npos) << build.text;
  EXPECT_NE(build.text.find("nothing was changed"), std::string::npos) << build.text;
  EXPECT_EQ(cache_tree(), tree);  // no index.sqlite.corrupt-*, nothing deleted
  EXPECT_EQ(slurp(root_ / "cache/index.sqlite"), index);
  // Space is back: the history is all there.
  EXPECT_EQ(count(all_runs(), "ok"), kAllSteps);
  EXPECT_NE(qbuild("").text.find("nothing to do (15 cached)"), std::string::npos);
}

TEST_F(StoreE2E, ReadOnlyCommandsLeaveACorruptIndexWhereItIs) {
  ASSERT_EQ(qbuild("").code, 0);
  remove_index();
  write("cache/index.sqlite", std::string(8192, 'x'));
  auto tree = cache_tree();
  for (const std::string& cmd : {"status", "-n", "explain data/models/tiny-rtn-w8", "graph", "runs", "gc --dry-run --all"}) {
    auto o = qbuild(cmd);
    EXPECT_EQ(o.code, 0) << cmd << ": " << o.text;
    EXPECT_EQ(cache_tree(), tree) << cmd << " changed cache/";
    EXPECT_EQ(slurp(root_ / "cache/index.sqlite"), std::string(8192, 'x')) << cmd;
  }
  auto status = qbuild("status");
  EXPECT_NE(status.text.find("the index is unusable"), std::string::npos) << status.text;
  EXPECT_NE(status.text.find("15 cached, 0 missing"), std::string::npos) << status.text;
  EXPECT_NE(status.text.find("\"acc\""), std::string::npos) << status.text;  // scores, from the manifests
  auto o = qbuild("");  // a build does repair it
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("the index was unusable"), std::string::npos) << o.text;
}

TEST_F(StoreE2E, ReadOnlyCommandsReportADamagedArtifactAndMoveNothing) {
  ASSERT_EQ(qbuild("").code, 0);
  auto dir = model_dir("tiny-rtn-w8");
  fs::remove(dir / "part2.json");
  auto tree = cache_tree();
  auto o = qbuild("status");
  EXPECT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("file 'part2.json' is missing; the next qbuild moves it to cache/quarantine/"), std::string::npos)
      << o.text;
  EXPECT_NE(o.text.find("14 cached, 1 missing"), std::string::npos) << o.text;
  auto dry = qbuild("-n");
  EXPECT_NE(dry.text.find("artifact damaged: artifact "), std::string::npos) << dry.text;
  EXPECT_EQ(cache_tree(), tree);
  EXPECT_TRUE(fs::exists(dir / "part1.json"));
}

// --- Finding 19: a read-only cache ---

// A command line that runs as a user who may not write the project (root ignores permissions:
// drop to nobody), or "" when that cannot be arranged.
std::string as_reader() {
  if (::geteuid() != 0) return "";
  if (std::system("setpriv --version > /dev/null 2>&1") != 0) return "-";
  return "setpriv --reuid=65534 --regid=65534 --clear-groups ";
}

TEST_F(StoreE2E, AReadOnlyCacheStillAnswersReadOnlyCommandsAndABuildSaysWhatIsReadOnly) {
  std::string prefix = as_reader();
  if (prefix == "-") GTEST_SKIP() << "running as root without setpriv: cannot make the cache read-only";
  ASSERT_EQ(qbuild("").code, 0);
  // The project is the reader's to write; only cache/ is not (a shared or read-only cache).
  ASSERT_EQ(std::system(("chmod -R a+rwX '" + root_.string() + "' && chmod -R a-w '" + (root_ / "cache").string() + "'").c_str()), 0);
  auto tree = cache_tree();
  auto run = [&](const std::string& args) {
    return qb::testing::run_command("cd '" + root_.string() + "' && " + prefix + "'" QB_TESTKIT "' " + args);
  };
  auto status = run("status");
  EXPECT_EQ(status.code, 0) << status.text;
  EXPECT_NE(status.text.find("15 cached, 0 missing"), std::string::npos) << status.text;
  EXPECT_NE(status.text.find("'cache' is not writable"), std::string::npos) << status.text;
  auto runs = run("runs --all --json");
  EXPECT_EQ(runs.code, 0) << runs.text;
  EXPECT_NE(runs.text.find("\"status\": \"ok\""), std::string::npos) << runs.text;
  auto build = run("");
  EXPECT_EQ(build.code, 1) << build.text;
  EXPECT_NE(build.text.find("'cache' is not writable ("), std::string::npos) << build.text;
  EXPECT_NE(build.text.find("status, explain, graph, runs and --dry-run still work"), std::string::npos) << build.text;
  EXPECT_EQ(build.text.find("unable to open database file"), std::string::npos) << build.text;
  ASSERT_EQ(std::system(("chmod -R u+w '" + (root_ / "cache").string() + "'").c_str()), 0);
  EXPECT_EQ(cache_tree(), tree);
}

// --- Finding 3: damaged artifacts are found and rebuilt ---

TEST_F(StoreE2E, AFileRewrittenBehindQbuildsBackIsQuarantinedAndRebuilt) {
  ASSERT_EQ(qbuild("").code, 0);
  auto dir = model_dir("tiny-rtn-w8");
  damage(dir / "part1.json", /*keep_mtime=*/false);
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_NE(o.text.find("file 'part1.json' does not match its checksum; moved it to cache/quarantine/"), std::string::npos)
      << o.text;
  auto runs = all_runs();
  EXPECT_EQ(count(runs, "ok", "quant"), 5);
  EXPECT_EQ(count(runs, "ok", "generate"), 4);  // same key, same bytes: its generation stays cached
  EXPECT_EQ(qbuild("verify").code, 0);
  EXPECT_EQ(fs::is_empty(root_ / "cache/quarantine"), false);
}

TEST_F(StoreE2E, AStepChecksItsInputsAndRefusesADamagedOne) {
  ASSERT_EQ(qbuild("").code, 0);
  auto model = model_dir("tiny-rtn-w8");
  damage(model / "part1.json", /*keep_mtime=*/true);  // invisible to the plan's cheap check
  fs::remove_all(object_dir(key_of("generate", "tiny-rtn-w8")));  // so its generation runs again
  auto o = qbuild("");
  EXPECT_EQ(o.code, 1) << o.text;
  EXPECT_NE(o.text.find("input 'model' (tiny-rtn-w8, key "), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("is damaged: artifact "), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("moved it to cache/quarantine/"), std::string::npos) << o.text;
  EXPECT_FALSE(fs::exists(model / "part1.json"));
  auto again = qbuild("");
  ASSERT_EQ(again.code, 0) << again.text;
  auto runs = all_runs();
  EXPECT_EQ(count(runs, "ok", "quant"), 5);
  EXPECT_EQ(count(runs, "ok", "generate"), 5);
  EXPECT_EQ(count(runs, "failed", "generate"), 1);
}

TEST_F(StoreE2E, VerifyFindsDamageNoCheapCheckSeesAndTheNextBuildRebuildsIt) {
  ASSERT_EQ(qbuild("").code, 0);
  auto ok = qbuild("verify");
  ASSERT_EQ(ok.code, 0) << ok.text;
  EXPECT_NE(ok.text.find("verified 15 object(s)"), std::string::npos) << ok.text;
  EXPECT_NE(ok.text.find("all intact"), std::string::npos) << ok.text;
  damage(model_dir("tiny-rtn-w8") / "part1.json", /*keep_mtime=*/true);
  auto one = qbuild("verify data/models/tiny-rtn-dyn");
  EXPECT_EQ(one.code, 0) << one.text;
  EXPECT_NE(one.text.find("verified 2 object(s)"), std::string::npos) << one.text;  // the model and its source check
  auto bad = qbuild("verify");
  EXPECT_EQ(bad.code, 1) << bad.text;
  EXPECT_NE(bad.text.find("file 'part1.json' does not match its checksum; moved it to cache/quarantine/"), std::string::npos)
      << bad.text;
  EXPECT_NE(bad.text.find("1 damaged"), std::string::npos) << bad.text;
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_EQ(count(all_runs(), "ok", "quant"), 5);
  EXPECT_EQ(qbuild("verify").code, 0);
}

// --- Finding 4: every writer takes the lock it needs; cache/tmp is cleaned only of the dead ---

TEST_F(StoreE2E, AReplayedStepBesideABuildKeepsItsFolderAndPublishesEveryFile) {
  ASSERT_EQ(qbuild("").code, 0);
  auto script = replay_script("quant", "tiny-rtn-w8");
  auto dir = model_dir("tiny-rtn-w8");
  fs::remove_all(dir);  // so the replay rebuilds it
  pid_t replay = spawn_sh("QBUILD_TESTKIT_SLEEP=quant:2 sh '" + script.string() + "'");
  ASSERT_TRUE(wait_for_tmp(root_));
  auto o = qbuild("");  // starts while the replay writes into cache/tmp/
  EXPECT_EQ(o.code, 0) << o.text;
  EXPECT_EQ(wait_exit(replay), 0) << slurp(root_ / "bg2.log");
  EXPECT_TRUE(fs::exists(dir / "part1.json"));
  EXPECT_TRUE(fs::exists(dir / "part2.json"));
  EXPECT_EQ(qbuild("verify").code, 0);
  EXPECT_NE(qbuild("").text.find("nothing to do (15 cached)"), std::string::npos);
}

TEST_F(StoreE2E, GcWaitsForAReplayedStepAndNoWaitExitsFour) {
  ASSERT_EQ(qbuild("").code, 0);
  auto script = replay_script("quant", "tiny-rtn-w8");
  fs::remove_all(model_dir("tiny-rtn-w8"));
  pid_t replay = spawn_sh("QBUILD_TESTKIT_SLEEP=quant:2 sh '" + script.string() + "'");
  ASSERT_TRUE(wait_for_tmp(root_));
  auto o = qbuild("gc --all --no-wait");
  EXPECT_EQ(o.code, 4) << o.text;
  EXPECT_NE(o.text.find("steps are running in this project"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("qbuild step quant"), std::string::npos) << o.text;
  auto waited = qbuild("gc --all");
  EXPECT_EQ(waited.code, 0) << waited.text;
  EXPECT_NE(waited.text.find("waiting for the running steps to finish"), std::string::npos) << waited.text;
  EXPECT_EQ(wait_exit(replay), 0) << slurp(root_ / "bg2.log");
  EXPECT_NE(qbuild("").text.find("nothing to do (15 cached)"), std::string::npos);
}

// --- Finding 5: gc deletes only what no config needs, and says so first ---

TEST_F(StoreE2E, GcRefusesASelectionOrATarget) {
  ASSERT_EQ(qbuild("").code, 0);
  int objects = count_objects();
  for (const std::string& args : {"--trans-config original gc --all", "--quant-config rtn-w8 gc --all",
                                  "--eval-config mini gc --all", "results/mini.csv gc --all"}) {
    auto o = qbuild(args);
    EXPECT_EQ(o.code, 2) << args << ": " << o.text;
    EXPECT_NE(o.text.find("it refuses --trans-config, --quant-config, --eval-config and targets"), std::string::npos)
        << args << ": " << o.text;
  }
  EXPECT_EQ(count_objects(), objects);
}

TEST_F(StoreE2E, GcRefusesAPipelineWithoutConfigs) {
  ASSERT_EQ(qbuild("").code, 0);
  int objects = count_objects();
  fs::create_directories(root_ / "empty");
  for (const std::string& dir : {"/etc", "empty"}) {
    auto o = qbuild("--pipeline " + dir + " gc --all");
    EXPECT_EQ(o.code, 3) << dir << ": " << o.text;
    EXPECT_NE(o.text.find("describes no artifacts"), std::string::npos) << dir << ": " << o.text;
  }
  EXPECT_EQ(count_objects(), objects);
}

// A build, a dry run or a status of a folder without configs is a wrong --pipeline, not an
// empty study that succeeds with "0 to run".
TEST_F(StoreE2E, APipelineWithoutConfigsIsAConfigError) {
  fs::create_directories(root_ / "empty");
  for (const std::string& args : {"--pipeline empty", "--pipeline empty --dry-run", "--pipeline /etc status"}) {
    auto o = qbuild(args);
    EXPECT_EQ(o.code, 3) << args << ": " << o.text;
    EXPECT_NE(o.text.find("describes no artifacts"), std::string::npos) << args << ": " << o.text;
  }
}

TEST_F(StoreE2E, GcRefusesWhileAConfigIsALinkToNothing) {
  ASSERT_EQ(qbuild("").code, 0);
  int objects = count_objects();
  fs::rename(root_ / "pipline/2-quant/rtn-wo.yaml", root_ / "rtn-wo.yaml");
  fs::create_symlink("../../rtn-wo-moved.yaml", root_ / "pipline/2-quant/rtn-wo.yaml");
  auto o = qbuild("gc --all");
  EXPECT_EQ(o.code, 3) << o.text;
  EXPECT_NE(o.text.find("pipline/2-quant/rtn-wo.yaml: error: the config is a link to nothing"), std::string::npos) << o.text;
  EXPECT_EQ(count_objects(), objects);
}

TEST_F(StoreE2E, GcKeepsRecentObjectsUnlessToldAndSaysHowMuchFirst) {
  ASSERT_EQ(qbuild("").code, 0);
  fs::remove(root_ / "pipline/2-quant/rtn-wo.yaml");
  int objects = count_objects();
  auto kept = qbuild("gc");
  ASSERT_EQ(kept.code, 0) << kept.text;
  EXPECT_NE(kept.text.find("deleting 0 other object(s)"), std::string::npos) << kept.text;
  EXPECT_NE(kept.text.find("keeping 6 unneeded object(s)"), std::string::npos) << kept.text;
  EXPECT_NE(kept.text.find("built in the last 7 day(s)"), std::string::npos) << kept.text;
  EXPECT_EQ(count_objects(), objects);
  auto dry = qbuild("gc --keep-days 0 --dry-run");
  EXPECT_NE(dry.text.find("would delete 6 other object(s)"), std::string::npos) << dry.text;
  EXPECT_EQ(count_objects(), objects);
  auto o = qbuild("gc --keep-days 0");
  ASSERT_EQ(o.code, 0) << o.text;
  auto summary = o.text.find("deleting 6 other object(s)"), first = o.text.find("\ndeleting ");
  EXPECT_NE(summary, std::string::npos) << o.text;
  EXPECT_LT(summary, first) << o.text;  // the total before the first deletion
  EXPECT_NE(o.text.find("freed 6 object(s)"), std::string::npos) << o.text;
  EXPECT_EQ(count_objects(), objects - 6);
}

TEST_F(StoreE2E, GcWithNoWaitExitsFourWhileABuildRuns) {
  pid_t pid = background("QBUILD_TESTKIT_SLEEP=quant:2", "");
  ASSERT_TRUE(wait_for_tmp(root_, "quant"));
  auto o = qbuild("gc --no-wait");
  EXPECT_EQ(o.code, 4) << o.text;
  EXPECT_NE(o.text.find("another qbuild is running in this project"), std::string::npos) << o.text;
  EXPECT_EQ(wait_exit(pid), 0);
}

// --- Finding 6: the project stays locked while anything of a build still runs ---

TEST_F(StoreE2E, KillingOnlyQbuildStopsNinjaAndTheStep) {
  pid_t pid = background("QBUILD_TESTKIT_SLEEP=quant:30", "");
  ASSERT_TRUE(wait_for_tmp(root_, "quant"));
  pid_t step = 0;
  ASSERT_TRUE(eventually([&] { return (step = running_step_pid()) > 0; }));
  ::kill(pid, SIGKILL);  // qbuild alone, not its process group
  wait_exit(pid);
  EXPECT_TRUE(eventually([&] { return !alive(step); })) << "the step outlived qbuild";
  if (alive(step)) ::kill(step, SIGKILL);
  EXPECT_TRUE(eventually([&] { return count(all_runs(), "interrupted") == 1; })) << all_runs().dump();
  auto o = qbuild("--no-wait");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_EQ(count(all_runs(), "ok"), kAllSteps);
}

TEST_F(StoreE2E, AnOrphanedStepKeepsTheProjectLocked) {
  pid_t pid = background("QBUILD_TESTKIT_SLEEP=quant:3", "");
  ASSERT_TRUE(wait_for_tmp(root_, "quant"));
  pid_t step = 0;
  ASSERT_TRUE(eventually([&] { return (step = running_step_pid()) > 0; }));
  auto ninja = children_named(pid, "ninja");
  ASSERT_EQ(ninja.size(), 1u);
  ::kill(ninja[0], SIGKILL);  // Ninja and qbuild die at once, the step runs on (e.g. the OOM killer)
  ::kill(pid, SIGKILL);
  wait_exit(pid);
  ASSERT_TRUE(alive(step));
  auto busy = qbuild("--no-wait");
  EXPECT_EQ(busy.code, 4) << busy.text;
  EXPECT_TRUE(alive(step)) << "the step finished before the check: raise its sleep";
  EXPECT_TRUE(eventually([&] { return !alive(step); }));
  auto o = qbuild("");
  ASSERT_EQ(o.code, 0) << o.text;
  EXPECT_EQ(count(all_runs(), "ok"), kAllSteps);
}

}  // namespace
