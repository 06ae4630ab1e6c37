// Layer checkpoints of the quantize step (see layer_checkpoint.h).
#include "steps/quant/layer_checkpoint.h"

#include <unistd.h>

#include <cstdio>

#include "steps/model_io/safetensors.h"
#include "util/log.h"

namespace qb::quant {

namespace stdfs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kOutcomesFile = "outcomes.safetensors";
constexpr const char* kHiddenFile = "hidden.safetensors";

Result<std::map<std::string, LinearOutcome>> read_outcomes(const stdfs::path& file) {
  QB_ASSIGN_OR_RETURN(auto reader, model_io::SafetensorsReader::open(file));
  const auto& meta = reader.metadata();
  auto fmt_it = meta.find("format");
  if (fmt_it == meta.end() || fmt_it->second != std::to_string(kLayerCheckpointFormat))
    return corrupt("not a format-" + std::to_string(kLayerCheckpointFormat) + " layer checkpoint");
  auto rep_it = meta.find("reports");
  json reports = rep_it == meta.end() ? json() : json::parse(rep_it->second, nullptr, false);
  if (!reports.is_object()) return corrupt("its 'reports' metadata is not a JSON object");
  std::map<std::string, LinearOutcome> out;
  for (const auto& [module, report] : reports.items()) {
    LinearOutcome o;
    o.report = report;
    QB_ASSIGN_OR_RETURN(o.ql.q, reader.load(module + ":q"));
    QB_ASSIGN_OR_RETURN(o.ql.weight_qparams.scale, reader.load(module + ":scale"));
    QB_ASSIGN_OR_RETURN(o.ql.weight_qparams.zero_point, reader.load(module + ":zero_point"));
    if (reader.find(module + ":input_scale")) {
      QB_ASSIGN_OR_RETURN(auto s, reader.load(module + ":input_scale"));
      o.ql.input_scale = s;
    }
    if (reader.find(module + ":dequantized")) {
      QB_ASSIGN_OR_RETURN(o.ql.dequantized, reader.load(module + ":dequantized"));
    }
    out.emplace(module, std::move(o));
  }
  return out;
}

Result<std::vector<at::Tensor>> read_hidden(const stdfs::path& file) {
  QB_ASSIGN_OR_RETURN(auto reader, model_io::SafetensorsReader::open(file));
  std::vector<at::Tensor> hidden;
  for (std::size_t i = 0;; ++i) {
    const std::string name = "hidden:" + std::to_string(i);
    if (!reader.find(name)) break;
    QB_ASSIGN_OR_RETURN(auto t, reader.load(name));
    hidden.push_back(std::move(t));
  }
  if (hidden.size() != reader.entries().size()) return corrupt("unexpected tensors besides hidden:<batch>");
  return hidden;
}

}  // namespace

stdfs::path LayerCheckpoints::layer_dir(std::int64_t layer) const {
  char name[32];  // not fmt: libtorch's bundled fmt headers shadow the system's
  std::snprintf(name, sizeof name, "layer-%05lld", static_cast<long long>(layer));
  return dir_ / name;
}

LayerCheckpoints::Resumed LayerCheckpoints::load(std::int64_t num_layers, bool with_hidden) const {
  Resumed r;
  if (!enabled()) return r;
  std::vector<std::map<std::string, LinearOutcome>> layers;
  for (std::int64_t l = 0; l < num_layers; ++l) {
    std::error_code ec;
    const stdfs::path d = layer_dir(l);
    if (!stdfs::is_directory(d, ec)) break;
    auto o = read_outcomes(d / kOutcomesFile);
    if (!o.is_ok()) {
      log::warn("quantize: layer checkpoint " + d.string() + " does not read back (" + o.status().message() +
                "); recomputing from layer " + std::to_string(l));
      break;
    }
    layers.push_back(std::move(*o));
  }
  std::int64_t n = static_cast<std::int64_t>(layers.size());
  if (with_hidden) {
    // Only the newest layer keeps its hidden states; without them the prefix is not resumable.
    for (; n > 0; --n) {
      const stdfs::path f = layer_dir(n - 1) / kHiddenFile;
      std::error_code ec;
      if (!stdfs::exists(f, ec)) continue;
      auto h = read_hidden(f);
      if (h.is_ok()) {
        r.hidden = std::move(*h);
        break;
      }
      log::warn("quantize: hidden states " + f.string() + " do not read back (" + h.status().message() + ")");
    }
  }
  r.layers = n;
  for (std::int64_t l = 0; l < n; ++l)
    for (auto& [m, o] : layers[static_cast<std::size_t>(l)]) r.outcomes.emplace(m, std::move(o));
  return r;
}

Status LayerCheckpoints::save(std::int64_t layer, const std::map<std::string, const LinearOutcome*>& outcomes,
                              const std::vector<at::Tensor>* hidden) const {
  if (!enabled()) return Status::ok();
  const stdfs::path final_dir = layer_dir(layer);
  const stdfs::path tmp = final_dir.string() + ".tmp-" + std::to_string(::getpid());
  std::error_code ec;
  stdfs::remove_all(tmp, ec);
  stdfs::create_directories(tmp, ec);
  if (ec) return io_error("layer checkpoint: create '" + tmp.string() + "': " + ec.message());

  std::vector<std::pair<std::string, at::Tensor>> tensors;
  json reports = json::object();
  for (const auto& [module, o] : outcomes) {
    reports[module] = o->report;
    tensors.emplace_back(module + ":q", o->ql.q);
    tensors.emplace_back(module + ":scale", o->ql.weight_qparams.scale);
    tensors.emplace_back(module + ":zero_point", o->ql.weight_qparams.zero_point);
    if (o->ql.input_scale) tensors.emplace_back(module + ":input_scale", *o->ql.input_scale);
    if (o->ql.dequantized.defined()) tensors.emplace_back(module + ":dequantized", o->ql.dequantized);
  }
  QB_TRY_CTX(model_io::write_safetensors(tmp / kOutcomesFile, tensors,
                                         {{"format", std::to_string(kLayerCheckpointFormat)}, {"reports", reports.dump()}}),
             "layer checkpoint " + std::to_string(layer));
  if (hidden) {
    std::vector<std::pair<std::string, at::Tensor>> hs;
    for (std::size_t i = 0; i < hidden->size(); ++i) hs.emplace_back("hidden:" + std::to_string(i), (*hidden)[i]);
    QB_TRY_CTX(model_io::write_safetensors(tmp / kHiddenFile, hs, {{"format", std::to_string(kLayerCheckpointFormat)}}),
               "layer checkpoint " + std::to_string(layer) + ": hidden states");
  }
  // A folder already there is from a run that did not get past it: replaced whole.
  stdfs::remove_all(final_dir, ec);
  stdfs::rename(tmp, final_dir, ec);
  if (ec) return io_error("layer checkpoint: rename '" + tmp.string() + "' to '" + final_dir.string() + "': " + ec.message());
  if (hidden && layer > 0) stdfs::remove(layer_dir(layer - 1) / kHiddenFile, ec);
  return Status::ok();
}

}  // namespace qb::quant
