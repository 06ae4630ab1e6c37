// Unit tests for src/util/memo_file.h: round trips of any bytes, and every damaged file (torn,
// flipped, another magic or version, trailing bytes) read as no memo at all.
#include "util/memo_file.h"

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

namespace qb::fs {
namespace {

class MemoFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::create(std::filesystem::temp_directory_path(), "qb_memo_test.");
    ASSERT_TRUE(t.is_ok());
    dir_ = std::move(*t);
  }
  std::filesystem::path path() const { return dir_.path() / "x.memo"; }
  std::string bytes() const {
    std::ifstream in(path(), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void put(const std::string& b) const { std::ofstream(path(), std::ios::binary | std::ios::trunc) << b; }
  TempDir dir_;
};

TEST_F(MemoFileTest, RoundTripsNumbersStringsWithAnyBytesAndStats) {
  MemoWriter w;
  const std::string odd("a\nb\tc\0d", 7);
  w.u64(0).u64(~0ull).i64(-5).str("").str(odd).stat(FileStat{1, 2, 3, -4, 5});
  ASSERT_TRUE(write_memo(path(), "qb-test", 3, w).is_ok());
  auto r = read_memo(path(), "qb-test", 3);
  ASSERT_TRUE(r.has_value());
  std::uint64_t a = 1, b = 0;
  std::int64_t c = 0;
  std::string s1 = "x", s2;
  FileStat st;
  ASSERT_TRUE(r->u64(a) && r->u64(b) && r->i64(c) && r->str(s1) && r->str(s2) && r->stat(st));
  EXPECT_EQ(a, 0u);
  EXPECT_EQ(b, ~0ull);
  EXPECT_EQ(c, -5);
  EXPECT_EQ(s1, "");
  EXPECT_EQ(s2, odd);
  EXPECT_EQ(st, (FileStat{1, 2, 3, -4, 5}));
  EXPECT_TRUE(r->at_end());
  std::uint64_t more = 0;
  EXPECT_FALSE(r->u64(more));  // reading past the end fails, and stays failed
  EXPECT_FALSE(r->ok());
}

TEST_F(MemoFileTest, AMissingFileIsNoMemo) { EXPECT_FALSE(read_memo(path(), "qb-test", 1).has_value()); }

TEST_F(MemoFileTest, ADamagedFileIsNoMemo) {
  MemoWriter w;
  w.str("key").u64(42);
  ASSERT_TRUE(write_memo(path(), "qb-test", 1, w).is_ok());
  const std::string good = bytes();
  ASSERT_TRUE(read_memo(path(), "qb-test", 1).has_value());
  EXPECT_FALSE(read_memo(path(), "qb-other", 1).has_value());  // another memo's magic
  EXPECT_FALSE(read_memo(path(), "qb-test", 2).has_value());   // another format version
  for (std::size_t cut : {std::size_t{0}, std::size_t{5}, good.size() / 2, good.size() - 1}) {
    put(good.substr(0, cut));
    EXPECT_FALSE(read_memo(path(), "qb-test", 1).has_value()) << "torn at " << cut;
  }
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::string flipped = good;
    flipped[i] ^= 0x20;
    put(flipped);
    EXPECT_FALSE(read_memo(path(), "qb-test", 1).has_value()) << "byte " << i << " flipped";
  }
  put(good + "x");
  EXPECT_FALSE(read_memo(path(), "qb-test", 1).has_value());
}

TEST_F(MemoFileTest, AStringLongerThanThePayloadFailsTheReader) {
  MemoWriter w;
  w.u64(1000);  // read back as a string's length
  ASSERT_TRUE(write_memo(path(), "qb-test", 1, w).is_ok());
  auto r = read_memo(path(), "qb-test", 1);
  ASSERT_TRUE(r.has_value());
  std::string s;
  EXPECT_FALSE(r->str(s));
  EXPECT_FALSE(r->ok());
}

}  // namespace
}  // namespace qb::fs
