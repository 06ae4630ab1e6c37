// The artifact graph: every node an artifact with a content key.
//
//   source_model ──trans──▶ transformed model ──quant──▶ quantized model ──┐
//   source_dataset ──sample──▶ frozen eval set ─────────────────────────────┼─eval─▶ scores
//   (source model, eval set) ──base_eval────▶ base scores + next-token logits  ┘
//
// A node's key is XXH3-128 over a typed, versioned serialization of (kind, the kind's code
// version, canonical params, each input's role and key). Source nodes hash their files' content
// (memoized in the index). A trans of kind "original" is no node: the variant uses the source
// model itself. Variants are trans × quant; evals are variant × eval config.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/index.h"
#include "util/status.h"

namespace qb::graph {

inline constexpr const char* kKeySalt = "qbuild-node-v1";

// What the graph needs to know of a step kind (the runner's registry provides it).
struct KindInfo {
  int code_version = 1;
  bool gpu = false;
};
using KindCatalog = std::map<std::string, KindInfo>;  // only kinds built into this qbuild

// ---- Inputs (from the config layer, already validated) ----
struct TransIn {
  std::string name, file;             // config name; the file it came from (for messages)
  std::string input_model;            // path relative to the project root
  std::optional<std::string> suffix;  // nullopt: "original", no transform
  nlohmann::json params;              // canonical SpinQuant parameters
  nlohmann::json settings = nlohmann::json::object();  // given to the step, not hashed (e.g. check tolerances)
};
struct QuantIn {
  std::string name, file, suffix;
  nlohmann::json params;                 // canonical recipe
  std::optional<std::string> calib_path; // a file or folder whose content the result depends on
  nlohmann::json settings = nlohmann::json::object();
};
struct DatasetIn {
  std::string name, dir;  // dir relative to the project root
};
struct EvalIn {
  std::string dataset_name, file;
  std::vector<DatasetIn> datasets;
  nlohmann::json sample_params, eval_params;
  bool fidelity = false;  // adds base_eval nodes and KL/agreement against the base model
  nlohmann::json settings = nlohmann::json::object();  // e.g. work_dir for predictions/reports
};
struct GraphInput {
  std::vector<TransIn> trans;
  std::vector<QuantIn> quant;
  std::vector<EvalIn> evals;
};

// ---- The graph ----
struct NodeInput {
  std::string role;  // "model", "eval_set", "base", "dataset:<name>", "calibration"
  int node;          // index into Graph::nodes
};

struct Node {
  std::string key;       // 32 hex chars
  std::string kind;      // source_model | source_dataset | source_file | trans | quant | sample | base_eval | eval
  std::string name;      // readable: variant name, dataset_name, …
  std::string identity;  // stable across recipe edits, e.g. "quant:original/rtn-w8a8-dynamic"
  std::string config_file;
  nlohmann::json params = nlohmann::json::object();    // hashed into the key
  nlohmann::json settings = nlohmann::json::object();  // passed to the step, not hashed
  std::vector<NodeInput> inputs;
  int code_version = 0;
  bool gpu = false;
  bool available = true;             // false: the kind is not built into this qbuild
  std::filesystem::path source_path; // source nodes: the file or folder (relative to root)
  std::vector<std::string> explain;  // what went into the key, one line per field
  std::vector<std::string> links;    // friendly paths pointing at the artifact (data/models/<v>)
  std::string log_name;              // "<variant>_quant" → logs/<inv>/<variant>_quant.log

  bool is_source() const { return kind.rfind("source_", 0) == 0; }
};

struct Variant {
  std::string name;        // <model><trans suffix><quant suffix>
  std::string trans_name, quant_name;
  int model_node = -1;     // the quantized model
};

struct EvalEntry {
  std::string dataset_name;
  std::string variant;
  int node = -1;
};

struct Graph {
  std::vector<Node> nodes;
  std::vector<Variant> variants;
  std::vector<EvalEntry> evals;
  std::map<std::string, int> by_key;

  const Node& node(int i) const { return nodes[static_cast<std::size_t>(i)]; }
  std::optional<int> find_key(const std::string& key) const;
};

// Builds the graph, hashing source files through the index memo. Errors (duplicate variant
// names, unreadable sources) are Status.
Result<Graph> build_graph(const GraphInput& in, const std::filesystem::path& root, const KindCatalog& kinds,
                          store::Index& index);

// The node indices a target needs (with all their dependencies). Targets: a results CSV
// ("results/<dataset_name>.csv"), a model ("data/models/<variant>"), an eval set
// ("data/<dataset_name>.jsonl"), a variant name, or a node key. Empty = everything.
Result<std::set<int>> select_targets(const Graph& g, const std::vector<std::string>& targets);

}  // namespace qb::graph
