// parse_json_bounded: ordinary JSON parses; a value nested past the bound is an error (not a
// stack overflow later, when the value is destroyed or dumped); syntax errors say what is wrong.
#include "util/json_parse.h"

#include <gtest/gtest.h>

#include <string>

namespace qb {
namespace {

TEST(JsonParse, OrdinaryRowsParse) {
  auto j = parse_json_bounded(R"({"question": "1+1?", "answer": "#### 2", "meta": {"a": [1, [2, [3]]]}})", "f:1");
  ASSERT_TRUE(j.is_ok()) << j.status().to_string();
  EXPECT_EQ((*j)["meta"]["a"][1][1][0], 3);
}

TEST(JsonParse, ARowNested100000LevelsDeepIsAnErrorNotACrash) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto j = parse_json_bounded(deep, "data/datasets/gsm8k/main/test.jsonl:3");
  ASSERT_FALSE(j.is_ok());
  EXPECT_EQ(j.status().message(), "data/datasets/gsm8k/main/test.jsonl:3: nested deeper than 64 levels");
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  objects += "1" + std::string(100000, '}');
  EXPECT_FALSE(parse_json_bounded(objects, "x").is_ok());
}

TEST(JsonParse, TheBoundIsExact) {
  std::string ok = std::string(64, '[') + std::string(64, ']');
  std::string deep = std::string(65, '[') + std::string(65, ']');
  EXPECT_TRUE(parse_json_bounded(ok, "x").is_ok());
  EXPECT_FALSE(parse_json_bounded(deep, "x").is_ok());
}

TEST(JsonParse, SyntaxErrorsSayWhere) {
  auto j = parse_json_bounded(R"({"a": )", "f.jsonl:2");
  ASSERT_FALSE(j.is_ok());
  EXPECT_EQ(j.status().message().rfind("f.jsonl:2: [json.exception.parse_error", 0), 0u) << j.status().message();
}

}  // namespace
}  // namespace qb
