// Writing .safetensors files: the header exactly as the reference writer lays it out
// (compact JSON, "__metadata__" first, then tensors in data order with keys dtype, shape,
// data_offsets; space-padded to a multiple of 8), then the tensors back to back.
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "util/atomic_file.h"
#include "steps/model_io/messages.h"
#include "steps/model_io/safetensors.h"

namespace qb::model_io {
namespace {

using TensorList = std::vector<std::pair<std::string, at::Tensor>>;

// Validates the inputs and builds the padded header.
Result<std::string> build_header(const TensorList& tensors, const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::unordered_set<std::string> seen;
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    std::string at = "tensor " + quote(name);
    if (name.empty()) return invalid_argument("a tensor has an empty name");
    if (name == "__metadata__") return invalid_argument(at + ": the name is reserved");
    if (!seen.insert(name).second) return invalid_argument(at + " is given twice");
    if (!t.defined()) return invalid_argument(at + " is undefined");
    if (t.layout() != at::kStrided) return invalid_argument(at + " is not a dense (strided) tensor");
    QB_ASSIGN_OR_RETURN_CTX(DType dtype, from_scalar_type(t.scalar_type()), at);
    std::uint64_t nbytes = static_cast<std::uint64_t>(t.numel()) * dtype_size(dtype);
    header[name] = {{"dtype", dtype_name(dtype)},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string text;
  try {
    text = header.dump();  // compact, like serde_json::to_string
  } catch (const nlohmann::json::exception& e) {
    return invalid_argument(std::string("tensor names and metadata must be valid UTF-8: ") + e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

// Calls sink(bytes, n) for the whole file: length, header, each tensor's bytes. May copy one
// tensor at a time to the CPU, so peak extra memory is the largest tensor.
template <typename Sink>
Status emit(const TensorList& tensors, const std::map<std::string, std::string>& metadata, Sink&& sink) {
  QB_ASSIGN_OR_RETURN(std::string header, build_header(tensors, metadata));
  std::uint64_t len = header.size();  // little-endian host (static_assert in safetensors.cc)
  QB_TRY(sink(&len, sizeof len));
  QB_TRY(sink(header.data(), header.size()));
  for (const auto& [name, t] : tensors) {
    if (t.numel() == 0) continue;
    at::Tensor c;
    try {
      c = t.resolve_conj().resolve_neg().to(at::kCPU).contiguous();
    } catch (const c10::Error& e) {
      return unavailable("tensor " + quote(name) + ": copying to the CPU failed: " + e.what_without_backtrace());
    }
    QB_TRY(sink(c.data_ptr(), c.nbytes()));
  }
  return Status::ok();
}

}  // namespace

Result<std::string> serialize_safetensors(const TensorList& tensors,
                                          const std::map<std::string, std::string>& metadata) {
  std::string out;
  QB_TRY(emit(tensors, metadata, [&](const void* p, std::size_t n) {
    out.append(static_cast<const char*>(p), n);
    return Status::ok();
  }));
  return out;
}

Status write_safetensors(const std::filesystem::path& path, const TensorList& tensors,
                         const std::map<std::string, std::string>& metadata) {
  const std::string where = "writing " + quote(path.string());
  QB_TRY_CTX(build_header(tensors, metadata), where);  // validate before creating anything
  QB_ASSIGN_OR_RETURN_CTX(fs::AtomicFileWriter w, fs::AtomicFileWriter::create(path), where);
  QB_TRY_CTX(emit(tensors, metadata, [&](const void* p, std::size_t n) { return w.append(p, n); }), where);
  QB_TRY_CTX(w.commit(), where);
  return Status::ok();
}

}  // namespace qb::model_io
