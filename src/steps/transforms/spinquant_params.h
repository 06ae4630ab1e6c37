// SpinQuantModifier's parameters: which rotations (R1, R2, R4), the transform type, the seed of
// the random types, an optional block size, and embedding centering. The JSON form is the
// canonical params the config layer (src/config/trans_config.cc) writes and the graph hashes:
//   {"rotations": ["R1", "R2"], "transform_type": "hadamard", "transform_block_size": null,
//    "center_embeddings": false, ["seed": 0 (random-hadamard / random-matrix only)]}
// Defaults follow llm-compressor 0.14: rotations [R1, R2], transform_type hadamard; the seed
// (ours) is 0; center_embeddings defaults to false because centering is not a function-preserving
// change for RMSNorm models (it is what llm-compressor always does).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "steps/hadamard/rotation.h"
#include "util/status.h"

namespace qb::transforms {

// R3 (online, on queries and keys inside attention) is not supported.
enum class RotationId { kR1, kR2, kR4 };
const char* rotation_id_name(RotationId id);  // "R1", "R2", "R4"

struct SpinQuantParams {
  std::vector<RotationId> rotations = {RotationId::kR1, RotationId::kR2};  // sorted, unique
  hadamard::RotationType transform_type = hadamard::RotationType::kHadamard;
  uint64_t seed = 0;
  // Block-diagonal R1 and R4 with blocks of this size (llm-compressor's transform_block_size;
  // R2 always uses head_dim blocks).
  std::optional<int64_t> transform_block_size;
  bool center_embeddings = false;

  bool has(RotationId id) const;
};

// Validates and reads the canonical JSON (missing keys take the defaults; rotation names are
// case-insensitive). Errors (invalid_argument), e.g.: "SpinQuantModifier: unknown parameter
// 'rotation' (expected rotations, transform_type, seed, transform_block_size, center_embeddings)",
// "SpinQuantModifier.rotations: unsupported rotation 'R3' (supported: R1, R2, R4)".
Result<SpinQuantParams> params_from_json(const nlohmann::json& j);

// The canonical JSON (the inverse of params_from_json; "seed" only for the random types).
nlohmann::json params_to_json(const SpinQuantParams& p);

}  // namespace qb::transforms
