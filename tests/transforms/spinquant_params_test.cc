// SpinQuantModifier parameters: defaults, the canonical JSON round trip, and every rejected
// input with its exact message.
#include "steps/transforms/spinquant_params.h"

#include <gtest/gtest.h>

namespace qb::transforms {
namespace {

using nlohmann::json;

std::string error_of(const char* text) { return params_from_json(json::parse(text)).status().message(); }

TEST(SpinQuantParams, DefaultsFollowLlmCompressor) {
  auto p = params_from_json(json::object());
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(p->rotations, (std::vector<RotationId>{RotationId::kR1, RotationId::kR2}));
  EXPECT_EQ(p->transform_type, hadamard::RotationType::kHadamard);
  EXPECT_EQ(p->seed, 0u);
  EXPECT_FALSE(p->transform_block_size);
  EXPECT_FALSE(p->center_embeddings);
  EXPECT_EQ(params_to_json(*p), json::parse(R"({"rotations": ["R1", "R2"], "transform_type": "hadamard",
      "transform_block_size": null, "center_embeddings": false})"));
}

TEST(SpinQuantParams, CanonicalJsonRoundTrips) {
  const json j = json::parse(R"({"rotations": ["R1", "R2", "R4"], "transform_type": "random-hadamard",
      "transform_block_size": 128, "center_embeddings": true, "seed": 7})");
  auto p = params_from_json(j);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_EQ(params_to_json(*p), j);
}

TEST(SpinQuantParams, RotationNamesAreCaseInsensitiveAndSorted) {
  auto p = params_from_json(json::parse(R"({"rotations": ["r4", "R1"]})"));
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(p->rotations, (std::vector<RotationId>{RotationId::kR1, RotationId::kR4}));
}

TEST(SpinQuantParams, RejectsBadInputs) {
  EXPECT_EQ(error_of(R"({"rotation": ["R1"]})"),
            "SpinQuantModifier: unknown parameter 'rotation' (expected rotations, transform_type, seed, "
            "transform_block_size, center_embeddings)");
  EXPECT_EQ(error_of(R"({"rotations": ["R1", "R3"]})"),
            "SpinQuantModifier.rotations: unsupported rotation 'R3' (supported: R1, R2, R4)");
  EXPECT_EQ(error_of(R"({"rotations": []})"), "SpinQuantModifier.rotations: expected a non-empty list of R1, R2, R4");
  EXPECT_EQ(error_of(R"({"rotations": "R1"})"), "SpinQuantModifier.rotations: expected a non-empty list of R1, R2, R4");
  EXPECT_EQ(error_of(R"({"rotations": ["R1", "r1"]})"), "SpinQuantModifier.rotations: duplicate rotation 'R1'");
  EXPECT_EQ(error_of(R"({"transform_type": "walsh"})"),
            "SpinQuantModifier.transform_type: unknown transform_type 'walsh' (expected hadamard, "
            "random-hadamard or random-matrix)");
  EXPECT_EQ(error_of(R"({"transform_type": 3})"), "SpinQuantModifier.transform_type: expected a string");
  EXPECT_EQ(error_of(R"({"seed": -1})"), "SpinQuantModifier.seed: expected a non-negative integer");
  EXPECT_EQ(error_of(R"({"seed": 1.5})"), "SpinQuantModifier.seed: expected a non-negative integer");
  EXPECT_EQ(error_of(R"({"transform_block_size": 0})"),
            "SpinQuantModifier.transform_block_size: expected a positive integer or null");
  EXPECT_EQ(error_of(R"({"center_embeddings": "yes"})"), "SpinQuantModifier.center_embeddings: expected true or false");
  EXPECT_EQ(params_from_json(json::array()).status().message(), "SpinQuantModifier: parameters must be an object");
}

}  // namespace
}  // namespace qb::transforms
