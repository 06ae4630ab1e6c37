#include "steps/model/source_validation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "steps/model/model_config.h"
#include "steps/model/tensor_names.h"
#include "steps/model_io/checkpoint.h"
#include "steps/model_io/non_finite.h"
#include "steps/tokenizer/tokenizer.h"
#include "util/log.h"

namespace qb::model {

namespace {

namespace stdfs = std::filesystem;
using model_io::Checkpoint;
using model_io::DType;

// A tensor config.json implies: its name, shape, and what it is (for the dtype message).
struct Expected {
  std::string name;
  std::vector<int64_t> shape;
  const char* what;
};

// The tensors Model::load reads for a dense checkpoint of `c` (tensor_names.h's table), in
// checkpoint order.
std::vector<Expected> expected_tensors(const ModelConfig& c) {
  std::vector<Expected> out;
  auto add = [&](Role r, int64_t layer, std::vector<int64_t> shape, const char* what) {
    out.push_back({module_name(r, layer) + ".weight", std::move(shape), what});
  };
  auto linear = [&](Role r, int64_t layer, int64_t in, int64_t o, bool bias) {
    add(r, layer, {o, in}, "a linear weight");
    if (bias) out.push_back({module_name(r, layer) + ".bias", {o}, "a bias"});
  };
  const int64_t C = c.hidden_size, F = c.intermediate_size, V = c.vocab_size, D = c.head_dim;
  const int64_t q_out = c.num_heads * D, kv_out = c.num_kv_heads * D;
  add(Role::kTokenEmbd, -1, {V, C}, "an embedding");
  for (int64_t i = 0; i < c.num_layers; ++i) {
    add(Role::kAttnNorm, i, {C}, "a norm weight");
    linear(Role::kAttnQ, i, C, q_out, c.qkv_bias);
    linear(Role::kAttnK, i, C, kv_out, c.qkv_bias);
    linear(Role::kAttnV, i, C, kv_out, c.qkv_bias);
    if (c.qk_norm) {
      add(Role::kAttnQNorm, i, {D}, "a norm weight");
      add(Role::kAttnKNorm, i, {D}, "a norm weight");
    }
    linear(Role::kAttnOut, i, q_out, C, c.o_bias);
    add(Role::kFfnNorm, i, {C}, "a norm weight");
    linear(Role::kFfnGate, i, C, F, c.mlp_bias);
    linear(Role::kFfnUp, i, C, F, c.mlp_bias);
    linear(Role::kFfnDown, i, F, C, c.mlp_bias);
  }
  add(Role::kOutputNorm, -1, {C}, "a norm weight");
  if (!c.tie_word_embeddings) linear(Role::kOutput, -1, C, V, false);
  return out;
}

bool is_weight_dtype(DType d) {
  return d == DType::kF32 || d == DType::kBF16 || d == DType::kF16 || d == DType::kF64;
}

// "[3, 57]": the row-major coordinates of flat element `index`.
std::string coordinates(std::uint64_t index, const std::vector<int64_t>& shape) {
  std::vector<int64_t> at(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    const auto n = static_cast<std::uint64_t>(std::max<int64_t>(shape[d], 1));
    at[d] = static_cast<int64_t>(index % n);
    index /= n;
  }
  return shape_label(at);
}

const char* value_label(double v) { return std::isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf"; }

// Collects problems up to kMaxSourceProblems.
class Problems {
 public:
  void add(std::string p) {
    ++total_;
    if (static_cast<int>(lines_.size()) < kMaxSourceProblems) lines_.push_back(std::move(p));
  }
  bool full() const { return total_ >= kMaxSourceProblems; }
  Status status(const stdfs::path& dir) const {
    if (lines_.empty()) return Status::ok();
    if (lines_.size() == 1) return invalid_argument(lines_[0]);
    std::string m = "source model '" + dir.string() + "' has " + std::to_string(total_) +
                    (full() ? "+" : "") + " problems:";
    for (const auto& l : lines_) m += "\n  " + l;
    if (full()) m += "\n  (stopped after " + std::to_string(kMaxSourceProblems) + ")";
    return invalid_argument(m);
  }

 private:
  std::vector<std::string> lines_;
  int total_ = 0;
};

// bos/eos ids of config.json and generation_config.json must name rows of the embedding.
void check_token_ids(const Checkpoint& ckpt, const ModelConfig& c, const stdfs::path& dir,
                     Problems& problems) {
  for (const auto& [j, file] : {std::tuple{&ckpt.config(), model_io::kConfigFile},
                                   {&ckpt.generation_config(), model_io::kGenerationConfigFile}}) {
    const std::string source = (dir / file).string();
    for (const char* field : {"bos_token_id", "eos_token_id"}) {
      auto ids = parse_token_ids(*j, field, source);
      if (!ids.is_ok()) {
        problems.add(ids.status().message());
        continue;
      }
      for (int64_t id : *ids)
        if (id >= c.vocab_size)
          problems.add(source + ": " + field + " " + std::to_string(id) +
                       " is outside the vocabulary (config.json's vocab_size is " +
                       std::to_string(c.vocab_size) + ")");
    }
  }
}

void check_tensors(const Checkpoint& ckpt, const ModelConfig& c, const stdfs::path& dir,
                   Problems& problems) {
  // Where a missing tensor should have been listed.
  std::error_code ec;
  const stdfs::path listing = stdfs::is_regular_file(dir / model_io::kSingleWeightsFile, ec)
                                  ? dir / model_io::kSingleWeightsFile
                                  : dir / model_io::kWeightsIndexFile;
  for (const Expected& e : expected_tensors(c)) {
    if (problems.full()) return;
    const model_io::SafetensorsReader* r = ckpt.reader(e.name);
    if (!r) {
      problems.add(listing.string() + ": tensor '" + e.name + "' is missing (config.json implies " +
                   shape_label(e.shape) + ")");
      continue;
    }
    const model_io::TensorEntry& t = *ckpt.info(e.name);
    const std::string at = r->path().string() + ": tensor '" + e.name + "': ";
    if (!is_weight_dtype(t.dtype))
      problems.add(at + "dtype " + model_io::dtype_name(t.dtype) + ", but " + e.what +
                   " must be F32, BF16, F16 or F64");
    if (t.shape != e.shape)
      problems.add(at + "shape " + shape_label(t.shape) + " but config.json implies " +
                   shape_label(e.shape));
  }
}

// Every floating tensor, in file order (sequential reads of each shard).
std::uint64_t scan_values(const Checkpoint& ckpt, Problems& problems) {
  std::vector<std::tuple<std::string, std::uint64_t, std::string>> order;  // file, offset, name
  for (const std::string& name : ckpt.tensor_names())
    order.emplace_back(ckpt.reader(name)->path().string(), ckpt.info(name)->begin, name);
  std::sort(order.begin(), order.end());
  std::uint64_t bytes = 0;
  for (const auto& [file, offset, name] : order) {
    if (problems.full()) break;
    const model_io::TensorEntry& t = *ckpt.info(name);
    if (!model_io::is_floating(t.dtype)) continue;
    bytes += t.nbytes();
    if (auto bad = model_io::first_non_finite(t.dtype, ckpt.reader(name)->bytes(t)))
      problems.add(file + ": tensor '" + name + "': element " + coordinates(bad->index, t.shape) +
                   " is " + value_label(bad->value) + " (the first of its non-finite values; " +
                   "a source model's weights must be finite)");
  }
  return bytes;
}

void check_tokenizer(const ModelConfig& c, const stdfs::path& dir, Problems& problems) {
  const stdfs::path file = dir / "tokenizer.json";
  std::error_code ec;
  if (!stdfs::exists(file, ec)) {
    problems.add(file.string() + ": missing: the model folder '" + dir.string() +
                 "' has no tokenizer.json (a source model needs its tokenizer: put tokenizer.json "
                 "and tokenizer_config.json next to config.json)");
    return;
  }
  auto tok = tok::Tokenizer::load(dir);
  if (!tok.is_ok()) {
    problems.add(tok.status().message());
    return;
  }
  if (tok->vocab_size() > c.vocab_size)
    problems.add(file.string() + ": the tokenizer has " + std::to_string(tok->vocab_size()) +
                 " ids (vocabulary and added tokens), more than config.json's vocab_size of " +
                 std::to_string(c.vocab_size));
}

}  // namespace

Status validate_source_model(const stdfs::path& dir) {
  const auto t0 = std::chrono::steady_clock::now();
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec))
    return not_found("source model folder '" + dir.string() + "' does not exist");
  QB_ASSIGN_OR_RETURN(Checkpoint ckpt, Checkpoint::open(dir));
  const std::string config_path = (dir / model_io::kConfigFile).string();
  // Without a valid config nothing else can be checked against it.
  QB_ASSIGN_OR_RETURN(ModelConfig c, ModelConfig::from_json(ckpt.config(), config_path));
  if (const auto& q = ckpt.config().value("quantization_config", nlohmann::json());
      q.is_object() && q.contains("config_groups") && !q["config_groups"].is_null() &&
      !q["config_groups"].empty())
    return invalid_argument(config_path + ": has a quantization_config with config groups: a " +
                            "source model must be unquantized (qbuild quantizes it)");

  Problems problems;
  check_token_ids(ckpt, c, dir, problems);
  check_tensors(ckpt, c, dir, problems);
  check_tokenizer(c, dir, problems);
  const std::uint64_t scanned = scan_values(ckpt, problems);
  QB_TRY(problems.status(dir));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log::info("source model '" + dir.string() + "': valid (" + std::to_string(ckpt.tensor_names().size()) +
            " tensors; " + std::to_string(scanned / 1e9).substr(0, 6) + " GB checked for NaN/Inf; " +
            std::to_string(s).substr(0, 6) + " s)");
  return Status::ok();
}

}  // namespace qb::model
