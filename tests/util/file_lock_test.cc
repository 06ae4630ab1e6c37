// Unit tests for src/util/file_lock.h: exclusive and shared modes, conversion, adopting an
// inherited descriptor, and the rule that releasing never unlocks a lock a child still holds.
#include "util/file_lock.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "util/fs.h"

namespace qb {
namespace {

class FileLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = fs::TempDir::create(std::filesystem::temp_directory_path(), "qb_lock_test.");
    ASSERT_TRUE(t.is_ok());
    dir_ = std::move(*t);
    path_ = dir_.path() / "x.lock";
  }
  // Whether another process could take the lock in `mode` right now.
  bool free_for_another_process(LockMode mode) {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(FileLock::try_acquire(path_, "probe", mode).is_ok() ? 0 : 1);
    int st = 0;
    ::waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
  }
  fs::TempDir dir_;
  std::filesystem::path path_;
};

TEST_F(FileLockTest, ExclusiveExcludesEveryone) {
  auto l = FileLock::try_acquire(path_, "build");
  ASSERT_TRUE(l.is_ok());
  EXPECT_FALSE(free_for_another_process(LockMode::kShared));
  EXPECT_FALSE(free_for_another_process(LockMode::kExclusive));
  auto busy = FileLock::try_acquire(path_, "second", LockMode::kExclusive);
  ASSERT_FALSE(busy.is_ok());
  EXPECT_EQ(busy.status().code(), Code::kBusy);
  EXPECT_NE(busy.status().message().find(": build"), std::string::npos) << busy.status().message();
}

TEST_F(FileLockTest, SharedAdmitsSharedAndExcludesExclusive) {
  auto l = FileLock::try_acquire(path_, "step", LockMode::kShared);
  ASSERT_TRUE(l.is_ok());
  EXPECT_TRUE(free_for_another_process(LockMode::kShared));
  EXPECT_FALSE(free_for_another_process(LockMode::kExclusive));
  l->release();
  EXPECT_TRUE(free_for_another_process(LockMode::kExclusive));
}

TEST_F(FileLockTest, ConvertUpgradesAndDowngrades) {
  auto l = FileLock::try_acquire(path_, "build", LockMode::kShared);
  ASSERT_TRUE(l.is_ok());
  ASSERT_TRUE(l->convert(LockMode::kExclusive, false).is_ok());
  EXPECT_FALSE(free_for_another_process(LockMode::kShared));
  ASSERT_TRUE(l->convert(LockMode::kShared).is_ok());
  EXPECT_TRUE(free_for_another_process(LockMode::kShared));
  EXPECT_EQ(l->mode(), LockMode::kShared);
}

TEST_F(FileLockTest, AFailedUpgradeWithoutWaitKeepsTheSharedLock) {
  auto mine = FileLock::try_acquire(path_, "build", LockMode::kShared);
  auto other = FileLock::try_acquire(path_, "step", LockMode::kShared);
  ASSERT_TRUE(mine.is_ok() && other.is_ok());
  Status s = mine->convert(LockMode::kExclusive, false);
  EXPECT_EQ(s.code(), Code::kBusy);
  EXPECT_EQ(mine->mode(), LockMode::kShared);
  other->release();
  EXPECT_FALSE(free_for_another_process(LockMode::kExclusive));  // still held shared by `mine`
}

// Issue 15 finding 6: the lock must outlive the qbuild process while a child still runs.
TEST_F(FileLockTest, AChildThatInheritedTheDescriptorKeepsTheLockAfterTheParentReleases) {
  auto l = FileLock::try_acquire(path_, "build");
  ASSERT_TRUE(l.is_ok());
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t child = ::fork();
  if (child == 0) {  // holds the inherited descriptor until told to exit
    ::close(pipefd[1]);
    char c;
    [[maybe_unused]] auto n = ::read(pipefd[0], &c, 1);
    ::_exit(0);
  }
  ::close(pipefd[0]);
  l->release();
  EXPECT_FALSE(free_for_another_process(LockMode::kExclusive));
  ::close(pipefd[1]);
  int st = 0;
  ::waitpid(child, &st, 0);
  EXPECT_TRUE(free_for_another_process(LockMode::kExclusive));
}

TEST_F(FileLockTest, AdoptTakesOverAnInheritedHeldDescriptor) {
  auto l = FileLock::try_acquire(path_, "build", LockMode::kShared);
  ASSERT_TRUE(l.is_ok());
  auto adopted = FileLock::adopt(path_, l->fd(), LockMode::kShared);
  ASSERT_TRUE(adopted.is_ok()) << adopted.status().to_string();
  l->release();
  EXPECT_FALSE(free_for_another_process(LockMode::kExclusive));  // the adopted copy holds it
}

TEST_F(FileLockTest, AdoptRefusesADescriptorOfAnotherFile) {
  auto other = FileLock::try_acquire(dir_.path() / "other.lock", "x");
  ASSERT_TRUE(other.is_ok());
  auto a = FileLock::adopt(path_, other->fd(), LockMode::kShared);
  ASSERT_FALSE(a.is_ok());
  EXPECT_EQ(a.status().code(), Code::kNotFound);
  EXPECT_EQ(FileLock::adopt(path_, 987, LockMode::kShared).status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace qb
