// Reading and writing one .safetensors file.
//
// Format (https://github.com/huggingface/safetensors, as written by safetensors 0.8.0):
//   [8 bytes]  N, the header length, little-endian u64
//   [N bytes]  a JSON object, UTF-8, padded with trailing spaces so 8 + N is a multiple of 8:
//                {"__metadata__": {"k": "v", ...},                        (optional, str -> str)
//                 "<tensor>": {"dtype": "BF16", "shape": [4, 8], "data_offsets": [b, e]}, ...}
//   [rest]     the data section; tensor bytes are data[b, e), row-major, little-endian.
// Files come from the internet, so open() validates the whole header before anything is read:
// bounded size, JSON object, known dtypes, non-negative shapes whose byte count does not
// overflow, offsets inside the data section matching dtype size x numel, no overlaps, no
// duplicate names. Errors name the file and the tensor.
#pragma once

#include <ATen/ATen.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "util/fs.h"
#include "util/status.h"

namespace qb::model_io {

// The safetensors dtypes qbuild reads and writes. Names in the file: dtype_name().
enum class DType {
  kBool, kU8, kI8, kI16, kI32, kI64, kF16, kBF16, kF32, kF64,
  kU16, kU32, kU64, kF8E4M3, kF8E5M2,  // "U16", "U32", "U64", "F8_E4M3", "F8_E5M2"
};

std::optional<DType> dtype_from_name(std::string_view name);  // "BF16" -> kBF16; nullopt if unknown
const char* dtype_name(DType dtype);                           // kBF16 -> "BF16"
std::size_t dtype_size(DType dtype);                           // bytes per element
at::ScalarType to_scalar_type(DType dtype);
Result<DType> from_scalar_type(at::ScalarType type);           // invalid_argument for e.g. complex

struct TensorEntry {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::uint64_t begin = 0, end = 0;  // byte offsets within the data section; end - begin == nbytes
  std::uint64_t numel() const;
  std::uint64_t nbytes() const { return end - begin; }
};

// Upper bound on the JSON header length accepted by open(), as in the reference reader.
inline constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

// One .safetensors file, memory-mapped read-only. Cheap to copy (the map is shared).
class SafetensorsReader {
 public:
  // Maps the file and validates the whole header (see the file comment). Errors: kIo when the
  // file cannot be opened, kCorrupt for a bad header.
  static Result<SafetensorsReader> open(const std::filesystem::path& path);

  const std::vector<TensorEntry>& entries() const { return entries_; }  // in file (offset) order
  const TensorEntry* find(std::string_view name) const;                 // nullptr if absent
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::filesystem::path& path() const { return path_; }

  // The raw little-endian bytes of `entry` (which must come from this reader), valid while any
  // copy of this reader is alive.
  std::span<const std::uint8_t> bytes(const TensorEntry& entry) const;

  // Copies tensor `name` into a fresh, owned, contiguous tensor on `device`. CPU: a (threaded)
  // memcpy out of the map. CUDA: a memcpy into pinned host staging, then a non-blocking H2D copy
  // enqueued on the current stream (later work on that stream sees the data; other streams must
  // synchronize). The result never aliases the map. BOOL bytes other than 0/1 are kCorrupt.
  // Errors: kNotFound for an unknown name, kUnavailable for a missing device or failed allocation.
  Result<at::Tensor> load(std::string_view name, at::Device device = at::kCPU) const;
  Result<at::Tensor> load(const TensorEntry& entry, at::Device device = at::kCPU) const;

 private:
  std::filesystem::path path_;
  std::shared_ptr<const fs::MappedFile> map_;
  std::uint64_t data_start_ = 0;  // 8 + header length
  std::vector<TensorEntry> entries_;
  std::unordered_map<std::string, std::size_t> index_;  // name -> position in entries_
  std::map<std::string, std::string> metadata_;
};

// Writes one file atomically (temp + fsync + rename). Tensors are written contiguous, copied to
// the CPU if needed, in the given order; the header is space-padded to a multiple of 8 bytes like
// the reference writer. Names must be unique, non-empty and not "__metadata__".
Status write_safetensors(const std::filesystem::path& path,
                         const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

// The bytes write_safetensors() would write (the whole file), for callers that hash or stream.
Result<std::string> serialize_safetensors(
    const std::vector<std::pair<std::string, at::Tensor>>& tensors,
    const std::map<std::string, std::string>& metadata = {});

}  // namespace qb::model_io
