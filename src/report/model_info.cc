// The artifact chain behind a results row (see model_info.h).
#include "report/model_info.h"

#include "util/fs.h"
#include "util/strings.h"

namespace qb::report {

namespace {

namespace stdfs = std::filesystem;

// Sum of the *.safetensors files under `dir` (a source model folder).
std::optional<std::uint64_t> folder_weight_bytes(const stdfs::path& dir) {
  std::error_code ec;
  std::uint64_t total = 0;
  bool any = false;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec); !ec && it != stdfs::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code e2;
    if (it->is_regular_file(e2) && it->path().extension() == ".safetensors") {
      total += it->file_size(e2);
      any = true;
    }
  }
  if (ec || !any) return std::nullopt;
  return total;
}

// The current configs' source node with this key, if any.
const graph::Node* graph_node(const Sources& src, const std::string& key) {
  if (!src.graph) return nullptr;
  auto i = src.graph->find_key(key);
  return i ? &src.graph->node(*i) : nullptr;
}

void describe_source(Sources& src, ModelInfo& m, const std::string& key) {
  m.source_key = key;
  if (const auto* n = graph_node(src, key); n && n->is_source()) {
    m.source_path = n->source_path.string();
    if (m.kind.empty() || m.kind == "source") {
      m.kind = "source";
      m.dir = src.layout.root() / n->source_path;
      m.weight_bytes = folder_weight_bytes(m.dir);
    }
  } else {
    m.gaps.push_back("the source model (content key " + key + ") is not named by the current configs");
  }
}

}  // namespace

Result<ModelInfo> model_info(Sources& src, const std::string& model_key) {
  ModelInfo m;
  m.key = model_key;
  if (model_key.empty()) {
    m.gaps.push_back("the row names no model (no model_key)");
    return m;
  }
  QB_ASSIGN_OR_RETURN(auto art, src.index.artifact(model_key));
  if (!art) {
    describe_source(src, m, model_key);
    if (m.kind.empty()) m.gaps.back() = "model " + model_key + " is neither in the store (deleted by `qbuild gc`?) nor a source of the current configs";
    return m;
  }
  m.kind = art->kind;
  m.dir = src.layout.object_dir(model_key);
  if (auto man = src.store.read_manifest(model_key); man.is_ok()) {
    std::uint64_t w = 0;
    for (const auto& f : man->files) {
      const auto path = f.value("path", "");
      m.files.push_back(path);
      if (ends_with(path, ".safetensors")) w += f.value("size", std::uint64_t{0});
    }
    m.weight_bytes = w;
  } else {
    m.gaps.push_back("model " + art->name + ": its manifest is unreadable (" + man.status().message() + ")");
  }
  std::string upstream = art->inputs.value("model", "");
  if (art->kind == "quant") {
    m.recipe = art->params;
    if (art->meta.contains("duration_s") && art->meta["duration_s"].is_number())
      m.quant_seconds = art->meta["duration_s"].get<double>();
    m.quant_device = art->meta.value("device", "");
    if (const auto* n = graph_node(src, model_key)) m.quant_config = n->config_file;
    if (art->inputs.contains("calibration")) {
      const std::string ck = art->inputs.value("calibration", "");
      const auto* n = graph_node(src, ck);
      m.calibration_input = {{"key", ck}, {"path", n ? n->source_path.string() : ""}};
    }
    // A smoothed model in between (SmoothQuant / AWQ stages: a smooth node before the quant
    // node): its stages belong to the recipe, its time to the quantize time.
    QB_ASSIGN_OR_RETURN(auto up, src.index.artifact(upstream));
    if (up && up->kind == "smooth") {
      if (m.recipe.is_object()) m.recipe["stages"] = up->params.value("stages", nlohmann::json::array());
      if (m.quant_seconds && up->meta.contains("duration_s") && up->meta["duration_s"].is_number())
        *m.quant_seconds += up->meta["duration_s"].get<double>();
      upstream = up->inputs.value("model", "");
      QB_ASSIGN_OR_RETURN(up, src.index.artifact(upstream));
    }
    // A transformed model in between, or the source itself.
    if (up && up->kind == "trans") {
      m.transform = up->params;
      upstream = up->inputs.value("model", "");
    }
  } else if (art->kind == "trans") {
    m.transform = art->params;
  }
  if (!upstream.empty()) describe_source(src, m, upstream);
  return m;
}

Result<std::string> model_key_of(Sources& src, const ResultsRow& row) {
  if (!row.text("model_key").empty()) return row.text("model_key");
  if (row.text("generate_key").empty()) return std::string();
  QB_ASSIGN_OR_RETURN(auto gen, src.index.artifact(row.text("generate_key")));
  return gen ? gen->inputs.value("model", "") : std::string();
}

Result<nlohmann::json> read_quant_report(const ModelInfo& m) {
  if (m.kind != "quant") return not_found("not a quantized model");
  const auto path = m.dir / "quant_report.json";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return not_found("the artifact has no quant_report.json");
  QB_ASSIGN_OR_RETURN(std::string text, fs::read_file(path));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("linears") || !j["linears"].is_array())
    return corrupt(path.string() + ": not a quantization report (no \"linears\" list)");
  return j;
}

}  // namespace qb::report
