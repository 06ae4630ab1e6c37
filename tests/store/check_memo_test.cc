// Unit tests for src/store/check_memo.h: the cheap check answered from recorded stats, and every
// way the memo must fall back to the real check (a file rewritten, deleted or touched, an
// artifact removed or replaced, a memo file that is damaged).
#include "store/check_memo.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "store_test_util.h"
#include "util/hash.h"

namespace qb::store {
namespace {

using namespace testing_util;

class CheckMemoTest : public ObjectStoreTest {
 protected:
  // The memo as a new plan sees it: loaded from disk after the last one saved it.
  CheckMemo reload(CheckMemo& m) {
    EXPECT_TRUE(m.save(layout()).is_ok());
    return CheckMemo::load(layout());
  }
  Result<bool> check(CheckMemo& m, const std::string& key) { return m.check(*store_, key, hasher_); }
  // Counts the files the check hashes (the planner's hasher goes through the index memo).
  FileHasher hasher_ = [this](const stdfs::path& p) -> Result<Digest> {
    ++hashed_;
    return hash_file(p);
  };
  int hashed_ = 0;
};

// Rewrites a file of an artifact with other bytes of the same size, a little later.
void rewrite_same_size(const stdfs::path& f, const std::string& data) {
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  write_text(f, data);
}

TEST_F(CheckMemoTest, AnUnchangedArtifactIsAnsweredFromTheMemo) {
  commit(key_of('a'), {{"model.safetensors", "weights"}, {"config.json", "{}"}});
  CheckMemo first = CheckMemo::load(layout());
  ASSERT_EQ(*check(first, key_of('a')), true);
  EXPECT_EQ(first.hits(), 0);
  CheckMemo second = reload(first);
  EXPECT_EQ(second.size(), 1u);
  ASSERT_EQ(*check(second, key_of('a')), true);
  EXPECT_EQ(second.hits(), 1);
  EXPECT_EQ(hashed_, 0);
}

TEST_F(CheckMemoTest, AFileRewrittenWithTheSameSizeIsFoundDamaged) {
  commit(key_of('a'), {{"model.safetensors", "weights-1"}});
  CheckMemo m = CheckMemo::load(layout());
  ASSERT_EQ(*check(m, key_of('a')), true);
  CheckMemo next = reload(m);
  rewrite_same_size(layout().object_dir(key_of('a')) / "model.safetensors", "weights-2");
  auto r = check(next, key_of('a'));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::kCorrupt);
  EXPECT_EQ(r.status().message(), "artifact " + key_of('a') + ": file 'model.safetensors' does not match its checksum");
  EXPECT_EQ(next.hits(), 0);
}

TEST_F(CheckMemoTest, AFileRewrittenWithItsOldMtimePutBackIsCheckedAgain) {
  commit(key_of('a'), {{"f", "bytes-1"}});
  CheckMemo m = CheckMemo::load(layout());
  ASSERT_EQ(*check(m, key_of('a')), true);
  CheckMemo next = reload(m);
  auto f = layout().object_dir(key_of('a')) / "f";
  auto mtime = stdfs::last_write_time(f);
  rewrite_same_size(f, "bytes-2");
  stdfs::last_write_time(f, mtime);  // the ctime still moves: the memo does not answer
  ASSERT_TRUE(check(next, key_of('a')).is_ok());  // …and the real check's own limit applies
  EXPECT_EQ(next.hits(), 0);
}

TEST_F(CheckMemoTest, ADeletedFileIsFoundMissing) {
  commit(key_of('a'), {{"f", "x"}, {"g", "y"}});
  CheckMemo m = CheckMemo::load(layout());
  ASSERT_EQ(*check(m, key_of('a')), true);
  CheckMemo next = reload(m);
  stdfs::remove(layout().object_dir(key_of('a')) / "g");
  auto r = check(next, key_of('a'));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "artifact " + key_of('a') + ": file 'g' is missing");
}

