// Checks on the input files and folders a config names (source models, dataset folders,
// calibration files), at config time so that `--dry-run` already says what is wrong and no step
// (nor the graph's content hashing) ever reads a FIFO, a device, /proc or a symlink loop:
//   - the path exists and is what the field expects (a folder, or a .txt/.jsonl file);
//   - every file under a folder is a regular file (symlinks to regular files are fine: the
//     Hugging Face cache links snapshots to blobs), with no symlink loop and no device, FIFO or
//     socket; hidden entries (".cache/") are skipped, as the graph skips them;
//   - sizes and counts are bounded (kMaxSourceFiles, kMaxSourceBytes; calibration files
//     kMaxCalibrationBytes);
//   - the path has no control characters (a newline in a folder name breaks logs and scripts).
// Each problem is an error at the YAML value that named the path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "config/parsers.h"

namespace qb::config {

inline constexpr std::int64_t kMaxSourceFiles = 100'000;
inline constexpr std::int64_t kMaxSourceBytes = std::int64_t{4} << 40;       // 4 TiB
inline constexpr std::int64_t kMaxCalibrationBytes = std::int64_t{64} << 30;  // 64 GiB

// "" when `path` is a regular file (after symlinks), else what it is: "a folder", "a FIFO", "a
// character device", "a dangling symlink", "a symlink loop", … (never opens it).
std::string not_a_regular_file(const std::filesystem::path& path);

// A model folder with config.json (see data/HELP.md). True when usable.
bool check_model_dir(FileContext& c, const Node& at, const std::string& rel);
// A dataset folder (`dataset_dir`). True when usable.
bool check_dataset_dir(FileContext& c, const Node& at, const std::string& rel);
// A calibration file: "txt" or "jsonl" (its source kind), or nullopt (reported).
std::optional<std::string> check_calibration_source(FileContext& c, const Node& at, const std::string& rel);

// The file can give what the recipe asks: a .txt of at least seq_len bytes (every token covers
// a byte or more), a .jsonl of at least num_samples non-empty lines (one document each).
bool check_calibration_size(FileContext& c, const Node& at, const std::string& rel, const std::string& kind,
                            std::int64_t num_samples, std::int64_t seq_len);

}  // namespace qb::config
