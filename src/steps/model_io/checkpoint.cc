// Hugging Face checkpoint directories: reading (config + single file or index + shards) and
// writing them in transformers' save_pretrained layout.
#include "steps/model_io/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "steps/model_io/messages.h"
#include "util/fs.h"
#include "util/log.h"

namespace qb::model_io {
namespace {

namespace stdfs = std::filesystem;
using json = nlohmann::json;

bool is_file(const stdfs::path& p) {
  std::error_code ec;
  return stdfs::is_regular_file(p, ec);
}

// Reads a JSON file whose top level must be an object.
Result<json> read_json_object(const stdfs::path& path) {
  QB_ASSIGN_OR_RETURN(std::string text, fs::read_file(path));
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return corrupt(quote(path) + ": not valid JSON: " + json_error_text(e));
  }
  if (!j.is_object()) return corrupt(quote(path) + ": top level is not a JSON object");
  return j;
}

// A weight_map value must name a file directly inside the checkpoint directory.
bool is_plain_file_name(const std::string& f) {
  return !f.empty() && f != "." && f != ".." && f.find('/') == std::string::npos &&
         f.find('\\') == std::string::npos && f.find('\0') == std::string::npos;
}

// "model-00001-of-00003.safetensors" shape (transformers' stale-shard pattern).
bool is_shard_file_name(const std::string& f) {
  static constexpr std::string_view kShape = "model-#####-of-#####.safetensors";
  if (f.size() != kShape.size()) return false;
  for (std::size_t i = 0; i < f.size(); ++i) {
    bool digit = f[i] >= '0' && f[i] <= '9';
    if (kShape[i] == '#' ? !digit : f[i] != kShape[i]) return false;
  }
  return true;
}

Status remove_file(const stdfs::path& p) {
  std::error_code ec;
  stdfs::remove(p, ec);
  if (ec) return io_error("remove " + quote(p) + ": " + ec.message());
  return Status::ok();
}

}  // namespace

std::string shard_file_name(int shard, int num_shards) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05d-of-%05d.safetensors", shard, num_shards);
  return buf;
}

Result<Checkpoint> Checkpoint::open(const stdfs::path& dir) {
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec)) return not_found("checkpoint directory " + quote(dir) + " does not exist");
  Checkpoint c;
  c.dir_ = dir;

  const stdfs::path config_path = dir / kConfigFile;
  if (!is_file(config_path)) return not_found(quote(config_path) + ": missing (every checkpoint needs one)");
  QB_ASSIGN_OR_RETURN(c.config_, read_json_object(config_path));
  if (const stdfs::path gen = dir / kGenerationConfigFile; is_file(gen)) {
    QB_ASSIGN_OR_RETURN(c.generation_config_, read_json_object(gen));
  }

  const stdfs::path single = dir / kSingleWeightsFile;
  const stdfs::path index_path = dir / kWeightsIndexFile;
  if (is_file(single)) {
    QB_ASSIGN_OR_RETURN(SafetensorsReader r, SafetensorsReader::open(single));
    for (std::size_t i = 0; i < r.entries().size(); ++i) c.tensors_.emplace(r.entries()[i].name, Location{0, i});
    c.shards_.push_back(std::move(r));
    return c;
  }
  if (!is_file(index_path))
    return not_found("checkpoint " + quote(dir) + ": neither " + kSingleWeightsFile + " nor " + kWeightsIndexFile +
                     " is there");

  QB_ASSIGN_OR_RETURN(json index, read_json_object(index_path));
  const std::string where = quote(index_path);
  auto wm = index.find("weight_map");
  if (wm == index.end() || !wm->is_object()) return corrupt(where + ": no \"weight_map\" object");
  // Open each shard once, in file-name order (= shard order for transformers' names).
  std::set<std::string> files;
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    if (!it.value().is_string())
      return corrupt(where + ": weight_map entry for " + quote(it.key()) + " is not a string");
    const std::string& f = it.value().get_ref<const std::string&>();
    if (!is_plain_file_name(f))
      return corrupt(where + ": weight_map maps " + quote(it.key()) + " to " + quote(f) +
                     ", which is not a file name inside the checkpoint directory");
    files.insert(f);
  }
  std::map<std::string, std::size_t> shard_of_file;
  for (const std::string& f : files) {
    if (!is_file(dir / f)) return not_found(where + ": names shard " + quote(f) + ", which does not exist");
    QB_ASSIGN_OR_RETURN(SafetensorsReader r, SafetensorsReader::open(dir / f));
    shard_of_file.emplace(f, c.shards_.size());
    c.shards_.push_back(std::move(r));
  }
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    const std::string& f = it.value().get_ref<const std::string&>();
    std::size_t s = shard_of_file.at(f);
    const TensorEntry* e = c.shards_[s].find(it.key());
    if (!e)
      return corrupt(where + ": maps tensor " + quote(it.key()) + " to " + quote(f) + ", which does not contain it");
    c.tensors_.emplace(it.key(), Location{s, static_cast<std::size_t>(e - c.shards_[s].entries().data())});
  }
  for (const SafetensorsReader& r : c.shards_) {
    std::size_t extra = 0;
    for (const TensorEntry& e : r.entries()) {
      auto it = c.tensors_.find(e.name);
      if (it == c.tensors_.end() || &c.shards_[it->second.shard] != &r) ++extra;
    }
    if (extra)
      log::warn(where + ": " + std::to_string(extra) + " tensor(s) in " + quote(r.path().filename()) +
                " are not mapped to it by the index; ignoring them");
  }
  return c;
}

