// What the store knows about the model of a results row (its `model_key`): the artifact chain
// quantized model → (smoothed model →) transformed model → source model, read from the index and
// the manifests.
// Both the report (sizes, quantize times, recipes, the quantization-error heatmaps) and the
// model cards (recipe, calibration data, base model) start here.
//
// Nothing is required: a row whose model was deleted by `qbuild gc`, a source the current
// configs no longer name, an artifact without quant_report.json — each leaves its field empty
// and says why in `gaps`, which the report shows.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/graph.h"
#include "report/results_table.h"
#include "store/index.h"
#include "store/layout.h"
#include "store/object_store.h"
#include "util/status.h"

namespace qb::report {

// Where the report reads from. `graph` (the current configs) is optional: it names source
// folders and calibration files, which the store knows only by their content keys.
struct Sources {
  const store::Layout& layout;
  store::Index& index;
  const store::ObjectStore& store;
  const graph::Graph* graph = nullptr;
};

struct ModelInfo {
  std::string key;
  std::string kind;  // "quant", "trans", "source" or "" (nothing known of the key)
  std::filesystem::path dir;                  // the artifact folder or the source folder (absolute)
  std::optional<std::uint64_t> weight_bytes;  // the *.safetensors files
  std::optional<double> quant_seconds;        // the quant step's duration (its manifest's meta), plus the smooth step's
  std::string quant_device;                   // where it ran ("cpu", "cuda:0")
  nlohmann::json recipe;                      // the quant node's canonical recipe (null: none), with
                                              // the smooth node's "stages" when there is one
  nlohmann::json transform;                   // the trans node's canonical params (null: no transform)
  std::string quant_config;                   // the config file the recipe came from (from the graph)
  std::string source_key, source_path;        // the source model (path relative to the root, when known)
  nlohmann::json calibration_input;           // {"key", "path"} of the calibration file, null if none
  std::vector<std::string> files;             // the artifact's files (a model card links them)
  std::vector<std::string> gaps;              // what could not be found, and why
};

Result<ModelInfo> model_info(Sources& src, const std::string& model_key);

// A row's model: its `model_key`, else the model input of the generation it scored
// (`generate_key`'s artifact) — a score artifact that did not record its model still has one.
Result<std::string> model_key_of(Sources& src, const ResultsRow& row);

// The quant report of a quantized model (steps/quant/quantize.h: quant_report.json), or a
// Code::kNotFound / kCorrupt saying why there is none.
Result<nlohmann::json> read_quant_report(const ModelInfo& m);

}  // namespace qb::report
