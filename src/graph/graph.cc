#include "graph/graph.h"

#include <algorithm>
#include <functional>

#include "spec/smooth_spec.h"
#include "util/hash.h"
#include "util/strings.h"
#include "util/dep_log.h"

namespace qb::graph {

namespace stdfs = std::filesystem;

std::optional<int> Graph::find_key(const std::string& key) const {
  auto it = by_key.find(key);
  if (it == by_key.end()) return std::nullopt;
  return it->second;
}

namespace {

// What a step node's key hashes: its kind, the kind's code version, its canonical params and
// each input's role and key.
void feed_step_key(Hasher& h, const Graph& g, const Node& n) {
  h.salt(kKeySalt).str("kind", n.kind).i64("code_version", n.code_version).json("params", n.params);
  for (const auto& in : n.inputs) h.digest_field("input:" + in.role, *Digest::from_hex(g.node(in.node).key));
}

class Builder {
 public:
  Builder(const stdfs::path& root, const KindCatalog& kinds, store::Index& index)
      : root_(root), kinds_(kinds), index_(index) {}

  Graph g;

  // A source file or folder, hashed by content (files sorted by relative path; hidden files
  // such as .cache/ are skipped).
  Result<int> source(const std::string& kind, const std::string& rel) {
    auto it = sources_.find(rel);
    if (it != sources_.end()) return it->second;
    stdfs::path abs = root_ / rel;
    std::error_code ec;
    fs::DependencyLog::note(abs);  // a build's input (runner/noop_memo.h), as every entry below
    if (!stdfs::exists(abs, ec)) return not_found("'" + rel + "' does not exist");
    Hasher h;
    h.salt("qbuild-source-v1").str("kind", kind);
    std::vector<std::pair<std::string, stdfs::path>> files;
    if (stdfs::is_directory(abs, ec)) {
      for (auto i = stdfs::recursive_directory_iterator(abs, ec); !ec && i != stdfs::recursive_directory_iterator(); i.increment(ec)) {
        auto name = i->path().filename().string();
        std::error_code e2;  // never throw: a symlink loop or a vanished file is an error value
        if (!name.empty() && name[0] == '.') {
          if (i->is_directory(e2)) i.disable_recursion_pending();
          continue;
        }
        fs::DependencyLog::note(i->path());
        if (i->is_regular_file(e2)) files.emplace_back(stdfs::relative(i->path(), abs, e2).string(), i->path());
        else if (e2) return io_error("'" + rel + "': '" + i->path().string() + "': " + e2.message());
      }
      if (ec) return io_error("listing '" + rel + "': " + ec.message());
    } else {
      files.emplace_back(abs.filename().string(), abs);
    }
    std::sort(files.begin(), files.end());
    for (const auto& [r, p] : files) {
      QB_ASSIGN_OR_RETURN_CTX(Digest d, index_.file_hash(p), "hashing '" + rel + "'");
      h.digest_field("file:" + r, d);
    }
    Node n;
    n.kind = kind;
    n.name = rel;
    n.identity = kind + ":" + rel;
    n.source_path = rel;
    n.key = h.digest().hex();
    n.explain = h.explain();
    int idx = add(std::move(n));
    sources_[rel] = idx;
    return idx;
  }

  // The `check` node of source model `src` (one per source: every step that reads the source
  // depends on it, so the source is validated once, before its first consumer).
  int check(int src) {
    auto it = checks_.find(src);
    if (it != checks_.end()) return it->second;
    Node n;
    n.kind = "check";
    n.name = g.node(src).name;
    n.identity = "check:" + g.node(src).name;
    n.inputs = {{"model", src}};
    n.log_name = stdfs::path(g.node(src).name).filename().string() + "_check";
    int idx = step(std::move(n));
    checks_[src] = idx;
    return idx;
  }

  // A step node; returns the index of an existing node with the same key if there is one. Its
  // explain lines are left to explain_key(), which feeds the same fields again.
  int step(Node n) {
    auto k = kinds_.find(n.kind);
    n.available = k != kinds_.end();
    n.code_version = n.available ? k->second.code_version : 0;
    n.gpu = n.available && k->second.gpu;
    for (const auto& in : n.inputs)
      if (!g.node(in.node).available) n.available = false;
    Hasher h(Hasher::Explain::kSkip);
    feed_step_key(h, g, n);
    n.key = h.digest().hex();
    return add(std::move(n));
  }

