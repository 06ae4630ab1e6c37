// A project on disk for the report tests, built through the real store and index: artifacts
// committed with manifests (quantized models with or without a quant report, a transform),
// step runs recorded in the index, a source model folder named by a small graph, and results
// CSVs written as the build writes them.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ci_required.h"
#include "graph/graph.h"
#include "report/model_info.h"
#include "store/index.h"
#include "store/object_store.h"
#include "util/fs.h"
#include "util/hash.h"

namespace qb::report::testing {

namespace fs = std::filesystem;
using nlohmann::json;

inline std::string key_of(const std::string& what) { return hash_bytes(what.data(), what.size()).hex(); }

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A quant report of `layers` decoder layers: relative errors growing with the layer, so tests
// can tell cells apart.
inline json quant_report(int layers, bool gptq) {
  json linears = json::array();
  for (int l = 0; l < layers; ++l)
    for (const char* m : {"self_attn.q_proj", "self_attn.k_proj", "mlp.down_proj"}) {
      json e = {{"module", "model.layers." + std::to_string(l) + "." + m},
                {"method", gptq ? "gptq" : "rtn"},
                {"weight_rel_error", 0.001 * (l + 1)},
                {"activations", {{"absmax", 4.0 + l}, {"p99", 2.0}}}};
      if (gptq) e["gptq_loss"] = 0.5 * (l + 1);
      linears.push_back(e);
    }
  return {{"modifier", gptq ? "GPTQModifier" : "QuantizationModifier"}, {"linears", linears}, {"ignored", {"lm_head"}}};
}

inline json recipe(const std::string& modifier, bool activations, bool dynamic) {
  json g = {{"targets", {"Linear"}},
            {"weights", {{"num_bits", 8}, {"type", "int"}, {"strategy", "channel"}, {"symmetric", true}, {"dynamic", false}}}};
  if (activations)
    g["input_activations"] = {{"num_bits", 8}, {"type", "int"}, {"strategy", dynamic ? "token" : "tensor"},
                              {"symmetric", true}, {"dynamic", dynamic}};
  json r = {{"modifier", modifier}, {"config_groups", {{"group_0", g}}}, {"ignore", {"lm_head"}}, {"device", "cpu"}};
  if (activations && !dynamic) r["calibration"] = {{"num_samples", 16}, {"seq_len", 64}, {"seed", 0}};
  return r;
}

class Project {
 public:
  Project() {
    auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::path(QB_BINARY_DIR) / "report-projects" / (std::string(info->test_suite_name()) + "." + info->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "results");
    layout_ = std::make_unique<store::Layout>(root_);
    store_ = std::make_unique<store::ObjectStore>(*layout_);
    fs::create_directories(layout_->objects());
    fs::create_directories(layout_->tmp());
    auto idx = store::Index::open(layout_->index_db(), store::IndexAccess::kCreate);
    EXPECT_TRUE(idx.is_ok()) << idx.status().to_string();
    index_ = std::make_unique<store::Index>(std::move(*idx));
  }

  const fs::path& root() const { return root_; }
  const store::Layout& layout() const { return *layout_; }
  store::Index& index() { return *index_; }
  graph::Graph& graph() { return graph_; }
  Sources sources() { return Sources{*layout_, *index_, *store_, &graph_}; }

  // A source model folder named by the graph (as the current configs name it); returns its key.
  std::string add_source(const std::string& rel, std::uint64_t weight_bytes, const std::string& card = "") {
    fs::create_directories(root_ / rel);
    std::ofstream(root_ / rel / "model.safetensors") << std::string(weight_bytes, 'w');
    std::ofstream(root_ / rel / "config.json") << "{}";
    if (!card.empty()) std::ofstream(root_ / rel / "README.md") << card;
    graph::Node n;
    n.kind = "source_model";
    n.name = rel;
    n.source_path = rel;
    n.key = key_of("source:" + rel);
    graph_.by_key[n.key] = static_cast<int>(graph_.nodes.size());
    graph_.nodes.push_back(n);
    return n.key;
  }