const Checkpoint::Location* Checkpoint::locate(std::string_view name) const {
  auto it = tensors_.find(std::string(name));
  return it == tensors_.end() ? nullptr : &it->second;
}

std::vector<std::string> Checkpoint::tensor_names() const {
  std::vector<std::string> names;
  names.reserve(tensors_.size());
  for (const auto& [name, loc] : tensors_) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

bool Checkpoint::has(std::string_view name) const { return locate(name) != nullptr; }

const TensorEntry* Checkpoint::info(std::string_view name) const {
  const Location* l = locate(name);
  return l ? &shards_[l->shard].entries()[l->entry] : nullptr;
}

const SafetensorsReader* Checkpoint::reader(std::string_view name) const {
  const Location* l = locate(name);
  return l ? &shards_[l->shard] : nullptr;
}

Result<at::Tensor> Checkpoint::load(std::string_view name, at::Device device) const {
  const Location* l = locate(name);
  if (!l) return not_found("checkpoint " + quote(dir_) + ": no tensor " + quote(std::string(name)));
  const SafetensorsReader& r = shards_[l->shard];
  return r.load(r.entries()[l->entry], device);
}

std::vector<stdfs::path> Checkpoint::weight_files() const {
  std::vector<stdfs::path> out;
  for (const SafetensorsReader& r : shards_) out.push_back(r.path());
  return out;
}

std::uint64_t Checkpoint::total_bytes() const {
  std::uint64_t n = 0;
  for (const auto& [name, l] : tensors_) n += shards_[l.shard].entries()[l.entry].nbytes();
  return n;
}

Status save_checkpoint(const stdfs::path& dir, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const json& config, const json& generation_config, const SaveOptions& opts) {
  const std::string where = "saving checkpoint " + quote(dir);
  QB_TRY_CTX(fs::make_dirs(dir), where);

  // Split like huggingface_hub's split_state_dict_into_shards_factory: a tensor that does not fit
  // the current shard starts a new one; a tensor bigger than the limit gets a shard of its own.
  std::vector<std::vector<std::size_t>> shards(1);
  std::uint64_t current = 0, total_size = 0, total_params = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const at::Tensor& t = tensors[i].second;
    std::uint64_t n = t.defined() ? t.nbytes() : 0;  // undefined ones are rejected by the writer
    total_size += n;
    total_params += t.defined() ? static_cast<std::uint64_t>(t.numel()) : 0;
    if (!shards.back().empty() && (n > opts.max_shard_bytes || current + n > opts.max_shard_bytes)) {
      shards.emplace_back();
      current = 0;
    }
    shards.back().push_back(i);
    current += n;
    if (n > opts.max_shard_bytes) {  // alone in its shard; the next tensor starts a fresh one
      shards.emplace_back();
      current = 0;
    }
  }
  if (shards.size() > 1 && shards.back().empty()) shards.pop_back();

  const int num_shards = static_cast<int>(shards.size());
  std::set<std::string> written;
  json weight_map = json::object();
  for (int s = 0; s < num_shards; ++s) {
    std::string file = num_shards == 1 ? kSingleWeightsFile : shard_file_name(s + 1, num_shards);
    std::vector<std::pair<std::string, at::Tensor>> part;
    part.reserve(shards[s].size());
    for (std::size_t i : shards[s]) {
      part.push_back(tensors[i]);
      weight_map[tensors[i].first] = file;
    }
    QB_TRY_CTX(write_safetensors(dir / file, part, opts.metadata), where);
    written.insert(file);
  }
  if (num_shards > 1) {
    json index = {{"metadata", {{"total_parameters", total_params}, {"total_size", total_size}}},
                  {"weight_map", weight_map}};
    QB_TRY_CTX(fs::write_file_atomic(dir / kWeightsIndexFile, index.dump(2) + "\n"), where);
    written.insert(kWeightsIndexFile);
  }
  QB_TRY_CTX(fs::write_file_atomic(dir / kConfigFile, config.dump(2) + "\n"), where);
  bool has_gen = !generation_config.is_null() && !(generation_config.is_object() && generation_config.empty());
  if (has_gen) {
    QB_TRY_CTX(fs::write_file_atomic(dir / kGenerationConfigFile, generation_config.dump(2) + "\n"), where);
    written.insert(kGenerationConfigFile);
  }

  // Remove files of an earlier save that this one does not use, so open() never mixes them in.
  std::vector<stdfs::path> stale;
  std::error_code ec;
  for (const stdfs::directory_entry& de : stdfs::directory_iterator(dir, ec)) {
    std::string f = de.path().filename().string();
    bool ours = f == kSingleWeightsFile || f == kWeightsIndexFile || f == kGenerationConfigFile ||
                is_shard_file_name(f);
    if (ours && !written.count(f)) stale.push_back(de.path());
  }
  if (ec) return io_error(where + ": listing the directory: " + ec.message());
  for (const stdfs::path& p : stale) {
    log::info(where + ": removing stale " + quote(p.filename()));
    QB_TRY_CTX(remove_file(p), where);
  }
  return Status::ok();
}

}  // namespace qb::model_io