 private:
  int add(Node n) {
    auto it = g.by_key.find(n.key);
    if (it != g.by_key.end()) {
      auto& existing = g.nodes[static_cast<std::size_t>(it->second)];
      for (auto& l : n.links)
        if (std::find(existing.links.begin(), existing.links.end(), l) == existing.links.end()) existing.links.push_back(l);
      return it->second;
    }
    int idx = static_cast<int>(g.nodes.size());
    g.by_key[n.key] = idx;
    g.nodes.push_back(std::move(n));
    return idx;
  }

  stdfs::path root_;
  const KindCatalog& kinds_;
  store::Index& index_;
  std::map<std::string, int> sources_;
  std::map<int, int> checks_;  // source node -> its check node
};

std::string model_basename(const std::string& rel) {
  auto p = stdfs::path(rel).lexically_normal();
  auto name = p.filename().string();
  if (name.empty()) name = p.parent_path().filename().string();
  return name;
}

}  // namespace

Result<Graph> build_graph(const GraphInput& in, const stdfs::path& root, const KindCatalog& kinds, store::Index& index) {
  Builder b(root, kinds, index);
  Graph& g = b.g;

  // Transformed models.
  std::vector<int> trans_nodes;
  for (const auto& t : in.trans) {
    QB_ASSIGN_OR_RETURN_CTX(int src, b.source("source_model", t.input_model), t.file);
    if (!t.suffix) {
      trans_nodes.push_back(src);
      continue;
    }
    Node n;
    n.kind = "trans";
    n.name = model_basename(t.input_model) + *t.suffix;
    n.identity = "trans:" + t.name;
    n.config_file = t.file;
    n.params = t.params.to_json();
    n.settings = {{"equivalence", t.check.to_json()}};
    n.inputs = {{"model", src}, {"check", b.check(src)}};
    n.links = {"data/models/" + n.name};
    n.log_name = n.name + "_trans";
    trans_nodes.push_back(b.step(std::move(n)));
  }

  // Quantized models: one variant per trans × quant. A recipe with smoothing stages is two
  // nodes: `smooth` (the stages, keyed by what determines the smoothed model: SmoothSpec) and
  // `quant` (the quantization stage alone, reading the smoothed model), so an edit of the
  // quantization modifier reruns the quantization only.
  std::map<std::string, std::string> variant_origin;
  struct Keyed {
    nlohmann::json quant;                  // the quant node's params
    std::optional<nlohmann::json> smooth;  // the smooth node's params
    bool quant_calibrated = true;          // the quant node reads the calibration file
  };
  std::vector<Keyed> recipes;  // per quant config, made once
  for (const auto& q : in.quant) {
    auto smooth = spec::SmoothSpec::of(q.recipe);
    if (!smooth) {
      recipes.push_back({q.recipe.to_json(), std::nullopt, true});
      continue;
    }
    const spec::QuantRecipe stage = q.recipe.quantization_stage();
    recipes.push_back({stage.to_json(), smooth->to_json(), stage.calibration.has_value()});
  }
  for (std::size_t ti = 0; ti < in.trans.size(); ++ti) {
    const auto& t = in.trans[ti];
    for (std::size_t qi = 0; qi < in.quant.size(); ++qi) {
      const auto& q = in.quant[qi];
      Variant v;
      v.name = model_basename(t.input_model) + t.suffix.value_or("") + q.suffix;
      v.trans_name = t.name;
      v.quant_name = q.name;
      std::string origin = t.file + " × " + q.file;
      auto [it, fresh] = variant_origin.emplace(v.name, origin);
      if (!fresh)
        return invalid_argument("two variants are both named '" + v.name + "' (" + it->second + " and " + origin +
                                "); give the configs different output_suffix values");
      // The model, its check when it is the source itself, the calibration file.
      auto read_model = [&](Node& n, int model, bool source, bool calibrated) -> Status {
        n.inputs = {{"model", model}};
        if (source) n.inputs.push_back({"check", b.check(model)});
        if (q.calib_path && calibrated) {
          QB_ASSIGN_OR_RETURN_CTX(int c, b.source("source_file", *q.calib_path), q.file);
          n.inputs.push_back({"calibration", c});
        }
        return Status::ok();
      };
      int model = trans_nodes[ti];
      bool source = !t.suffix;
      if (recipes[qi].smooth) {
        Node sm;
        sm.kind = "smooth";
        sm.name = v.name + "-smoothed";
        sm.identity = "smooth:" + t.name + "/" + q.name;
        sm.config_file = q.file;
        sm.params = *recipes[qi].smooth;
        QB_TRY(read_model(sm, model, source, true));
        sm.log_name = v.name + "_smooth";
        model = b.step(std::move(sm));
        source = false;
      }
      Node n;
      n.kind = "quant";
      n.name = v.name;
      n.identity = "quant:" + t.name + "/" + q.name;
      n.config_file = q.file;
      n.params = recipes[qi].quant;
      QB_TRY(read_model(n, model, source, recipes[qi].quant_calibrated));
      n.links = {"data/models/" + v.name};
      n.log_name = v.name + "_quant";
      v.model_node = b.step(std::move(n));
      g.variants.push_back(std::move(v));
    }
  }

  // Eval sets; per model a generate node (raw outputs) and a score node (scores).
  for (const auto& e : in.evals) {
    Node s;
    s.kind = "sample";
    s.name = e.dataset_name;
    s.identity = "sample:" + e.dataset_name;
    s.config_file = e.file;
    s.params = e.sample.to_json();
    s.settings = {{"dataset_name", e.dataset_name}};
    for (const auto& d : e.datasets) {
      QB_ASSIGN_OR_RETURN_CTX(int src, b.source("source_dataset", d.dir), e.file);
      s.inputs.push_back({"dataset:" + d.name, src});
    }
    s.links = {"data/" + e.dataset_name + ".jsonl"};
    s.log_name = e.dataset_name + "_sample";
    int sample = b.step(std::move(s));

    // The settings every generate/score node of this eval carries (not hashed).
    nlohmann::json settings = {{"work_dir", e.work_dir}, {"dataset_name", e.dataset_name}};
    if (!e.devices.empty()) settings["devices"] = e.devices;  // this eval's GPUs (a subset of the project's)
    // How many of them one generate node holds at once (its data-parallel workers; runner/gpu_claim.h).
    if (e.generate.data_parallel > 1) settings["data_parallel"] = e.generate.data_parallel;
    // The canonical JSON of this eval's generate and score specs, made once per variation.
    std::map<std::string, nlohmann::json> generate_params;  // by logits mode
    std::map<bool, nlohmann::json> score_params;            // by fidelity
    auto generate_json = [&](const std::string& logits) -> const nlohmann::json& {
      auto it = generate_params.find(logits);
      if (it != generate_params.end()) return it->second;
      spec::GenerateSpec gs = e.generate;
      gs.logits = logits;
      return generate_params.emplace(logits, gs.to_json()).first->second;
    };
    auto score_json = [&](bool fidelity) -> const nlohmann::json& {
      auto it = score_params.find(fidelity);
      if (it != score_params.end()) return it->second;
      spec::ScoreSpec ss = e.score;
      ss.fidelity = fidelity;
      return score_params.emplace(fidelity, ss.to_json()).first->second;
    };
    // One generate + score pair: `who` names the model in identities and logs.
    auto evaluate = [&](int model, const std::string& display, const std::string& identity_tail,
                        const std::string& logits, std::optional<std::pair<int, int>> base,
                        nlohmann::json extra) -> std::pair<int, int> {
      auto node = [&](const std::string& kind, nlohmann::json params, std::vector<NodeInput> inputs) {
        Node n;
        n.kind = kind;
        n.name = display;
        n.identity = kind + ":" + e.dataset_name + "/" + identity_tail;
        n.config_file = e.file;
        n.params = std::move(params);
        n.settings = settings;
        n.settings.update(extra);
        if (kind == "score") {  // a CPU step
          n.settings.erase("devices");
          n.settings.erase("data_parallel");
        }
        n.inputs = std::move(inputs);
        n.log_name = display + "_" + e.dataset_name + "_" + kind;
        return b.step(std::move(n));
      };
      std::vector<NodeInput> gen_inputs = {{"model", model}, {"eval_set", sample}};
      if (g.node(model).is_source()) gen_inputs.push_back({"check", b.check(model)});
      if (base) gen_inputs.push_back({"base", base->first});
      const int gen = node("generate", generate_json(logits), gen_inputs);
      std::vector<NodeInput> score_inputs = {{"generation", gen}, {"eval_set", sample}};
      if (base) score_inputs.push_back({"base", base->second});
      return {gen, node("score", score_json(base.has_value()), score_inputs)};
    };

    std::map<std::string, std::pair<int, int>> base_of_model;  // source model path -> (generate, score)
    // The base row's name: the model folder's basename, or its whole path ('/' → '_') when two
    // source models share a basename (a/Qwen3-8B and b/Qwen3-8B).
    std::map<std::string, std::set<std::string>> paths_of_basename;
    for (const auto& t : in.trans) paths_of_basename[model_basename(t.input_model)].insert(t.input_model);
    auto base_name = [&](const std::string& path) {
      std::string bn = model_basename(path);
      if (paths_of_basename[bn].size() < 2) return bn;
      std::string p = path;
      std::replace(p.begin(), p.end(), '/', '_');
      return p;
    };
    for (std::size_t vi = 0; vi < g.variants.size(); ++vi) {
      const auto& v = g.variants[vi];
      const auto& t = *std::find_if(in.trans.begin(), in.trans.end(), [&](const TransIn& x) { return x.name == v.trans_name; });
      std::optional<std::pair<int, int>> base;
      if (e.score.fidelity) {
        auto it = base_of_model.find(t.input_model);
        if (it == base_of_model.end()) {
          QB_ASSIGN_OR_RETURN(int src, b.source("source_model", t.input_model));
          const std::string bn = base_name(t.input_model);
          it = base_of_model.emplace(t.input_model, evaluate(src, bn, "base/" + t.input_model, "keep", std::nullopt,
                                                              {{"variant", bn}, {"base", true}}))
                   .first;
        }
        base = it->second;
      }
      auto [gen, score] = evaluate(v.model_node, v.name, v.trans_name + "/" + v.quant_name,
                                   base ? "compare" : "none", base,
                                   {{"variant", v.name}, {"trans", v.trans_name}, {"quant", v.quant_name}});
      g.evals.push_back({e.dataset_name, v.name, score, gen});
    }
  }
  // Names become file names (logs/<inv>/<log_name>.log, data/models/<variant>): a name the file
  // system cannot hold must fail here, at --dry-run, not when the step opens its log.
  for (const auto& n : g.nodes) {
    std::vector<std::string> files = {n.log_name + ".log"};
    for (const auto& l : n.links) files.push_back(stdfs::path(l).filename().string());
    for (const auto& f : files)
      if (f.size() > kMaxFileNameBytes)
        return invalid_argument(n.config_file + ": the " + n.kind + " step of '" + n.name + "' needs the file name '" +
                                f + "' (" + std::to_string(f.size()) + " bytes; at most " +
                                std::to_string(kMaxFileNameBytes) +
                                "): shorten the names (model folder, output_suffix, dataset_name)");
  }
  return std::move(g);
}

std::vector<std::string> explain_key(const Graph& g, int i) {
  const Node& n = g.node(i);
  if (n.is_source()) return n.explain;
  Hasher h;
  feed_step_key(h, g, n);
  return h.explain();
}

Result<std::set<int>> select_targets(const Graph& g, const std::vector<std::string>& targets) {
  std::set<int> roots;
  if (targets.empty()) {
    for (std::size_t i = 0; i < g.nodes.size(); ++i) roots.insert(static_cast<int>(i));
  }
  for (const auto& raw : targets) {
    std::string t = stdfs::path(raw).lexically_normal().string();
    while (!t.empty() && t.back() == '/') t.pop_back();
    bool matched = false;
    if (starts_with(t, "results/") && ends_with(t, ".csv")) {
      std::string ds = t.substr(8, t.size() - 12);
      for (const auto& e : g.evals)
        if (e.dataset_name == ds) roots.insert(e.node), matched = true;
    }
    for (std::size_t i = 0; i < g.nodes.size(); ++i) {
      const auto& n = g.nodes[i];
      bool hit = n.key == t || std::find(n.links.begin(), n.links.end(), t) != n.links.end();
      if (hit) roots.insert(static_cast<int>(i)), matched = true;
    }
    for (const auto& v : g.variants) {
      if (v.name != t) continue;
      matched = true;
      roots.insert(v.model_node);
      for (const auto& e : g.evals)
        if (e.variant == v.name) roots.insert(e.node);
    }
    if (!matched) {
      std::vector<std::string> examples;
      for (const auto& e : g.evals) {
        std::string csv = "results/" + e.dataset_name + ".csv";
        if (std::find(examples.begin(), examples.end(), csv) == examples.end()) examples.push_back(csv);
      }
      for (const auto& v : g.variants) examples.push_back("data/models/" + v.name);
      if (examples.size() > 8) examples.resize(8);
      return invalid_argument("unknown target '" + raw + "'; targets are results/<dataset_name>.csv, data/models/<variant>, "
                              "data/<dataset_name>.jsonl, a variant name or a node key, e.g. " + join(examples, ", "));
    }
  }
  // Close over dependencies.
  std::set<int> out;
  std::function<void(int)> visit = [&](int i) {
    if (!out.insert(i).second) return;
    for (const auto& in : g.node(i).inputs) visit(in.node);
  };
  for (int r : roots) visit(r);
  return out;
}

}  // namespace qb::graph