TEST_F(CheckMemoTest, ATouchedFileWithItsBytesIntactIsHashedOnceThenAnsweredFromTheMemo) {
  commit(key_of('a'), {{"f", "same bytes"}});
  CheckMemo m = CheckMemo::load(layout());
  ASSERT_EQ(*check(m, key_of('a')), true);
  auto f = layout().object_dir(key_of('a')) / "f";
  stdfs::last_write_time(f, stdfs::last_write_time(f) + std::chrono::seconds(10));  // e.g. cp without -p
  CheckMemo next = reload(m);
  ASSERT_EQ(*check(next, key_of('a')), true);
  EXPECT_EQ(hashed_, 1);
  CheckMemo third = reload(next);
  ASSERT_EQ(*check(third, key_of('a')), true);
  EXPECT_EQ(hashed_, 1);
  EXPECT_EQ(third.hits(), 1);
}

TEST_F(CheckMemoTest, ARemovedArtifactIsNotInTheStoreAndLeavesTheMemo) {
  commit(key_of('a'), {{"f", "x"}});
  commit(key_of('b'), {{"f", "y"}});
  CheckMemo m = CheckMemo::load(layout());
  ASSERT_EQ(*check(m, key_of('a')), true);
  ASSERT_EQ(*check(m, key_of('b')), true);
  CheckMemo next = reload(m);
  ASSERT_TRUE(store_->remove(key_of('a')).is_ok());
  EXPECT_EQ(*check(next, key_of('a')), false);
  EXPECT_EQ(*check(next, key_of('c')), false);  // never built
  EXPECT_EQ(reload(next).size(), 1u);
}

TEST_F(CheckMemoTest, AnArtifactReplacedUnderTheSameKeyIsCheckedAgain) {
  commit(key_of('a'), {{"f", "first"}});
  CheckMemo m = CheckMemo::load(layout());
  ASSERT_EQ(*check(m, key_of('a')), true);
  CheckMemo next = reload(m);
  ASSERT_TRUE(store_->remove(key_of('a')).is_ok());  // what a forced step does
  commit(key_of('a'), {{"f", "other"}, {"g", "new file"}});
  ASSERT_EQ(*check(next, key_of('a')), true);
  EXPECT_EQ(next.hits(), 0);
  stdfs::remove(layout().object_dir(key_of('a')) / "g");  // a file the old record never listed
  CheckMemo third = reload(next);
  EXPECT_EQ(check(third, key_of('a')).status().code(), Code::kCorrupt);
}

TEST_F(CheckMemoTest, RecordsOfArtifactsNotCheckedAreKeptWhileTheyAreThere) {
  commit(key_of('a'), {{"f", "x"}});
  commit(key_of('b'), {{"f", "y"}});
  CheckMemo m = CheckMemo::load(layout());
  ASSERT_EQ(*check(m, key_of('a')), true);
  ASSERT_EQ(*check(m, key_of('b')), true);
  CheckMemo one_target = reload(m);
  commit(key_of('c'), {{"f", "z"}});
  ASSERT_EQ(*check(one_target, key_of('c')), true);  // a plan of another target
  ASSERT_TRUE(store_->remove(key_of('b')).is_ok());  // gc'd meanwhile
  CheckMemo after = reload(one_target);
  EXPECT_EQ(after.size(), 2u);  // a and c
  ASSERT_EQ(*check(after, key_of('a')), true);
  EXPECT_EQ(after.hits(), 1);
}

TEST_F(CheckMemoTest, ADamagedMemoFileIsAnEmptyMemo) {
  commit(key_of('a'), {{"f", "x"}});
  CheckMemo m = CheckMemo::load(layout());
  ASSERT_EQ(*check(m, key_of('a')), true);
  ASSERT_TRUE(m.save(layout()).is_ok());
  const std::string good = read_text(layout().check_memo());
  for (const std::string& bad : {std::string(), good.substr(0, good.size() / 2), good.substr(0, good.size() - 1) + "x",
                                 std::string("garbage")}) {
    write_text(layout().check_memo(), bad);
    CheckMemo loaded = CheckMemo::load(layout());
    EXPECT_EQ(loaded.size(), 0u);
    ASSERT_EQ(*check(loaded, key_of('a')), true);
    EXPECT_EQ(loaded.hits(), 0);
  }
}

}  // namespace
}  // namespace qb::store
