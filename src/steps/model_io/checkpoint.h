// A Hugging Face model directory: config.json, optional generation_config.json, and weights as
// either one model.safetensors or model.safetensors.index.json plus shards
// model-00001-of-0000N.safetensors. Reading validates every shard header (see safetensors.h) and
// the index against the shards; writing mirrors transformers' save_pretrained layout.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "steps/model_io/safetensors.h"
#include "util/status.h"

namespace qb::model_io {

inline constexpr const char* kConfigFile = "config.json";
inline constexpr const char* kGenerationConfigFile = "generation_config.json";
inline constexpr const char* kSingleWeightsFile = "model.safetensors";
inline constexpr const char* kWeightsIndexFile = "model.safetensors.index.json";

// "model-00002-of-00003.safetensors" for (2, 3); 1-based like transformers.
std::string shard_file_name(int shard, int num_shards);

class Checkpoint {
 public:
  // Reads config.json (required), generation_config.json (optional), and the weights:
  // model.safetensors when present (transformers' preference), otherwise the index, every shard
  // it names (which must exist and contain the tensors mapped to it). Tensors a shard holds but
  // the index does not name are ignored, with a warning. Errors name the directory and the file.
  static Result<Checkpoint> open(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }
  const nlohmann::json& config() const { return config_; }                         // config.json
  const nlohmann::json& generation_config() const { return generation_config_; }   // {} when absent
  std::vector<std::string> tensor_names() const;                                   // sorted
  bool has(std::string_view name) const;
  const TensorEntry* info(std::string_view name) const;  // nullptr if absent
  // The shard file holding `name` (its bytes(), its path for messages); nullptr if absent.
  const SafetensorsReader* reader(std::string_view name) const;
  // As SafetensorsReader::load; errors name the checkpoint and the tensor.
  Result<at::Tensor> load(std::string_view name, at::Device device = at::kCPU) const;
  std::vector<std::filesystem::path> weight_files() const;  // the shard files, in shard order
  std::uint64_t total_bytes() const;  // sum of tensor byte sizes (the index's total_size)

 private:
  struct Location {
    std::size_t shard;  // index into shards_
    std::size_t entry;  // index into shards_[shard].entries()
  };
  const Location* locate(std::string_view name) const;

  std::filesystem::path dir_;
  nlohmann::json config_;
  nlohmann::json generation_config_ = nlohmann::json::object();
  std::vector<SafetensorsReader> shards_;
  std::unordered_map<std::string, Location> tensors_;
};

struct SaveOptions {
  std::uint64_t max_shard_bytes = 5ull << 30;  // tensor bytes per shard; a larger tensor gets its own
  std::map<std::string, std::string> metadata = {{"format", "pt"}};  // each shard's __metadata__
};

// Writes model.safetensors (one shard) or model-0000k-of-0000N.safetensors +
// model.safetensors.index.json ({"metadata": {"total_parameters": P, "total_size": N},
// "weight_map": {name: file}}, indent 2, sorted keys, like transformers),
// config.json and generation_config.json (when non-empty); every file via write-to-temp-then-
// rename inside `dir` (created if needed); tensor order preserved; shards split at tensor
// boundaries. Shards are written before the index; afterwards weight files of an earlier save
// that the new layout does not use (model.safetensors, the index, model-*-of-*.safetensors) are
// removed, so open() never sees a stale mix.
Status save_checkpoint(const std::filesystem::path& dir,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const nlohmann::json& config, const nlohmann::json& generation_config,
                       const SaveOptions& opts = {});

}  // namespace qb::model_io