  // Commits an artifact; `files` maps names to contents.
  std::string add_artifact(const std::string& kind, const std::string& name, const json& params, const json& inputs,
                           const std::map<std::string, std::string>& files, const json& meta = json::object()) {
    const std::string key = key_of(kind + ":" + name);
    auto tmp = store_->begin(key);
    EXPECT_TRUE(tmp.is_ok()) << tmp.status().to_string();
    for (const auto& [f, text] : files) EXPECT_TRUE(qb::fs::write_file_atomic(tmp->path() / f, text).is_ok());
    store::Manifest m;
    m.key = key;
    m.kind = kind;
    m.name = name;
    m.identity = kind + ":" + name;
    m.params = params;
    m.inputs = inputs;
    m.meta = meta;
    auto published = store_->commit(std::move(*tmp), m);
    EXPECT_TRUE(published.is_ok()) << published.status().to_string();
    EXPECT_TRUE(index_->upsert_artifact(*published).is_ok());
    return key;
  }

  // A quantized model of `upstream` (a source or trans key) with 1000-byte weights.
  std::string add_quant(const std::string& name, const json& rec, const std::string& upstream,
                        const json& report = nullptr, const std::string& calibration_key = "") {
    std::map<std::string, std::string> files = {{"config.json", "{}"}, {"model.safetensors", std::string(1000, 'q')},
                                                {"tokenizer.json", "{}"}};
    if (!report.is_null()) files["quant_report.json"] = report.dump();
    json inputs = {{"model", upstream}};
    if (!calibration_key.empty()) inputs["calibration"] = calibration_key;
    return add_artifact("quant", name, rec, inputs, files, {{"duration_s", 12.5}, {"device", "cpu"}});
  }

  void add_run(const std::string& invocation, const std::string& kind, const std::string& name, const std::string& status,
               double start, double seconds, const std::string& gpu = "", const std::string& host = "h") {
    store::RunRow r;
    r.invocation = invocation;
    r.kind = kind;
    r.name = name;
    r.key = key_of(kind + name);
    r.status = status;
    r.started = start;
    r.gpu = gpu;
    r.host = host;
    auto id = index_->begin_run(r);
    ASSERT_TRUE(id.is_ok());
    ASSERT_TRUE(index_->end_run(*id, status, seconds, "").is_ok());
  }

  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel, std::ios::binary) << text;
  }

 private:
  fs::path root_;
  std::unique_ptr<store::Layout> layout_;
  std::unique_ptr<store::ObjectStore> store_;
  std::unique_ptr<store::Index> index_;
  graph::Graph graph_;
};

// The header the build writes (runner/build.cc), then the rows.
inline const char* kHeader =
    "variant,trans,quant,gsm8k_acc,gsm8k_n,gsm8k_stderr,mmlu_acc,mmlu_n,mmlu_stderr,overall_acc,overall_n,"
    "overall_stderr,fidelity_kl,fidelity_kl_stderr,fidelity_mcnemar_p,fidelity_only_base,fidelity_only_variant,"
    "fidelity_top1,status,model_key,eval_set_key,eval_key,generate_key,qbuild_version,prefill_tokens_per_s,"
    "decode_tokens_per_s,peak_gpu_gib,peak_rss_gib,generate_device\n";

// One CSV row: accuracies (gsm8k, mmlu, overall), KL, model key, status.
inline std::string csv_row(const std::string& variant, const std::string& trans, const std::string& quant, double gsm8k,
                           double mmlu, const std::string& kl, const std::string& model_key,
                           const std::string& status = "current", const std::string& decode = "150") {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "%s,%s,%s,%g,10,0.1,%g,10,0.1,%g,20,0.07,%s,%s,0.5,1,1,0.9,%s,%s,e,k,g,0.1.0,9000,%s,,0.3,cpu\n",
                variant.c_str(), trans.c_str(), quant.c_str(), gsm8k, mmlu, (gsm8k + mmlu) / 2, kl.c_str(),
                kl.empty() ? "" : "1e-6", status.c_str(), model_key.c_str(), decode.c_str());
  return buf;
}

}  // namespace qb::report::testing
