// The artifact graph: every node an artifact with a content key.
//
//   source_model ──trans──▶ transformed model ─[smooth]─▶ smoothed model ──quant──▶ quantized model ─┐
//   source_dataset ──sample──▶ frozen eval set ───────────────────────────┴─generate─▶ raw outputs ─score─▶ scores
//   (source model, eval set) ──generate (base)──▶ base outputs + next-token logits ─score─▶ base scores
//
// Every source model gets one `check` node (validated once: shapes, dtypes, NaN/Inf, tokenizer)
// that the steps reading the source depend on. A variant's generate node compares its
// next-token logits with the base model's (per-item KL, top-1) when fidelity is on; its score node reads the base score's per-item correctness
// (McNemar). Scoring is a node of its own so that a scorer change re-scores in seconds.
//
// A node's key is XXH3-128 over a typed, versioned serialization of (kind, the kind's code
// version, canonical params, each input's role and key). Source nodes hash their files' content
// (memoized in the index). A trans of kind "original" is no node: the variant uses the source
// model itself. Variants are trans × quant; evals are variant × eval config. A recipe with
// smoothing stages (SmoothQuant, AWQ) gets a `smooth` node before its `quant` node, keyed by
// spec::SmoothSpec; the quant node then holds the quantization stage alone.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/eval_spec.h"
#include "spec/quant_recipe.h"
#include "spec/spinquant.h"
#include "store/index.h"
#include "util/status.h"

namespace qb::graph {

inline constexpr const char* kKeySalt = "qbuild-node-v1";
inline constexpr std::size_t kMaxFileNameBytes = 255;  // NAME_MAX of Linux file systems

// What the graph needs to know of a step kind (the runner's registry provides it).
struct KindInfo {
  int code_version = 1;
  bool gpu = false;
};
using KindCatalog = std::map<std::string, KindInfo>;  // only kinds built into this qbuild

// ---- Inputs (from the config layer, already validated) ----
// Each step node's params are exactly its spec's canonical JSON (spec.to_json()): what the key
// hashes is what the step reads back.
struct TransIn {
  std::string name, file;             // config name; the file it came from (for messages)
  std::string input_model;            // path relative to the project root
  std::optional<std::string> suffix;  // nullopt: "original", no transform
  spec::SpinQuantParams params;
  spec::EquivalenceCheck check;       // given to the step, not hashed
};
struct QuantIn {
  std::string name, file, suffix;
  spec::QuantRecipe recipe;
  std::optional<std::string> calib_path;  // a file whose content the result depends on
};
struct DatasetIn {
  std::string name, dir;  // dir relative to the project root
};
struct EvalIn {
  std::string dataset_name, file;
  std::vector<DatasetIn> datasets;  // parallel to sample.datasets
  spec::SampleSpec sample;
  spec::GenerateSpec generate;  // logits is set per node (keep for the base, compare for variants)
  spec::ScoreSpec score;        // score.fidelity adds the base model's generate/score nodes
  std::string work_dir;         // predictions/reports (not hashed)
  std::vector<int> devices;     // GPUs this eval's generate nodes may use (not hashed)
};
struct GraphInput {
  std::vector<TransIn> trans;
  std::vector<QuantIn> quant;
  std::vector<EvalIn> evals;
};

// ---- The graph ----
struct NodeInput {
  std::string role;  // "model", "eval_set", "base", "generation", "check", "dataset:<name>", "calibration"
  int node;          // index into Graph::nodes
};

struct Node {
  std::string key;       // 32 hex chars
  std::string kind;      // source_model | source_dataset | source_file | check | trans | smooth | quant | sample | generate | score
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
  std::vector<std::string> explain;  // source nodes: what went into the key (explain_key() for any node)
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
  int node = -1;      // the score node (its meta holds the scores)
  int generate = -1;  // the generate node it scores
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

// What went into node i's key, one line per field ("kind = quant", "params = {...}"), for
// `qbuild explain`. Step nodes' lines are made here, not when the graph is built: every
// invocation hashes every node, and the lines (a JSON dump each) cost more than the hashing.
std::vector<std::string> explain_key(const Graph& g, int node);

// The node indices a target needs (with all their dependencies). Targets: a results CSV
// ("results/<dataset_name>.csv"), a model ("data/models/<variant>"), an eval set
// ("data/<dataset_name>.jsonl"), a variant name, or a node key. Empty = everything.
Result<std::set<int>> select_targets(const Graph& g, const std::vector<std::string>& targets);

}  // namespace qb::graph
