// The table of step kinds (and model tools) built into this qbuild. Step libraries register their kinds
// (src/steps/kinds/); tests may register their own. Each kind: a name, a code version (bump it
// when the kind's output changes meaning: every key of that kind changes), whether it runs on
// a GPU, and the function that does the work.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "graph/graph.h"
#include "runner/model_tools.h"
#include "spec/project.h"
#include "util/status.h"

namespace qb::runner {

// What a step sees. It writes its artifact into out_dir (a fresh temporary directory that is
// published atomically on success) and may put small facts into `meta` (stored in the manifest
// and the index: scores, check results, timings).
struct StepContext {
  std::string kind, key, name;
  // The node's spec in canonical JSON (exactly what the key hashed): the kind reads it with its
  // spec type's from_json() (src/spec/) — nothing is re-parsed or re-defaulted.
  nlohmann::json params;
  nlohmann::json settings;                              // not hashed: tolerances, output folders
  std::map<std::string, std::filesystem::path> inputs;  // role -> artifact folder or source path (absolute)
  std::map<std::string, std::string> input_keys;        // role -> key
  std::map<std::string, std::string> input_names;       // role -> readable name
  std::filesystem::path out_dir;
  std::filesystem::path partial_dir;  // cache/partial/<key>/: resumable work, kept across failures
  std::filesystem::path project_root;
  std::string device = "cpu";         // "cpu" or "cuda" (CUDA_VISIBLE_DEVICES shows the step's devices)
  std::vector<int> gpus;              // the GPU ids it holds: one, or data_parallel (settings) of them
  int cpu_threads = 0;                // intra-op threads for this step (0: all cores)
  spec::ProjectSpec project;          // cache/project.json (resources)
  nlohmann::json meta = nlohmann::json::object();
};

// A step's meta may carry "peak_gpu_gib" (its kind measures it); the runner adds "duration_s"
// and "peak_rss_gib" (the step process's peak resident memory).
using StepFn = std::function<Status(StepContext&)>;

struct StepKind {
  std::string name;
  int code_version = 1;
  bool gpu = false;
  std::string summary;  // one line for `qbuild --help`
  StepFn run;
  // Set in the torch-free front end for the libtorch kinds: `qbuild step <kind>` hands the whole
  // command to this executable (qbuild-torch) instead of running `run` (src/cli/main.cc).
  std::filesystem::path delegate = {};
};

class StepRegistry {
 public:
  void add(StepKind kind) { kinds_[kind.name] = std::move(kind); }
  const StepKind* find(const std::string& name) const {
    auto it = kinds_.find(name);
    return it == kinds_.end() ? nullptr : &it->second;
  }
  graph::KindCatalog catalog() const {
    graph::KindCatalog c;
    for (const auto& [n, k] : kinds_) c[n] = {k.code_version, k.gpu};
    return c;
  }
  const std::map<std::string, StepKind>& kinds() const { return kinds_; }

  // The model tools of this build (empty functions: not built in).
  void set_tools(ModelTools tools) { tools_ = std::move(tools); }
  const ModelTools& tools() const { return tools_; }
  // In the front end: the executable that has the model tools (their commands are handed to it).
  void set_tools_delegate(std::filesystem::path exe) { tools_delegate_ = std::move(exe); }
  const std::filesystem::path& tools_delegate() const { return tools_delegate_; }

 private:
  std::map<std::string, StepKind> kinds_;
  ModelTools tools_;
  std::filesystem::path tools_delegate_;
};

}  // namespace qb::runner
