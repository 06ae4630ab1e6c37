// SpinQuantSpec: the typed spec of a `trans` node — SpinQuantModifier's parameters (which
// rotations, the transform type, the seed of the random types, an optional block size,
// embedding centering) — and the settings of the automatic equivalence check after it.
//
// Defaults follow llm-compressor 0.14: rotations [R1, R2], transform_type hadamard; the seed
// (ours) is 0; center_embeddings is false because centering is not a function-preserving change
// for RMSNorm models (llm-compressor always centers).
//
// Canonical JSON (hashed into the key):
//   {"rotations": ["R1", "R2"] (sorted: R1, R2, R4), "transform_type": "hadamard",
//    "transform_block_size": null|int, "center_embeddings": bool, "device": "cpu"|"cuda",
//    ["seed": int (random-hadamard / random-matrix only: a plain Hadamard matrix has none)]}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/issues.h"
#include "util/status.h"

namespace qb::spec {

// R3 (online, on queries and keys inside attention) is not supported.
enum class RotationId { kR1, kR2, kR4 };
const char* rotation_id_name(RotationId id);  // "R1", "R2", "R4"
std::optional<RotationId> parse_rotation_id(std::string_view name);  // case-insensitive

//   hadamard         Sylvester ±1/√n (n a power of two; k·2^m with a known base matrix)
//   random-hadamard  diag(random ±1) · H
//   random-matrix    a random orthogonal matrix (QR of a Gaussian)
enum class RotationType { kHadamard, kRandomHadamard, kRandomMatrix };
const char* rotation_type_name(RotationType t);  // "hadamard", "random-hadamard", "random-matrix"
// Errors: invalid_argument "unknown transform_type 'x' (expected hadamard, random-hadamard or
// random-matrix)".
Result<RotationType> parse_rotation_type(std::string_view name);

struct SpinQuantParams {
  std::vector<RotationId> rotations = {RotationId::kR1, RotationId::kR2};  // sorted, unique
  RotationType transform_type = RotationType::kHadamard;
  std::uint64_t seed = 0;
  // Block-diagonal R1 and R4 with blocks of this size (llm-compressor's transform_block_size;
  // R2 always uses head_dim blocks).
  std::optional<std::int64_t> transform_block_size;
  bool center_embeddings = false;
  // Where the float64 rotations are computed (the project's device): CPU and GPU float64 GEMMs
  // may round differently, so the device is part of the key.
  std::string device = "cpu";

  bool has(RotationId id) const;
  void validate(Issues& issues) const;
  nlohmann::json to_json() const;
  // The canonical form only (strict; errors name the field). Does not validate.
  static Result<SpinQuantParams> from_json(const nlohmann::json& j);
  bool operator==(const SpinQuantParams&) const = default;
};

// The check after a transform: the transformed model must compute the same function. Not part
// of the key (a tolerance does not change the weights); a step that fails the check publishes
// nothing, so relaxing it re-runs the step.
struct EquivalenceCheck {
  // fp32 storage of float64-computed rotations leaves relative logit errors around 1e-5..1e-4
  // on a 36-layer model; a wrong rotation gives errors of order 1. 1e-3 separates the two.
  double max_rel_error = 1e-3;  // max over prompts of ||logits_t - logits_s|| / ||logits_s||
  // Short, varied prompts (prose, code, arithmetic, non-Latin script) so the check covers many
  // token and activation patterns.
  std::vector<std::string> prompts = {
      "The capital of France is",
      "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
      "Question: A train travels 60 km in 45 minutes. What is its average speed in km/h?\nAnswer:",
      "量子计算的基本原理是",
  };

  void validate(Issues& issues) const;
  nlohmann::json to_json() const;
  static Result<EquivalenceCheck> from_json(const nlohmann::json& j);
  bool operator==(const EquivalenceCheck&) const = default;
};

}  // namespace qb::spec
