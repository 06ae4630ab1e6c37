// Collection weights and per-dataset counts, by hand.
#include "steps/eval/collection.h"

#include <gtest/gtest.h>

namespace qb::eval {
namespace {

TEST(Collection, FlattenNormalizesPerLevel) {
  // root: a (weight 2, a collection of x:1, y:3) and z (weight 2):
  //   a's share 2/4 = 0.5 -> x 0.5·1/4 = 0.125, y 0.5·3/4 = 0.375; z 2/4 = 0.5.
  auto root = CollectionNode::from_json(nlohmann::json::parse(R"({"name": "root", "datasets": [
      {"name": "a", "weight": 2, "datasets": [{"name": "x", "weight": 1}, {"name": "y", "weight": 3}]},
      {"name": "z", "weight": 2, "tags": ["t"]}]})"));
  ASSERT_TRUE(root.is_ok()) << root.status().to_string();
  auto flat = flatten(*root);
  ASSERT_TRUE(flat.is_ok());
  ASSERT_EQ(flat->size(), 3u);
  EXPECT_EQ((*flat)[0].name, "x");
  EXPECT_DOUBLE_EQ((*flat)[0].weight, 0.125);
  EXPECT_DOUBLE_EQ((*flat)[1].weight, 0.375);
  EXPECT_DOUBLE_EQ((*flat)[2].weight, 0.5);
  EXPECT_EQ((*flat)[1].hierarchy, (std::vector<std::string>{"root", "a"}));
  EXPECT_EQ((*flat)[2].hierarchy, (std::vector<std::string>{"root"}));
  EXPECT_EQ((*flat)[2].tags, (std::vector<std::string>{"t"}));
  // 10 items: int(0.125·10) = 1, int(0.375·10) = 3, the last gets 10 − 4 = 6.
  auto counts = weighted_counts(*flat, 10);
  ASSERT_TRUE(counts.is_ok());
  EXPECT_EQ(*counts, (std::vector<int64_t>{1, 3, 6}));
  // 7 items: int(0.875) = 0, int(2.625) = 2, last 5.
  EXPECT_EQ(*weighted_counts(*flat, 7), (std::vector<int64_t>{0, 2, 5}));
}

TEST(Collection, JsonRoundTrip) {
  auto j = nlohmann::json::parse(R"({"name": "c", "weight": 1.0, "datasets": [
      {"name": "mmlu", "weight": 2.0, "task_type": "mcq", "tags": ["en"], "args": {"few_shot_num": 0}}]})");
  auto n = CollectionNode::from_json(j);
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(nlohmann::json::parse(n->to_json().dump()), j);
}

TEST(Collection, Errors) {
  EXPECT_EQ(CollectionNode::from_json(nlohmann::json::parse(R"({"datasets": []})")).status().message(),
            "name: expected a non-empty string");
  EXPECT_EQ(CollectionNode::from_json(nlohmann::json::parse(R"({"name": "c"})")).status().message(),
            "datasets: a collection needs a list of datasets");
  EXPECT_EQ(CollectionNode::from_json(nlohmann::json::parse(
                R"({"name": "c", "datasets": [{"name": "m", "tags": "en"}]})")).status().message(),
            "datasets[0].tags: expected a list of strings");
  auto flat = flatten(*CollectionNode::from_json(nlohmann::json::parse(R"({"name": "c", "datasets": [{"name": "m"}]})")));
  EXPECT_EQ(weighted_counts(*flat, -1).status().message(), "sample count must be >= 0, got -1");
}

}  // namespace
}  // namespace qb::eval
