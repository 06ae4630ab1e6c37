// Unit tests for src/util/subprocess.h: exit codes, the environment, inherited descriptors and
// a child that dies with its parent.
#include "util/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "util/fs.h"

namespace qb {
namespace {

TEST(RunProcess, ReturnsTheExitCodeAndSetsTheEnvironment) {
  ProcessOptions o;
  o.env["QB_TEST_X"] = "7";
  auto r = run_process({"/bin/sh", "-c", "exit $QB_TEST_X"}, o);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->exit_code, 7);
}

TEST(RunProcess, PassesOnlyTheNamedCloexecDescriptors) {
  int a = ::open("/dev/null", O_RDONLY | O_CLOEXEC), b = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  ProcessOptions o;
  o.inherit_fds = {a};
  std::string script = "test -e /proc/self/fd/" + std::to_string(a) + " && ! test -e /proc/self/fd/" + std::to_string(b);
  auto r = run_process({"/bin/sh", "-c", script}, o);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(::fcntl(a, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);  // unchanged in the parent
  ::close(a);
  ::close(b);
}

// Issue 15 finding 6: Ninja must not outlive a killed qbuild.
TEST(RunProcess, AChildStartedToDieWithItsParentGetsSigtermWhenTheParentIsKilled) {
  auto t = fs::TempDir::create(std::filesystem::temp_directory_path(), "qb_subprocess_test.");
  ASSERT_TRUE(t.is_ok());
  auto pidfile = t->path() / "child.pid";
  pid_t parent = ::fork();
  if (parent == 0) {  // a "qbuild" running a long child, killed below
    ProcessOptions o;
    o.die_with_parent = true;
    (void)run_process({"/bin/sh", "-c", "echo $$ > '" + pidfile.string() + "'; exec sleep 30"}, o);
    ::_exit(0);
  }
  pid_t child = 0;
  for (int i = 0; i < 200 && child == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto text = fs::read_file(pidfile);
    if (text.is_ok() && !text->empty() && text->back() == '\n') child = std::stoi(*text);
  }
  ASSERT_GT(child, 0);
  ::kill(parent, SIGKILL);
  int st = 0;
  ::waitpid(parent, &st, 0);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    // Reaped by init (or a subreaper) once dead; a zombie counts as dead too.
    auto stat = fs::read_file("/proc/" + std::to_string(child) + "/stat");
    gone = !stat.is_ok() || stat->find(") Z ") != std::string::npos;
  }
  EXPECT_TRUE(gone) << "the child outlived its killed parent";
  if (!gone) ::kill(child, SIGKILL);
}

}  // namespace
}  // namespace qb
