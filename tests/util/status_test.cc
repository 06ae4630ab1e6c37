#include "util/status.h"

#include <gtest/gtest.h>

namespace qb {
namespace {

Result<int> parse_positive(int x) {
  if (x <= 0) return invalid_argument("not positive: " + std::to_string(x));
  return x;
}

Status double_it(int x, int* out) {
  QB_ASSIGN_OR_RETURN_CTX(int v, parse_positive(x), "doubling");
  *out = 2 * v;
  return Status::ok();
}

TEST(Status, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.is_ok());
  EXPECT_EQ(s.to_string(), "ok");
}

TEST(Status, ContextIsPrefixed) {
  int out = 0;
  Status s = double_it(-1, &out);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "doubling: not positive: -1");
}

TEST(Status, AssignOrReturnPassesValues) {
  int out = 0;
  ASSERT_TRUE(double_it(21, &out).is_ok());
  EXPECT_EQ(out, 42);
}

}  // namespace
}  // namespace qb
