// Unit tests for src/graph/plan.h and src/ninja/build_file.h: json_diff lines, plan reasons against a
// real ObjectStore + Index, build.ninja text and node specs.
#include "graph/plan.h"

#include <functional>
#include <set>

#include <gtest/gtest.h>

#include "ninja/build_file.h"
#include "graph_test_util.h"
#include "store/object_store.h"

namespace qb::graph {
namespace {

using namespace testing_util;
using ninja::generate_build_file;
using ninja::node_spec;
using ninja::node_spec_fingerprint;
using ninja::stamp_path;
using nlohmann::json;

TEST(JsonDiffTest, EqualValuesHaveNoLines) {
  EXPECT_EQ(json_diff(json::parse(R"({"a":[1,{"b":2}]})"), json::parse(R"({"a":[1,{"b":2}]})")),
            std::vector<std::string>{});
}

TEST(JsonDiffTest, ChangedAddedAndRemovedKeys) {
  json a = json::parse(R"({"a": 1, "b": {"c": 2, "d": [1]}, "e": "x"})");
  json b = json::parse(R"({"a": 1, "b": {"c": 3, "d": [1, 2]}, "f": true})");
  EXPECT_EQ(json_diff(a, b), (std::vector<std::string>{"b.c: 2 → 3", "b.d: [1] → [1,2]", "e: removed \"x\"",
                                                       "f: added true"}));
}

TEST(JsonDiffTest, TopLevelScalarUsesValueLabel) {
  EXPECT_EQ(json_diff(json(1), json(2)), std::vector<std::string>{"(value): 1 → 2"});
}

TEST(JsonDiffTest, PathPrefixIsUsed) {
  EXPECT_EQ(json_diff(json::parse(R"({"x":1})"), json::parse(R"({"x":2})"), "params"),
            std::vector<std::string>{"params.x: 1 → 2"});
}

TEST(JsonDiffTest, ObjectReplacedByScalar) {
  EXPECT_EQ(json_diff(json::parse(R"({"x":{"y":1}})"), json::parse(R"({"x":5})")),
            std::vector<std::string>{"x: {\"y\":1} → 5"});
}

class PlanTest : public GraphTest {
 protected:
  void SetUp() override {
    GraphTest::SetUp();
    store_ = std::make_unique<store::ObjectStore>(layout());
  }
  static GraphInput tiny() {
    GraphInput in;
    in.trans = {trans_original()};
    in.quant = {quant("rtn", "-rtn", 8)};
    in.evals = {eval_mmlu()};
    return in;
  }
  // Publishes every step node the way the runner does: store commit + index upsert.
  void publish_all(const Graph& g) {
    double t = 100;
    for (const auto& n : g.nodes) {
      if (n.is_source() || store_->contains(n.key)) continue;
      auto dir = store_->begin(n.key);
      ASSERT_TRUE(dir.is_ok());
      write_text(dir->path() / "out", n.name);
      store::Manifest m;
      m.key = n.key;
      m.kind = n.kind;
      m.name = n.name;
      m.identity = n.identity;
      m.created_unix = t++;
      m.params = n.params;
      for (const auto& in : n.inputs) m.inputs[in.role] = g.node(in.node).key;
      m.meta = {{"code_version", n.code_version}};
      auto done = store_->commit(std::move(*dir), m);
      ASSERT_TRUE(done.is_ok()) << done.status().to_string();
      ASSERT_TRUE(index_->upsert_artifact(*done).is_ok());
    }
  }
  Plan plan(const Graph& g) {
    auto sel = select_targets(g, {});
    EXPECT_TRUE(sel.is_ok());
    auto p = make_plan(g, *sel, *store_, *index_);
    EXPECT_TRUE(p.is_ok()) << p.status().to_string();
    return p.is_ok() ? *p : Plan{};
  }
  // "kind name: reason; reason" per plan item.
  static std::vector<std::string> lines(const Graph& g, const Plan& p) {
    std::vector<std::string> out;
    for (const auto& it : p.items) {
      std::string s = g.node(it.node).kind + " " + g.node(it.node).name + ":";
      for (const auto& r : it.reasons) s += " " + r + ";";
      out.push_back(s);
    }
    return out;
  }
  std::unique_ptr<store::ObjectStore> store_;
};

TEST_F(PlanTest, FreshProjectRunsEverythingAsNew) {
  Graph g = build(tiny());
  Plan p = plan(g);
  EXPECT_EQ(lines(g, p), (std::vector<std::string>{"check models/tiny: new: never built;",
                                                   "quant tiny-rtn: new: never built;", "sample mmlu: new: never built;",
                                                   "generate tiny-rtn: new: never built;",
                                                   "score tiny-rtn: new: never built;"}));
  EXPECT_EQ(p.to_run, 5);
  EXPECT_EQ(p.cached, 0);
  EXPECT_EQ(p.unavailable, 0);
  for (const auto& it : p.items) EXPECT_EQ(it.action, Action::kRun);
}

TEST_F(PlanTest, PublishedArtifactsAreCached) {
  Graph g = build(tiny());
  publish_all(g);
  Plan p = plan(g);
  EXPECT_EQ(lines(g, p), (std::vector<std::string>{"check models/tiny: cached;", "quant tiny-rtn: cached;",
                                                   "sample mmlu: cached;", "generate tiny-rtn: cached;",
                                                   "score tiny-rtn: cached;"}));
  EXPECT_EQ(p.cached, 5);
  EXPECT_EQ(p.to_run, 0);
}

TEST_F(PlanTest, RecipeChangeNamesTheFieldAndRebuiltInput) {
  publish_all(build(tiny()));
  GraphInput in = tiny();
  in.quant[0].recipe.groups[0].weights.num_bits = 4;
  Graph g = build(in);
  Plan p = plan(g);
  EXPECT_EQ(lines(g, p),
            (std::vector<std::string>{"check models/tiny: cached;",
                                      "quant tiny-rtn: recipe changed: config_groups.group_0.weights.num_bits: 8 → 4;",
                                      "sample mmlu: cached;",
                                      "generate tiny-rtn: input changed: model 'tiny-rtn' (rebuilt in this run);",
                                      "score tiny-rtn: input changed: generation 'tiny-rtn' (rebuilt in this run);"}));
  EXPECT_EQ(p.to_run, 3);
  EXPECT_EQ(p.cached, 2);
}

// A scorer setting re-runs only the score node: --dry-run says so.
TEST_F(PlanTest, ScorerChangeReScoresWithoutRegenerating) {
  publish_all(build(tiny()));
  GraphInput in = tiny();
  in.evals[0].score.strip_thinking = false;
  Graph g = build(in);
  Plan p = plan(g);
  EXPECT_EQ(lines(g, p), (std::vector<std::string>{"check models/tiny: cached;", "quant tiny-rtn: cached;",
                                                   "sample mmlu: cached;", "generate tiny-rtn: cached;",
                                                   "score tiny-rtn: scoring changed: strip_thinking: true → false;"}));
  EXPECT_EQ(p.to_run, 1);
}

TEST_F(PlanTest, SourceChangeIsInputChanged) {
  publish_all(build(tiny()));
  write_text(root() / "models/tiny/config.json", R"({"hidden_size": 9})");
  Graph g = build(tiny());
  Plan p = plan(g);
  EXPECT_EQ(lines(g, p), (std::vector<std::string>{"check models/tiny: input changed: model 'models/tiny';",
                                                   "quant tiny-rtn: input changed: model 'models/tiny'; input changed: check 'models/tiny' (rebuilt in this run);",
                                                   "sample mmlu: cached;",
                                                   "generate tiny-rtn: input changed: model 'tiny-rtn' (rebuilt in this run);",
                                                   "score tiny-rtn: input changed: generation 'tiny-rtn' (rebuilt in this run);"}));
}

TEST_F(PlanTest, DeletedArtifactIsMissingFromCache) {
  Graph g = build(tiny());
  publish_all(g);
  ASSERT_TRUE(store_->remove(key(g, "quant", "tiny-rtn")).is_ok());
  Plan p = plan(g);
  EXPECT_EQ(lines(g, p), (std::vector<std::string>{"check models/tiny: cached;",
                                                   "quant tiny-rtn: artifact missing from cache/ (deleted?);",
                                                   "sample mmlu: cached;", "generate tiny-rtn: cached;",
                                                   "score tiny-rtn: cached;"}));
}

TEST_F(PlanTest, CodeVersionBumpIsStepCodeChanged) {
  publish_all(build(tiny()));
  kinds_["sample"].code_version = 2;
  Graph g = build(tiny());
  Plan p = plan(g);
  EXPECT_EQ(lines(g, p), (std::vector<std::string>{"check models/tiny: cached;", "quant tiny-rtn: cached;",
                                                   "sample mmlu: step code changed: version 1 → 2;",
                                                   "generate tiny-rtn: input changed: eval_set 'mmlu' (rebuilt in this run);",
                                                   "score tiny-rtn: input changed: generation 'tiny-rtn' (rebuilt in this run); "
                                                   "input changed: eval_set 'mmlu' (rebuilt in this run);"}));
}

TEST_F(PlanTest, MissingKindCannotRunAndDependentsSaySo) {
  kinds_.erase("quant");
  Graph g = build(tiny());
  Plan p = plan(g);
  EXPECT_EQ(lines(g, p),
            (std::vector<std::string>{"check models/tiny: new: never built;",
                                      "quant tiny-rtn: step kind 'quant' is not available in this build of qbuild;",
                                      "sample mmlu: new: never built;",
                                      "generate tiny-rtn: needs quant 'tiny-rtn', which cannot run;",
                                      "score tiny-rtn: needs generate 'tiny-rtn', which cannot run;"}));
  EXPECT_EQ(p.unavailable, 3);
  EXPECT_EQ(p.to_run, 2);
  EXPECT_EQ(p.items[1].action, Action::kUnavailable);
}

TEST_F(PlanTest, RenderPlanHidesCachedUnlessVerbose) {
  publish_all(build(tiny()));
  GraphInput in = tiny();
  in.quant[0].recipe.groups[0].weights.num_bits = 4;
  Graph g = build(in);
  Plan p = plan(g);
  std::string q = key(g, "quant", "tiny-rtn").substr(0, 12), s = key(g, "sample", "mmlu").substr(0, 12),
              gen = key(g, "generate", "tiny-rtn").substr(0, 12), e = key(g, "score", "tiny-rtn").substr(0, 12);
  EXPECT_EQ(render_plan(g, p, false),
            "run     quant tiny-rtn  [" + q + "]\n"
            "          recipe changed: config_groups.group_0.weights.num_bits: 8 → 4\n"
            "run     generate tiny-rtn  [" + gen + "]\n"
            "          input changed: model 'tiny-rtn' (rebuilt in this run)\n"
            "run     score tiny-rtn  [" + e + "]\n"
            "          input changed: generation 'tiny-rtn' (rebuilt in this run)\n"
            "3 to run, 2 cached\n");
  EXPECT_NE(render_plan(g, p, true).find("cached  sample mmlu  [" + s + "]\n"), std::string::npos);
}

// ---- build.ninja and node specs ----

class BuildFileTest : public GraphTest {
 protected:
  void write_rules() {
    for (const char* k : {"check", "quant", "sample", "generate", "score"}) write_text(layout().rules() / (std::string(k) + ".ninja"), "# rule\n");
  }
  static GraphInput tiny() {
    GraphInput in;
    in.trans = {trans_original()};
    in.quant = {quant("rtn", "-rtn", 8)};
    in.evals = {eval_mmlu()};
    return in;
  }
};

TEST_F(BuildFileTest, StampPathIsTheManifestInTheStore) {
  std::string k = "ab" + std::string(30, 'c');
  EXPECT_EQ(stamp_path(layout(), k), "cache/objects/ab/" + k + "/qbuild-artifact.json");
}

TEST_F(BuildFileTest, TinyGraphExactText) {
  write_rules();
  Graph g = build(tiny());
  auto sel = select_targets(g, {});
  ASSERT_TRUE(sel.is_ok());
  auto text = generate_build_file(g, *sel, layout(), {"/bin/qbuild --project /p", 2});
  ASSERT_TRUE(text.is_ok()) << text.status().to_string();
  std::string c = key(g, "check", "models/tiny"), q = key(g, "quant", "tiny-rtn"), s = key(g, "sample", "mmlu"),
              gen = key(g, "generate", "tiny-rtn"), e = key(g, "score", "tiny-rtn");
  std::string rules = layout().rules().string();
  EXPECT_EQ(*text,
            "# Generated by qbuild from pipline/ — do not edit; it is rewritten on every run.\n"
            "# Each edge builds one artifact; its output is the artifact's manifest in cache/objects/.\n"
            "ninja_required_version = 1.10\n"
            "builddir = cache\n"
            "qbuild = /bin/qbuild --project /p\n"
            "\n"
            "# GPU-kind steps share this pool: one per configured GPU device (on a CPU-only project, as many as\n"
            "# the build runs in parallel).\n"
            "pool gpu\n"
            "  depth = 2\n"
            "\n"
            "include " + rules + "/check.ninja\n"
            "include " + rules + "/generate.ninja\n"
            "include " + rules + "/quant.ninja\n"
            "include " + rules + "/sample.ninja\n"
            "include " + rules + "/score.ninja\n"
            "\n"
            "build " + stamp_path(layout(), c) + ": check\n"
            "  key = " + c + "\n"
            "  desc = models/tiny\n"
            "build " + stamp_path(layout(), q) + ": quant || " + stamp_path(layout(), c) + "\n"
            "  key = " + q + "\n"
            "  desc = tiny-rtn\n"
            "build " + stamp_path(layout(), s) + ": sample\n"
            "  key = " + s + "\n"
            "  desc = mmlu\n"
            "build " + stamp_path(layout(), gen) + ": generate || " + stamp_path(layout(), q) + " " + stamp_path(layout(), s) + "\n"
            "  key = " + gen + "\n"
            "  desc = tiny-rtn\n"
            "build " + stamp_path(layout(), e) + ": score || " + stamp_path(layout(), gen) + " " + stamp_path(layout(), s) + "\n"
            "  key = " + e + "\n"
            "  desc = tiny-rtn\n"
            "\n"
            "default " + stamp_path(layout(), c) + " " + stamp_path(layout(), q) + " " + stamp_path(layout(), s) + " " + stamp_path(layout(), gen) + " " +
                stamp_path(layout(), e) + "\n");
}

TEST_F(BuildFileTest, PoolDepthIsAtLeastOne) {
  write_rules();
  Graph g = build(tiny());
  auto text = generate_build_file(g, *select_targets(g, {}), layout(), {"q", 0});
  ASSERT_TRUE(text.is_ok());
  EXPECT_NE(text->find("pool gpu\n  depth = 1\n"), std::string::npos);
}

TEST_F(BuildFileTest, OnlySelectedNodesGetEdges) {
  write_rules();
  Graph g = build(tiny());
  auto sel = select_targets(g, {"data/mmlu.jsonl"});
  ASSERT_TRUE(sel.is_ok());
  auto text = generate_build_file(g, *sel, layout(), {"q", 1});
  ASSERT_TRUE(text.is_ok());
  EXPECT_EQ(text->find("include " + layout().rules().string() + "/quant.ninja"), std::string::npos);
  EXPECT_EQ(text->find(": quant"), std::string::npos);
  EXPECT_NE(text->find("default " + stamp_path(layout(), key(g, "sample", "mmlu")) + "\n"), std::string::npos);
}

TEST_F(BuildFileTest, UnavailableNodesGetNoEdgesAndNeedNoRule) {
  write_text(layout().rules() / "sample.ninja", "# rule\n");
  write_text(layout().rules() / "check.ninja", "# rule\n");
  kinds_.erase("quant");
  kinds_.erase("generate");
  Graph g = build(tiny());
  auto text = generate_build_file(g, *select_targets(g, {}), layout(), {"q", 1});
  ASSERT_TRUE(text.is_ok()) << text.status().to_string();
  EXPECT_EQ(text->find(": quant"), std::string::npos);
  EXPECT_EQ(text->find(": generate"), std::string::npos);
  EXPECT_EQ(text->find(": score"), std::string::npos);
  EXPECT_NE(text->find("build " + stamp_path(layout(), key(g, "sample", "mmlu")) + ": sample\n"), std::string::npos);
}

TEST_F(BuildFileTest, MissingRuleFileIsNotFound) {
  for (const char* k : {"check", "generate", "score", "sample"})
    write_text(layout().rules() / (std::string(k) + ".ninja"), "# rule\n");
  Graph g = build(tiny());
  auto text = generate_build_file(g, *select_targets(g, {}), layout(), {"q", 1});
  ASSERT_FALSE(text.is_ok());
  EXPECT_EQ(text.status().code(), Code::kNotFound);
  EXPECT_EQ(text.status().message(),
            "rule template '" + (layout().rules() / "quant.ninja").string() + "' for step kind 'quant' is missing");
}

TEST_F(BuildFileTest, QbuildCommandWithNewlineIsRejected) {
  write_rules();
  Graph g = build(tiny());
  auto text = generate_build_file(g, *select_targets(g, {}), layout(), {"a\nb", 1});
  ASSERT_FALSE(text.is_ok());
  EXPECT_EQ(text.status().code(), Code::kInvalidArgument);
}

// executor: slurm — the GPU kinds' edges run through srun in the `slurm` pool (slurm.jobs deep);
// CPU kinds stay on this machine in the `local` pool; a cached node is never submitted.
class SlurmBuildFileTest : public BuildFileTest {
 protected:
  void SetUp() override {
    BuildFileTest::SetUp();
    write_rules();
    write_text(layout().rules() / "slurm.ninja", "# launcher\n");
    project_.executor = "slurm";
    project_.slurm_jobs = 5;
    project_.slurm_default.partition = "gpu";
    project_.slurm_kinds["quant"].time = "1:00:00";
  }
  ninja::BuildFileOptions options() {
    ninja::BuildFileOptions o{"/bin/qbuild --project /p", 2};
    o.project = &project_;
    o.local_pool_depth = 3;
    return o;
  }
  // The lines of the edge whose output is `key`'s stamp, up to the next edge.
  static std::string edge(const std::string& text, const std::string& stamp) {
    auto at = text.find("build " + stamp + ":");
    if (at == std::string::npos) return "";
    auto end = text.find("\nbuild ", at + 1);
    return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
  }
  spec::ProjectSpec project_;
};

TEST_F(SlurmBuildFileTest, GpuEdgesRunThroughSrunInTheSlurmPool) {
  Graph g = build(tiny());
  auto text = generate_build_file(g, *select_targets(g, {}), layout(), options());
  ASSERT_TRUE(text.is_ok()) << text.status().to_string();
  EXPECT_NE(text->find("pool slurm\n  depth = 5\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("pool local\n  depth = 3\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("include " + layout().rules().string() + "/slurm.ninja\n"), std::string::npos);
  std::string q = key(g, "quant", "tiny-rtn");
  const Node& qn = g.node(find(g, "quant", "tiny-rtn"));
  EXPECT_EQ(edge(*text, stamp_path(layout(), q)),
            "build " + stamp_path(layout(), q) + ": quant || " + stamp_path(layout(), key(g, "check", "models/tiny")) + "\n"
            "  key = " + q + "\n"
            "  desc = tiny-rtn\n"
            // Ninja's escaping ($$ is a $ for the shell) and shell quoting (options with ':').
            "  launcher = /bin/qbuild --project /p job " + q + " -- srun --quit-on-interrupt --job-name=" + qn.log_name +
            " --comment=\"qbuild:$$QBUILD_JOB_TAG:" + q + "\" --partition=gpu '--time=1:00:00' '--gres=gpu:1' -- \n"
            "  pool = slurm");
  std::string gen = key(g, "generate", "tiny-rtn");
  EXPECT_NE(edge(*text, stamp_path(layout(), gen)).find("--partition=gpu '--gres=gpu:1' -- \n  pool = slurm"), std::string::npos)
      << edge(*text, stamp_path(layout(), gen));
  for (auto [kind, name] : {std::pair{"check", "models/tiny"}, {"sample", "mmlu"}, {"score", "tiny-rtn"}}) {
    std::string e = edge(*text, stamp_path(layout(), key(g, kind, name)));
    EXPECT_EQ(e.find("launcher"), std::string::npos) << e;
    EXPECT_NE(e.find("  pool = local"), std::string::npos) << e;
  }
}

TEST_F(SlurmBuildFileTest, CpuKindListedUnderSlurmRunsAsAJobWithoutAGpu) {
  project_.slurm_kinds["score"].mem = "8G";
  Graph g = build(tiny());
  auto text = generate_build_file(g, *select_targets(g, {}), layout(), options());
  ASSERT_TRUE(text.is_ok());
  std::string e = edge(*text, stamp_path(layout(), key(g, "score", "tiny-rtn")));
  EXPECT_NE(e.find("--partition=gpu --mem=8G -- \n  pool = slurm"), std::string::npos) << e;
  EXPECT_EQ(e.find("--gres"), std::string::npos) << e;
}

TEST_F(SlurmBuildFileTest, CachedNodeIsNeverSubmitted) {
  Graph g = build(tiny());
  auto o = options();
  std::string q = key(g, "quant", "tiny-rtn");
  o.cached.insert(q);
  auto text = generate_build_file(g, *select_targets(g, {}), layout(), o);
  ASSERT_TRUE(text.is_ok());
  EXPECT_EQ(edge(*text, stamp_path(layout(), q)).find("srun"), std::string::npos);
  EXPECT_NE(edge(*text, stamp_path(layout(), key(g, "generate", "tiny-rtn"))).find("srun"), std::string::npos);
}

TEST_F(SlurmBuildFileTest, LocalExecutorHasNoSlurmPoolOrLauncher) {
  project_.executor = "local";
  Graph g = build(tiny());
  auto text = generate_build_file(g, *select_targets(g, {}), layout(), options());
  ASSERT_TRUE(text.is_ok());
  EXPECT_EQ(text->find("slurm"), std::string::npos) << *text;
  EXPECT_EQ(text->find("launcher"), std::string::npos) << *text;
}

TEST_F(SlurmBuildFileTest, MissingSlurmRuleIsNotFound) {
  std::filesystem::remove(layout().rules() / "slurm.ninja");
  Graph g = build(tiny());
  auto text = generate_build_file(g, *select_targets(g, {}), layout(), options());
  ASSERT_FALSE(text.is_ok());
  EXPECT_NE(text.status().message().find("for executor: slurm is missing"), std::string::npos) << text.status().message();
}

TEST_F(BuildFileTest, NodeSpecOfGenerateNamesInputsAndPaths) {
  GraphInput in = tiny();
  Graph g = build(in);
  int e = find(g, "generate", "tiny-rtn");
  json spec = node_spec(g, e, layout());
  std::string q = key(g, "quant", "tiny-rtn"), s = key(g, "sample", "mmlu");
  EXPECT_EQ(spec["format"], 1);
  EXPECT_EQ(spec["key"], g.node(e).key);
  EXPECT_EQ(spec["kind"], "generate");
  EXPECT_EQ(spec["name"], "tiny-rtn");
  EXPECT_EQ(spec["identity"], "generate:mmlu/original/rtn");
  EXPECT_EQ(spec["config_file"], "pipline/eval/mmlu.yaml");
  EXPECT_EQ(spec["params"], in.evals[0].generate.to_json());  // exactly the spec's canonical JSON
  EXPECT_EQ(spec["settings"], json({{"work_dir", ""}, {"dataset_name", "mmlu"}, {"variant", "tiny-rtn"},
                                    {"trans", "original"}, {"quant", "rtn"}}));
  EXPECT_EQ(spec["code_version"], 1);
  EXPECT_EQ(spec["gpu"], true);
  EXPECT_EQ(spec["log_name"], "tiny-rtn_mmlu_generate");
  EXPECT_EQ(spec["links"], json::array());
  EXPECT_EQ(spec["inputs"], json::array({
      {{"role", "model"}, {"key", q}, {"kind", "quant"}, {"name", "tiny-rtn"},
       {"path", "cache/objects/" + q.substr(0, 2) + "/" + q}, {"source", false}},
      {{"role", "eval_set"}, {"key", s}, {"kind", "sample"}, {"name", "mmlu"},
       {"path", "cache/objects/" + s.substr(0, 2) + "/" + s}, {"source", false}},
  }));
}

TEST_F(BuildFileTest, NodeSpecOfSourceInputUsesItsProjectPath) {
  Graph g = build(tiny());
  json spec = node_spec(g, find(g, "quant", "tiny-rtn"), layout());
  ASSERT_EQ(spec["inputs"].size(), 2u);
  EXPECT_EQ(spec["inputs"][0]["path"], "models/tiny");
  EXPECT_EQ(spec["inputs"][0]["source"], true);
  EXPECT_EQ(spec["inputs"][0]["kind"], "source_model");
  EXPECT_EQ(spec["links"], json::array({"data/models/tiny-rtn"}));
}

// The build skips writing a node file whose fingerprint it has seen (runner/output_memo.h), so
// every field node_spec() writes must move the fingerprint. params are covered by the key (the
// graph hashes them into it).
TEST_F(BuildFileTest, NodeSpecFingerprintChangesWithEveryFieldOfTheNodeFile) {
  const Graph base = build(tiny());
  const int gen = find(base, "generate", "tiny-rtn"), quant = find(base, "quant", "tiny-rtn");
  std::set<std::string> fields;
  const json spec = node_spec(base, gen, layout());
  for (auto it = spec.begin(); it != spec.end(); ++it) fields.insert(it.key());
  EXPECT_EQ(fields, (std::set<std::string>{"format", "key", "kind", "name", "identity", "config_file", "params",
                                           "settings", "inputs", "code_version", "gpu", "log_name", "links"}))
      << "node_spec() writes another field: feed it to node_spec_fingerprint() and add a case below";
  using Edit = std::function<void(Graph&, Node&)>;
  auto input = [](Graph& g, Node& n, std::size_t i) -> Node& { return g.nodes[static_cast<std::size_t>(n.inputs[i].node)]; };
  const std::vector<std::pair<std::string, Edit>> edits = {
      {"key (and so params, kind, code version, inputs' roles and keys)", [](Graph&, Node& n) { n.key[0] ^= 1; }},
      {"kind", [](Graph&, Node& n) { n.kind = "other"; }},
      {"name", [](Graph&, Node& n) { n.name += "x"; }},
      {"identity", [](Graph&, Node& n) { n.identity += "x"; }},
      {"config_file", [](Graph&, Node& n) { n.config_file += "x"; }},
      {"settings: a value", [](Graph&, Node& n) { n.settings["work_dir"] = "elsewhere"; }},
      {"settings: a new key", [](Graph&, Node& n) { n.settings["new"] = 1; }},
      {"code_version", [](Graph&, Node& n) { n.code_version += 1; }},
      {"gpu", [](Graph&, Node& n) { n.gpu = !n.gpu; }},
      {"log_name", [](Graph&, Node& n) { n.log_name += "x"; }},
      {"links", [](Graph&, Node& n) { n.links.push_back("data/models/x"); }},
      {"an input's role", [](Graph&, Node& n) { n.inputs[0].role = "other"; }},
      {"an input's key", [&](Graph& g, Node& n) { input(g, n, 0).key[0] ^= 1; }},
      {"an input's kind", [&](Graph& g, Node& n) { input(g, n, 0).kind = "other"; }},
      {"an input's name", [&](Graph& g, Node& n) { input(g, n, 0).name += "x"; }},
      {"the inputs", [](Graph&, Node& n) { n.inputs.pop_back(); }},
  };
  for (int node : {gen, quant}) {
    const std::string text = node_spec(base, node, layout()).dump(2);
    const Digest fp = node_spec_fingerprint(base, node);
    for (const auto& [what, edit] : edits) {
      Graph g = base;
      edit(g, g.nodes[static_cast<std::size_t>(node)]);
      ASSERT_NE(node_spec(g, node, layout()).dump(2), text) << what;
      EXPECT_NE(node_spec_fingerprint(g, node), fp) << base.node(node).kind << ": " << what;
    }
  }
  // A source input's path: the quant reads its model from the project.
  Graph g = base;
  g.nodes[static_cast<std::size_t>(g.node(quant).inputs[0].node)].source_path = "models/elsewhere";
  ASSERT_NE(node_spec(g, quant, layout()).dump(2), node_spec(base, quant, layout()).dump(2));
  EXPECT_NE(node_spec_fingerprint(g, quant), node_spec_fingerprint(base, quant));
  // And the same graph built again gives the same fingerprints.
  const Graph again = build(tiny());
  for (int node : {gen, quant}) EXPECT_EQ(node_spec_fingerprint(again, node), node_spec_fingerprint(base, node));
}

}  // namespace
}  // namespace qb::graph
